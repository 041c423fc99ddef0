//go:build unix

package command

import "syscall"

// OpenFileLimit is how many files and sockets this process may have open:
// one per socket, so it bounds the sockets a node holds. Go raises the soft
// limit to the hard one at start; the hard one is the system's to raise
// (ulimit -Hn, systemd's LimitNOFILE=).
func OpenFileLimit() uint64 {
	var rl syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &rl); err != nil {
		return 0
	}
	return rl.Cur
}
