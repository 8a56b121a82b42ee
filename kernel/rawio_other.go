//go:build !linux

package kernel

import (
	"net"
	"syscall"
)

// rawSocket returns c: raw system calls are used on Linux only.
func rawSocket(c net.Conn) net.Conn { return c }

// writeNonblock makes one write attempt; EAGAIN comes back as an error.
func writeNonblock(fd uintptr, p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	n, err := syscall.Write(int(fd), p)
	if err != nil {
		return 0, err
	}
	return n, nil
}
