package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// proc is a server running as a child process, measured from /proc.
type proc struct {
	name    string
	addr    string
	cmd     *exec.Cmd
	done    chan struct{}
	logPath string
	log     *os.File
	logf    func(format string, args ...any)
}

// startProc starts cmd and waits until it answers /healthz on addr.
func startProc(ctx context.Context, name string, cmd *exec.Cmd, addr, logPath string, logf func(string, ...any)) (*proc, error) {
	f, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	cmd.Stdout, cmd.Stderr = f, f
	if err := cmd.Start(); err != nil {
		f.Close()
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	p := &proc{name: name, addr: addr, cmd: cmd, done: make(chan struct{}), logPath: logPath, log: f, logf: logf}
	go func() { cmd.Wait(); close(p.done) }()
	hc := &http.Client{Timeout: time.Second}
	deadline := time.Now().Add(30 * time.Second)
	for {
		select {
		case <-p.done:
			out, _ := os.ReadFile(logPath)
			return nil, fmt.Errorf("%s exited before it answered /healthz:\n%s", name, out)
		case <-ctx.Done():
			p.stop()
			return nil, ctx.Err()
		default:
		}
		res, err := hc.Get("http://" + addr + "/healthz")
		if err == nil {
			io.Copy(io.Discard, res.Body)
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				break
			}
		}
		if time.Now().After(deadline) {
			p.stop()
			return nil, fmt.Errorf("%s did not answer /healthz within 30 s", name)
		}
		time.Sleep(50 * time.Millisecond)
	}
	logf("%s: pid %d on %s", name, p.pid(), addr)
	return p, nil
}

func (p *proc) pid() int { return p.cmd.Process.Pid }

// stop ends the server with SIGTERM (agora closes its sockets with 1012 and
// shuts down), killing it if it takes longer than 15 s.
func (p *proc) stop() {
	select {
	case <-p.done:
		p.log.Close()
		return
	default:
	}
	p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(15 * time.Second):
		p.logf("%s did not stop within 15 s: killed", p.name)
		p.cmd.Process.Kill()
		<-p.done
	}
	p.log.Close()
}

// cpu is the process's user plus system CPU time so far (all threads), from
// utime and stime in /proc/<pid>/stat.
func (p *proc) cpu() time.Duration {
	st, _ := readStat(p.pid())
	return st.cpu
}

func (p *proc) label() string { return p.name }

// cpuMeter is a process, or a tree of them, whose CPU time counts.
type cpuMeter interface {
	label() string
	cpu() time.Duration
}

// procStat is what the load generator reads from /proc/<pid>/stat.
type procStat struct {
	ppid     int
	cpu      time.Duration // utime + stime
	children time.Duration // cutime + cstime: children that exited and were waited for
}

func readStat(pid int) (procStat, bool) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	i := bytes.LastIndexByte(data, ')')
	if err != nil || i < 0 {
		return procStat{}, false
	}
	// The command name may hold spaces: fields are counted after its ')'.
	f := strings.Fields(string(data[i+1:]))
	if len(f) < 15 {
		return procStat{}, false
	}
	n := func(k int) int64 { v, _ := strconv.ParseInt(f[k], 10, 64); return v }
	const tick = time.Second / 100 // USER_HZ = 100
	return procStat{
		ppid:     int(n(1)),                         // field 4 of proc(5)
		cpu:      time.Duration(n(11)+n(12)) * tick, // fields 14 and 15
		children: time.Duration(n(13)+n(14)) * tick, // fields 16 and 17
	}, true
}

// procTree measures a server that works in child processes, as PostgreSQL
// does (a process per connection, plus its background workers).
type procTree struct {
	name string
	pid  int
}

func (t procTree) label() string { return t.name }

// cpu is the CPU time of the process, of its living children, and of the
// children that exited (the server waits for them, so the kernel adds
// theirs to its cutime and cstime).
func (t procTree) cpu() time.Duration {
	root, ok := readStat(t.pid)
	if !ok {
		return 0
	}
	sum := root.cpu + root.children
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == t.pid {
			continue
		}
		if st, ok := readStat(pid); ok && st.ppid == t.pid {
			sum += st.cpu + st.children
		}
	}
	return sum
}

// writes is the number of write system calls the process has made (syscw
// in /proc/<pid>/io): each is one socket write, so per delivery it says how
// well frames are batched.
func (p *proc) writes() int64 {
	return procField(fmt.Sprintf("/proc/%d/io", p.pid()), "syscw:")
}

