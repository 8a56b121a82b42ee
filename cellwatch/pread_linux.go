package cellwatch

import (
	"syscall"
	"unsafe"
)

// preadProc is pread(2) of a procfs file without the Go runtime's
// system-call bookkeeping. An ordinary system call made while the proxy is
// idle wakes the runtime's monitor thread, which then polls every 20 µs
// until the proxy is idle again (kernel/rawio_linux.go has the same for
// the sockets); the samples at a cell's start and end were most of those
// wake-ups. A procfs read of stat, status, io or schedstat generates a few
// hundred bytes of text and never waits.
func preadProc(fd int, p []byte) (int, error) {
	r, _, e := syscall.RawSyscall6(syscall.SYS_PREAD64, uintptr(fd), uintptr(unsafe.Pointer(&p[0])), uintptr(len(p)), 0, 0, 0)
	if e != 0 {
		return 0, e
	}
	return int(r), nil
}
