//go:build !linux

package cellwatch

import "syscall"

// preadProc is pread(2); raw system calls are used on Linux only.
func preadProc(fd int, p []byte) (int, error) { return syscall.Pread(fd, p, 0) }