// rss is the process's resident memory in bytes.
func (p *proc) rss() int64 {
	return procField(fmt.Sprintf("/proc/%d/status", p.pid()), "VmRSS:") << 10
}

// procField reads the number after prefix in a /proc file of "name: value" lines.
func procField(path, prefix string) int64 {
	data, err := os.ReadFile(path)
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(data), "\n") {
		if rest, ok := strings.CutPrefix(line, prefix); ok {
			n, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			return n
		}
	}
	return 0
}

// machineBusy is the CPU time all processes of the machine have used, from
// the first line of /proc/stat (user nice system idle iowait irq softirq steal).
func machineBusy() time.Duration {
	data, _ := os.ReadFile("/proc/stat")
	line, _, _ := bytes.Cut(data, []byte("\n"))
	f := strings.Fields(string(line))
	var busy int64
	for i, v := range f[1:] {
		if i == 3 || i == 4 || i >= 8 { // idle, iowait; guest time is already in user
			continue
		}
		n, _ := strconv.ParseInt(v, 10, 64)
		busy += n
	}
	return time.Duration(busy) * (time.Second / 100)
}

// selfCPU is the load generator's own CPU time.
func selfCPU() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func numCPU() int {
	data, _ := os.ReadFile("/proc/cpuinfo")
	return max(bytes.Count(data, []byte("processor\t:")), 1)
}

// waitQuiet waits, at most 30 s, until the rest of the machine uses
// under 15% of its CPUs, so that the phase after it is measured alone; it
// says so when it gives up (the table's contention line shows the effect).
func waitQuiet(ctx context.Context, what string, logf func(string, ...any)) {
	cpus := float64(numCPU())
	deadline := time.Now().Add(30 * time.Second)
	for ctx.Err() == nil {
		b0, s0 := machineBusy(), selfCPU()
		time.Sleep(time.Second)
		busy := (machineBusy() - b0 - (selfCPU() - s0)).Seconds() / cpus
		if busy < 0.15 {
			return
		}
		if time.Now().After(deadline) {
			logf("%s: the machine is still %.0f%% busy with other work after 30 s: measuring anyway", what, busy*100)
			return
		}
	}
}

func raiseNofile() (uint64, error) {
	var rl syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &rl); err != nil {
		return 0, err
	}
	rl.Cur = rl.Max
	return rl.Cur, syscall.Setrlimit(syscall.RLIMIT_NOFILE, &rl)
}

func freeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}

func countInFile(path, s string) int {
	data, _ := os.ReadFile(path)
	return bytes.Count(data, []byte(s))
}

// perfRecord records the server's CPU with perf, after a delay, for a while;
// the report (self time by symbol, and cumulative) is written to prefix.txt.
func perfRecord(pid int, prefix string, delay, d time.Duration, logf func(string, ...any)) chan struct{} {
	done := make(chan struct{})
	if _, err := exec.LookPath("perf"); err != nil {
		logf("-perf: no perf on PATH")
		close(done)
		return done
	}
	go func() {
		defer close(done)
		time.Sleep(delay)
		data := prefix + ".data"
		rec := exec.Command("perf", "record", "-F", "499", "-g", "-p", strconv.Itoa(pid), "-o", data, "--", "sleep", strconv.Itoa(int(d.Seconds())))
		if out, err := rec.CombinedOutput(); err != nil {
			logf("perf record: %v\n%s", err, out)
			return
		}
		var report bytes.Buffer
		for _, args := range [][]string{
			{"report", "-i", data, "--stdio", "--no-children", "--sort", "symbol", "-g", "none", "--percent-limit", "0.5"},
			{"report", "-i", data, "--stdio", "--children", "--sort", "symbol", "-g", "none", "--percent-limit", "3"},
		} {
			out, _ := exec.Command("perf", args...).Output()
			report.WriteString("$ perf " + strings.Join(args, " ") + "\n")
			report.Write(out)
		}
		os.WriteFile(prefix+".txt", report.Bytes(), 0o644)
		os.Remove(data)
	}()
	return done
}

// repoRoot is the directory of agora's go.mod, found from the working
// directory upwards: the program is built from there.
func repoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		data, err := os.ReadFile(filepath.Join(dir, "go.mod"))
		if err == nil && bytes.HasPrefix(data, []byte("module agora\n")) {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("agora's go.mod not found above the working directory")
		}
		dir = parent
	}
}
