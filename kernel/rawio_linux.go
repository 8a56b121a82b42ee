package kernel

import (
	"io"
	"net"
	"os"
	"sync"
	"syscall"
	"unsafe"
)

// The forwarding path reads and writes its sockets with raw system
// calls. Go's runtime wraps every ordinary system call in entersyscall and
// exitsyscall, and the first one after the proxy has been idle wakes the
// runtime's monitor thread (sysmon), which then polls every 20 µs until the
// proxy is idle again: a thread woken on one of the two cores that the
// wrapped kernel and the frontend need, several times per cell. A read or
// write on a non-blocking socket never blocks, so it needs none of that
// bookkeeping; waiting for readiness still goes through the netpoller
// (syscall.RawConn), so deadlines and Close work as for any net.Conn.
// Measured: 12 % less proxy CPU per trivial cell (bench/RESULTS.md).

// rawSock is a TCP or unix-domain connection (the frontends, and the ipc
// hop to the wrapped kernel) whose Read and Write skip the runtime's
// system-call bookkeeping. The functions handed to the RawConn are made
// once per connection (a closure per call would be an allocation per
// call); each direction's state is guarded by its own lock.
type rawSock struct {
	net.Conn
	sc  syscall.Conn
	rc  syscall.RawConn
	rmu sync.Mutex
	r   rawOp
	wmu sync.Mutex
	w   rawOp
}

// rawOp is one direction's call in progress.
type rawOp struct {
	p     []byte
	n     int
	errno syscall.Errno
	fn    func(fd uintptr) bool
}

// rawSocket returns c with raw reads and writes when it is a TCP or
// unix-domain connection, else c unchanged.
func rawSocket(c net.Conn) net.Conn {
	var sc syscall.Conn
	switch t := c.(type) {
	case *net.TCPConn:
		sc = t
	case *net.UnixConn:
		sc = t
	default:
		return c
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return c
	}
	raw := &rawSock{Conn: c, sc: sc, rc: rc}
	raw.r.fn, raw.w.fn = raw.readOnce, raw.writeAll
	return raw
}

// SyscallConn is the socket's own: the queues' inline writes use it.
func (c *rawSock) SyscallConn() (syscall.RawConn, error) { return c.sc.SyscallConn() }

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

// writeSome is write(2) on a non-blocking descriptor until the socket
// takes no more of p, never waiting for it: it returns how much was
// written and the error that stopped it (0 for a full socket or all of p).
func writeSome(fd uintptr, p []byte) (int, syscall.Errno) {
	n := 0
	for n < len(p) {
		k, e := rawWrite(fd, p[n:])
		switch e {
		case 0:
			n += k
		case syscall.EINTR:
		case syscall.EAGAIN:
			return n, 0
		default:
			return n, e
		}
	}
	return n, 0
}

func (c *rawSock) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	c.rmu.Lock()
	c.r.p, c.r.n, c.r.errno = p, 0, 0
	err := c.rc.Read(c.r.fn)
	n, errno := c.r.n, c.r.errno
	c.r.p = nil
	c.rmu.Unlock()
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

// readOnce is the RawConn callback of Read: one read(2), retried on
// EINTR; false (wait for data) on EAGAIN.
func (c *rawSock) readOnce(fd uintptr) bool {
	for {
		c.r.n, c.r.errno = rawRead(fd, c.r.p)
		if c.r.errno != syscall.EINTR {
			return c.r.errno != syscall.EAGAIN
		}
	}
}

func (c *rawSock) Write(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	c.wmu.Lock()
	c.w.p, c.w.n, c.w.errno = p, 0, 0
	err := c.rc.Write(c.w.fn)
	done, errno := c.w.n, c.w.errno
	c.w.p = nil
	c.wmu.Unlock()
	switch {
	case err != nil:
		return done, c.opError("write", err)
	case errno != 0:
		return done, c.opError("write", os.NewSyscallError("write", errno))
	}
	return done, nil
}

// writeAll is the RawConn callback of Write: write(2) until all of p is
// written or an error; false (wait until writable) on EAGAIN.
func (c *rawSock) writeAll(fd uintptr) bool {
	for c.w.n < len(c.w.p) {
		n, e := rawWrite(fd, c.w.p[c.w.n:])
		switch e {
		case 0:
			c.w.n += n
		case syscall.EINTR:
		case syscall.EAGAIN:
			return false
		default:
			c.w.errno = e
			return true
		}
	}
	return true
}

func (c *rawSock) opError(op string, err error) error {
	return &net.OpError{Op: op, Net: c.LocalAddr().Network(), Source: c.LocalAddr(), Addr: c.RemoteAddr(), Err: err}
}
