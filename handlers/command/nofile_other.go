//go:build !unix

package command

// OpenFileLimit is unknown here (0).
func OpenFileLimit() uint64 { return 0 }
