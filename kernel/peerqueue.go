package kernel

import (
	"errors"
	"log/slog"
	"net"
	"os"
	"sync"
	"time"
)

// peerQueue gives one frontend peer of a router its own bounded queue, as
// libzmq's ROUTER gives each peer its own pipe: a peer that stops reading
// fills only its own queue, and the forwarding goroutine, which serves
// every peer of the channel, never waits on it. A message for a peer with
// nothing queued is written at once by the sender with one non-blocking
// write (no goroutine hand-off on the way of a reply); what the socket does
// not take goes to the queue, which the peer's writer goroutine drains.
type peerQueue struct {
	c        *zconn
	inline   *inlineWriter // send's inline writes; nil: always queue
	log      *slog.Logger
	logEvery time.Duration // how often a blocked write is logged
	cond     *sync.Cond    // on mu: queued work, or closed

	mu      sync.Mutex
	queue   net.Buffers // encoded messages, in order
	queued  int         // bytes in queue
	busy    bool        // the wire is being written (inline or by the writer)
	closed  bool
	dropped uint64
}

// Per-peer bounds: libzmq's default SNDHWM is 1000 messages; the byte
// bound keeps a peer that stopped reading 1 MB replies from costing more
// than this. A single message larger than the bound is still queued when
// nothing else is (a suspended console's 200 MB reply reaches it when it
// resumes).
const (
	maxPeerQueueMsgs  = 1000
	maxPeerQueueBytes = 64 << 20
)

// blockedLogEvery is how long the writer waits on a peer that does not
// read before it logs that, and again while the peer stays blocked.
const blockedLogEvery = 5 * time.Second

func newPeerQueue(c *zconn, log *slog.Logger, logEvery time.Duration) *peerQueue {
	q := &peerQueue{c: c, log: log, logEvery: logEvery}
	q.cond = sync.NewCond(&q.mu)
	q.inline = newInlineWriter(c.w)
	return q
}

// send writes or queues one message; it never blocks on the network. A
// message past the bounds is dropped for this peer (counted and logged).
func (q *peerQueue) send(frames [][]byte) {
	q.mu.Lock()
	if q.closed {
		q.mu.Unlock()
		return
	}
	if len(q.queue) == 0 && !q.busy && q.inline != nil {
		q.busy = true
		q.mu.Unlock()
		q.writeInline(frames)
		return
	}
	if len(q.queue) > 0 && (len(q.queue) >= maxPeerQueueMsgs || q.queued >= maxPeerQueueBytes) {
		q.dropped++
		n := q.dropped
		q.mu.Unlock()
		if n == 1 || n%1000 == 0 {
			q.log.Warn("frontend peer is not reading: dropping messages for it",
				"peer", q.c.nc.RemoteAddr().String(), "dropped", n)
		}
		return
	}
	q.push(appendMessage(nil, frames))
	q.mu.Unlock()
	q.cond.Signal()
}

// sendCmd queues a command frame (a PONG) behind what is queued.
func (q *peerQueue) sendCmd(body []byte) {
	q.mu.Lock()
	if !q.closed {
		q.push(appendFrame(nil, body, flagCommand))
	}
	q.mu.Unlock()
	q.cond.Signal()
}

// push appends an encoded message; mu held.
func (q *peerQueue) push(b []byte) {
	q.queue = append(q.queue, b)
	q.queued += len(b)
}

// writeInline writes a message with busy held, using the zconn's buffer,
// and queues what the socket did not take.
func (q *peerQueue) writeInline(frames [][]byte) {
	c := q.c
	buf := appendMessage(c.wbuf[:0], frames)
	rest, err := q.inline.write(buf)
	if cap(buf) > maxKeptWriteBuf {
		buf = nil
	}
	c.wbuf = buf[:0]
	q.mu.Lock()
	q.busy = false
	if err != nil {
		q.mu.Unlock()
		c.close() // the peer's reader ends and closes the queue
		return
	}
	if rest != nil {
		q.queue = append(net.Buffers{rest}, q.queue...)
		q.queued += len(rest)
	}
	pending := len(q.queue) > 0
	q.mu.Unlock()
	if pending {
		q.cond.Signal()
	}
}

// writeLoop drains the queue until the queue closes or a write fails. A
// write blocked on the peer is logged every logEvery.
func (q *peerQueue) writeLoop() {
	for {
		q.mu.Lock()
		for (len(q.queue) == 0 || q.busy) && !q.closed {
			q.cond.Wait()
		}
		if q.closed {
			q.mu.Unlock()
			return
		}
		batch := q.queue
		q.queue, q.queued, q.busy = nil, 0, true
		q.mu.Unlock()
		err := q.writeAll(batch)
		q.mu.Lock()
		q.busy = false
		q.mu.Unlock()
		if err != nil {
			q.c.close()
			return
		}
	}
}

func (q *peerQueue) writeAll(bufs net.Buffers) error {
	nc, ok := q.c.w.(net.Conn)
	if !ok {
		_, err := bufs.WriteTo(q.c.w)
		return err
	}
	defer nc.SetWriteDeadline(time.Time{})
	for since := time.Now(); len(bufs) > 0; {
		_ = nc.SetWriteDeadline(time.Now().Add(q.logEvery))
		_, err := bufs.WriteTo(nc)
		if errors.Is(err, os.ErrDeadlineExceeded) {
			if len(bufs) == 0 {
				// An encrypted connection took it all and holds the
				// sealed rest: an empty write puts that on the wire.
				bufs = net.Buffers{[]byte{}}
			}
			q.mu.Lock()
			queued := q.queued
			q.mu.Unlock()
			q.log.Warn("frontend peer is not reading: its messages wait",
				"peer", nc.RemoteAddr().String(), "blocked", time.Since(since).Round(time.Second).String(),
				"queued_bytes", queued)
			continue
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// close ends the writer; queued messages are dropped (the peer is gone).
func (q *peerQueue) close() {
	q.mu.Lock()
	q.closed = true
	q.queue, q.queued = nil, 0
	q.mu.Unlock()
	q.cond.Broadcast()
}
