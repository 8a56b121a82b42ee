package kernel

import (
	"io"
	"net"
)

// outMsg is a queued message, or a command frame when cmd is set.
type outMsg struct {
	frames [][]byte
	cmd    []byte
}

// enqueue adds a message to the subscriber's queue, dropping it (counted)
// when the queue is over its byte bound.
func (s *subscriber) enqueue(frames [][]byte) {
	size := 0
	for _, f := range frames {
		size += len(f)
	}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return
	}
	if s.queued > 0 && s.queued+size > s.pub.maxQueue {
		s.mu.Unlock()
		if n := s.pub.dropped.Add(1); n == 1 || n%1000 == 0 {
			s.pub.log.Warn("iopub subscriber is not reading: dropping messages for it",
				"peer", s.conn.RemoteAddr().String(), "dropped_total", n)
		}
		return
	}
	s.queue = append(s.queue, outMsg{frames: frames})
	s.queued += size
	s.mu.Unlock()
	s.cond.Signal()
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
		for len(s.queue) == 0 && !s.closed {
			s.cond.Wait()
		}
		if s.closed {
			s.mu.Unlock()
			return
		}
		batch := s.queue
		s.queue = nil
		s.queued = 0
		s.busy = true
		s.mu.Unlock()

		var bufs net.Buffers
		for _, m := range batch {
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
		s.mu.Unlock()
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
	s.mu.Unlock()
	s.cond.Broadcast()
	_ = s.conn.Close()
	p := s.pub
	p.mu.Lock()
	delete(p.subs, s)
	p.mu.Unlock()
}

func readFull(r io.Reader, b []byte) (int, error) { return io.ReadFull(r, b) }
