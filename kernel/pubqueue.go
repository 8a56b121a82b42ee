package kernel

import (
	"io"
	"net"
)

// outMsg is a queued message, a command frame when cmd is set, or the
// encoded rest of a message written in part when raw is set.
type outMsg struct {
	frames [][]byte
	cmd    []byte
	raw    []byte
}

// inlineMax: a message up to this size, for a subscriber with nothing
// queued, is written by Send itself with one non-blocking write; what the
// socket does not take at once goes to the queue. This saves the writer
// goroutine's wake-up on the way of every status message.
const inlineMax = 64 << 10

// enqueue adds a message to the subscriber's queue, dropping it (counted)
// when limit bytes are already queued. A queue reaching the bound marks the
// subscriber behind (Send then waits, unless another keeps up).
func (s *subscriber) enqueue(frames [][]byte, limit int) {
	size := 0
	for _, f := range frames {
		size += len(f)
	}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return
	}
	if len(s.queue) == 0 && !s.busy && size <= inlineMax && s.inline != nil {
		s.busy = true
		s.mu.Unlock()
		s.writeInline(frames)
		return
	}
	if pending := s.queued + s.inflight; pending > 0 && pending >= limit {
		s.mu.Unlock()
		if n := s.pub.dropped.Add(1); n == 1 || n%1000 == 0 {
			s.pub.log.Warn("iopub subscriber is not reading: dropping messages for it",
				"peer", s.conn.RemoteAddr().String(), "dropped_total", n)
		}
		return
	}
	s.queue = append(s.queue, outMsg{frames: frames})
	s.queued += size
	s.checkBehind()
	s.mu.Unlock()
	s.cond.Signal()
}

// checkBehind marks the subscriber behind once what it has not taken yet
// (queued, and the batch its writer holds) reaches the bound; mu held. The
// batch counts: a stalled subscriber's writer holds one forever, and with
// an empty queue it must not pass for one that keeps up.
func (s *subscriber) checkBehind() {
	if !s.behind && s.queued+s.inflight >= s.pub.maxQueue {
		s.behind = true
		s.pub.behind.Add(1)
	}
}

// caughtUp clears behind once the subscriber is under the bound again,
// with mu held; it reports whether it did (the caller then wakes waiting
// Sends, after releasing mu).
func (s *subscriber) caughtUp() bool {
	if !s.behind || s.queued+s.inflight >= s.pub.maxQueue {
		return false
	}
	s.behind = false
	s.pub.behind.Add(-1)
	return true
}

// writeInline writes a message while the subscriber is marked busy, and
// queues what the socket did not take.
func (s *subscriber) writeInline(frames [][]byte) {
	buf := appendMessage(s.wbuf[:0], frames)
	rest, err := s.inline.write(buf)
	if cap(buf) > maxKeptWriteBuf {
		buf = nil
	}
	s.wbuf = buf[:0]
	s.mu.Lock()
	s.busy = false
	if err != nil {
		// Send holds the socket's lock, which close takes: cut the
		// connection, and the reader's exit closes the subscriber.
		s.mu.Unlock()
		_ = s.conn.Close()
		s.cond.Signal()
		return
	}
	if rest != nil {
		// Ahead of whatever was queued meanwhile.
		s.queue = append([]outMsg{{raw: rest}}, s.queue...)
		s.queued += len(rest)
		s.checkBehind()
	}
	pending := len(s.queue) > 0
	s.mu.Unlock()
	if pending {
		s.cond.Signal()
	}
}

// enqueueRaw queues a command body to be written as a single command frame.
func (s *subscriber) enqueueRaw(cmd []byte) {
	s.mu.Lock()
	if !s.closed {
		s.queue = append(s.queue, outMsg{cmd: cmd})
	}
	s.mu.Unlock()
	s.cond.Signal()
}

// writeLoop writes queued messages, as many as are waiting in one writev.
func (s *subscriber) writeLoop() {
	defer s.pub.wg.Done()
	for {
		s.mu.Lock()
		for (len(s.queue) == 0 || s.busy) && !s.closed {
			s.cond.Wait() // busy: Send is writing inline
		}
		if s.closed {
			s.mu.Unlock()
			return
		}
		batch := s.queue
		s.queue = nil
		s.inflight, s.queued = s.queued, 0
		s.busy = true
		s.mu.Unlock()

		var bufs net.Buffers
		for _, m := range batch {
			if m.raw != nil {
				bufs = append(bufs, m.raw)
				continue
			}
			if m.cmd != nil {
				var hdr [9]byte
				n := frameHeader(&hdr, len(m.cmd), flagCommand)
				bufs = append(bufs, hdr[:n], m.cmd)
				continue
			}
			bufs = append(bufs, encodeMessage(m.frames)...)
		}
		_, err := bufs.WriteTo(s.conn)
		s.mu.Lock()
		s.busy = false
		s.inflight = 0
		woke := s.caughtUp()
		s.mu.Unlock()
		if woke {
			s.pub.wake()
		}
		if err != nil {
			s.close()
			return
		}
	}
}

// close drops the subscriber; safe to call more than once.
func (s *subscriber) close() {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return
	}
	s.closed = true
	s.queue = nil
	s.queued, s.inflight = 0, 0
	s.caughtUp()
	s.mu.Unlock()
	s.cond.Broadcast()
	_ = s.conn.Close()
	p := s.pub
	p.mu.Lock()
	delete(p.subs, s)
	p.room.Broadcast()
	p.mu.Unlock()
}

func readFull(r io.Reader, b []byte) (int, error) { return io.ReadFull(r, b) }
