package kernel

import (
	"io"
	"net"
	"os"
	"syscall"
	"unsafe"
)

// The forwarding path reads and writes its TCP sockets with raw system
// calls. Go's runtime wraps every ordinary system call in entersyscall and
// exitsyscall, and the first one after the proxy has been idle wakes the
// runtime's monitor thread (sysmon), which then polls every 20 µs until the
// proxy is idle again: a thread woken on one of the two cores that the
// wrapped kernel and the frontend need, several times per cell. A read or
// write on a non-blocking socket never blocks, so it needs none of that
// bookkeeping; waiting for readiness still goes through the netpoller
// (syscall.RawConn), so deadlines and Close work as for any net.Conn.
// Measured: 12 % less proxy CPU per trivial cell (bench/RESULTS.md).

// rawTCP is a TCP connection whose Read and Write skip the runtime's
// system-call bookkeeping.
type rawTCP struct {
	*net.TCPConn
	rc syscall.RawConn
}

// rawSocket returns c with raw reads and writes when it is a TCP
// connection, else c unchanged.
func rawSocket(c net.Conn) net.Conn {
	t, ok := c.(*net.TCPConn)
	if !ok {
		return c
	}
	rc, err := t.SyscallConn()
	if err != nil {
		return c
	}
	return &rawTCP{TCPConn: t, rc: rc}
}

// rawRead is read(2) on a non-blocking descriptor, without the runtime's
// system-call bookkeeping.
func rawRead(fd uintptr, p []byte) (int, syscall.Errno) {
	r, _, e := syscall.RawSyscall(syscall.SYS_READ, fd, uintptr(unsafe.Pointer(&p[0])), uintptr(len(p)))
	return int(r), e
}

// rawWrite is write(2) on a non-blocking descriptor, likewise.
func rawWrite(fd uintptr, p []byte) (int, syscall.Errno) {
	r, _, e := syscall.RawSyscall(syscall.SYS_WRITE, fd, uintptr(unsafe.Pointer(&p[0])), uintptr(len(p)))
	return int(r), e
}

// writeNonblock makes one write attempt; EAGAIN comes back as an error.
func writeNonblock(fd uintptr, p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	for {
		n, e := rawWrite(fd, p)
		switch e {
		case 0:
			return n, nil
		case syscall.EINTR:
			continue
		}
		return 0, e
	}
}

func (c *rawTCP) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	var n int
	var errno syscall.Errno
	err := c.rc.Read(func(fd uintptr) bool {
		for {
			n, errno = rawRead(fd, p)
			if errno != syscall.EINTR {
				return errno != syscall.EAGAIN
			}
		}
	})
	switch {
	case err != nil:
		return 0, c.opError("read", err)
	case errno != 0:
		return 0, c.opError("read", os.NewSyscallError("read", errno))
	case n == 0:
		return 0, io.EOF
	}
	return n, nil
}

func (c *rawTCP) Write(p []byte) (int, error) {
	done := 0
	var errno syscall.Errno
	err := c.rc.Write(func(fd uintptr) bool {
		for done < len(p) {
			n, e := rawWrite(fd, p[done:])
			switch e {
			case 0:
				done += n
			case syscall.EINTR:
			case syscall.EAGAIN:
				return false // wait until writable
			default:
				errno = e
				return true
			}
		}
		return true
	})
	switch {
	case err != nil:
		return done, c.opError("write", err)
	case errno != 0:
		return done, c.opError("write", os.NewSyscallError("write", errno))
	}
	return done, nil
}

func (c *rawTCP) opError(op string, err error) error {
	return &net.OpError{Op: op, Net: "tcp", Source: c.LocalAddr(), Addr: c.RemoteAddr(), Err: err}
}
