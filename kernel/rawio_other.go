//go:build !linux

package kernel

import (
	"net"
	"syscall"
)

// rawSocket returns c: raw system calls are used on Linux only.
func rawSocket(c net.Conn) net.Conn { return c }

// writeSome writes p until the non-blocking socket takes no more.
func writeSome(fd uintptr, p []byte) (int, syscall.Errno) {
	n := 0
	for n < len(p) {
		k, err := syscall.Write(int(fd), p[n:])
		switch {
		case err == nil:
			n += k
		case err == syscall.EINTR:
		case err == syscall.EAGAIN:
			return n, 0
		default:
			e, _ := err.(syscall.Errno)
			return n, e
		}
	}
	return n, 0
}
