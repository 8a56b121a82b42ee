package kernel

import (
	"os"
	"syscall"
)

// inlineWriter is the inline write of a peer's queue (peerqueue.go, for
// the ROUTER sockets, and pubqueue.go, for iopub): the sending goroutine
// writes one encoded message itself, as far as the socket takes it at
// once, never waiting, and leaves the rest to the queue's writer. This
// saves the writer goroutine's wake-up on the way of most messages. The
// queue calls write only while it is marked busy, so one goroutine at a
// time uses it.
type inlineWriter struct {
	raw   syscall.RawConn // a NULL peer's socket, nil if it has none
	curve *curveConn      // an encrypted peer's connection, nil for NULL

	// The write in progress, made once per peer so that no write
	// allocates a closure.
	wp  []byte
	wn  int
	we  syscall.Errno
	wfn func(fd uintptr) bool
}

// newInlineWriter sets up the inline write on conn (the connection under
// any wrappers). It returns nil when conn has no way to write without
// waiting: the queue then always queues.
func newInlineWriter(conn any) *inlineWriter {
	w := &inlineWriter{}
	if cc, ok := conn.(*curveConn); ok {
		w.curve = cc
	} else if sc, ok := conn.(syscall.Conn); ok {
		w.raw, _ = sc.SyscallConn()
	}
	if w.raw == nil && w.curve == nil {
		return nil
	}
	w.wfn = w.writeSome
	return w
}

// write puts msg, one whole encoded message, on the wire as far as it goes
// at once. rest is what the queue's writer must still write, ahead of
// anything queued: nil when nothing; the unwritten bytes (a copy: msg may
// be reused); all of msg when an encrypted connection could not try (the
// handshake or an earlier message under way); or an empty slice when it
// keeps the sealed rest itself (the writer's empty Write flushes it). An
// error means the connection is broken.
func (w *inlineWriter) write(msg []byte) (rest []byte, err error) {
	if w.curve != nil {
		tried, held, err := w.curve.writeNow(msg)
		switch {
		case err != nil:
			return nil, err
		case !tried:
			return append([]byte(nil), msg...), nil
		case held:
			return []byte{}, nil
		}
		return nil, nil
	}
	w.wp, w.wn, w.we = msg, 0, 0
	err = w.raw.Write(w.wfn)
	n, errno := w.wn, w.we
	w.wp = nil
	if err == nil && errno != 0 {
		err = os.NewSyscallError("write", errno)
	}
	if err != nil || n == len(msg) {
		return nil, err
	}
	return append([]byte(nil), msg[n:]...), nil
}

// writeSome is write's RawConn callback: write(2) until the socket takes
// no more, never waiting for it.
func (w *inlineWriter) writeSome(fd uintptr) bool {
	var n int
	n, w.we = writeSome(fd, w.wp[w.wn:])
	w.wn += n
	return true
}
