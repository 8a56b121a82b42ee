package kernel

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// pubSocket is the frontend-facing iopub socket. It speaks ZMTP 3.0 PUB
// itself instead of using zmq4's PUB, for three reasons measured on zmq4
// v0.17.0: its PUB writes to subscribers one after another from one
// unbounded queue (one stalled subscriber stalls all and memory grows), it
// reports no subscriptions (ipykernel 7 greets each new subscriber with
// iopub_welcome), and it cannot be flushed before exit (advice about a dead
// kernel must reach the frontend). Each subscriber here has its own bounded
// queue and writer. When every subscriber is behind (its queue at the
// bound), Send waits: the forwarding goroutine stops reading from the
// wrapped kernel, whose own socket holds what comes next, as the plain
// kernel's socket does for a frontend that reads slowly. Only a subscriber
// behind while another keeps up loses messages (counted and logged), as a
// libzmq PUB drops at one subscriber's high-water mark.
type pubSocket struct {
	ln          net.Listener
	log         *slog.Logger
	maxQueue    int                               // bytes queued per subscriber before it counts as behind
	onSubscribe func(s *subscriber, topic []byte) // called from the subscriber's reader; must not block

	mu      sync.Mutex
	room    *sync.Cond // on mu: a subscriber caught up, left or joined
	subs    map[*subscriber]struct{}
	closed  bool
	wg      sync.WaitGroup
	behind  atomic.Int32 // subscribers whose queue is at the bound
	waiting atomic.Int32 // Sends waiting for room
	dropped atomic.Uint64
}

// subscriber is one connected SUB peer.
type subscriber struct {
	pub      *pubSocket
	conn     net.Conn
	mu       sync.Mutex
	cond     *sync.Cond
	queue    []outMsg
	queued   int           // bytes in queue
	inflight int           // bytes of the batch the writer holds
	inline   *inlineWriter // Send's inline writes; nil: always queue
	wbuf     []byte        // the inline write's encoding, kept between messages
	busy     bool          // the writer holds a batch, or Send writes inline
	behind   bool          // queued+inflight reached the bound (counted in pub.behind)
	topics   [][]byte
	closed   bool
}

// defaultPubQueue is how much a subscriber may have queued before it
// counts as behind. It only fills for a peer that reads slower than the
// kernel prints: a stalled one, or a frontend starved of CPU (measured
// here: a jupyter_client frontend on a loaded 2-core machine fell more than
// 64 MiB behind a cell printing 600 MB). Together with the GC headroom it
// is what a stalled peer costs us.
const defaultPubQueue = 128 << 20

// postSlack: our own messages (advice, status lines) never wait; they are
// dropped only for a subscriber this many bounds behind.
const postSlack = 2

// servePub serves iopub on ln (listenCurve's, for an encrypted socket),
// with onSubscribe set before any subscriber can connect.
func servePub(ln net.Listener, log *slog.Logger, onSubscribe func(*subscriber, []byte)) *pubSocket {
	p := &pubSocket{onSubscribe: onSubscribe, ln: ln, log: log, maxQueue: defaultPubQueue, subs: map[*subscriber]struct{}{}}
	p.room = sync.NewCond(&p.mu)
	p.wg.Add(1)
	go p.acceptLoop()
	return p
}

func (p *pubSocket) acceptLoop() {
	defer p.wg.Done()
	for {
		c, err := p.ln.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			p.log.Warn("iopub accept failed", "err", err)
			continue
		}
		s := &subscriber{pub: p, conn: c, inline: newInlineWriter(c)}
		s.cond = sync.NewCond(&s.mu)
		p.wg.Add(1)
		go s.serve()
	}
}

// Send queues frames for every subscriber whose subscription matches the
// first frame. It never waits on the network, only for room: while every
// matching subscriber is behind, it waits until one catches up or leaves
// (or the socket closes). A subscriber behind while another keeps up has
// the message dropped (counted and logged).
func (p *pubSocket) Send(frames [][]byte) { p.send(frames, true) }

// post is Send for our own messages: it never waits, and drops only for a
// subscriber postSlack bounds behind.
func (p *pubSocket) post(frames [][]byte) { p.send(frames, false) }

func (p *pubSocket) send(frames [][]byte, wait bool) {
	topic := topicOf(frames)
	limit := p.maxQueue
	if !wait {
		limit *= postSlack
	}
	p.mu.Lock()
	if wait && p.behind.Load() > 0 {
		p.waitRoom(topic)
	}
	p.deliver(topic, frames, limit)
	p.mu.Unlock()
}

// deliver queues frames for every subscriber of topic; mu held.
func (p *pubSocket) deliver(topic []byte, frames [][]byte, limit int) {
	for s := range p.subs {
		if s.matches(topic) {
			s.enqueue(frames, limit)
		}
	}
}

// sendNow is Send for a message that must not wait: it sends and returns
// true unless a subscriber is behind (Send might then wait for room), in
// which case it sends nothing.
func (p *pubSocket) sendNow(frames [][]byte) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.behind.Load() > 0 {
		return false
	}
	p.deliver(topicOf(frames), frames, p.maxQueue)
	return true
}

// topicOf is a message's topic for subscription matching: its first frame.
func topicOf(frames [][]byte) []byte {
	if len(frames) == 0 {
		return nil
	}
	return frames[0]
}

// waitRoom waits, with mu held, while every subscriber of topic is behind.
// waiting is raised before the check, so a writer that catches up after it
// takes mu and wakes us (see caughtUp).
func (p *pubSocket) waitRoom(topic []byte) {
	p.waiting.Add(1)
	for !p.closed && p.allBehind(topic) {
		p.room.Wait()
	}
	p.waiting.Add(-1)
}

func (p *pubSocket) allBehind(topic []byte) bool {
	n := 0
	for s := range p.subs {
		s.mu.Lock()
		match, behind := s.matchesLocked(topic), s.behind
		s.mu.Unlock()
		if !match {
			continue
		}
		if !behind {
			return false
		}
		n++
	}
	return n > 0
}

// wake tells waiting Sends that the subscribers changed; mu not held.
func (p *pubSocket) wake() {
	if p.waiting.Load() == 0 {
		return
	}
	p.mu.Lock()
	p.room.Broadcast()
	p.mu.Unlock()
}

// Subscribers returns the number of subscribers whose handshake completed.
func (p *pubSocket) Subscribers() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.subs)
}

// Flush waits until every queue has been written or ctx ends.
func (p *pubSocket) Flush(ctx context.Context) error {
	tick := time.NewTicker(2 * time.Millisecond)
	defer tick.Stop()
	for {
		if p.idle() {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-tick.C:
		}
	}
}

func (p *pubSocket) idle() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	for s := range p.subs {
		s.mu.Lock()
		pending := len(s.queue) > 0 || s.busy
		s.mu.Unlock()
		if pending {
			return false
		}
	}
	return true
}

// Close stops accepting, closes every subscriber and waits for their
// goroutines. It is safe to call twice.
func (p *pubSocket) Close() error {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return nil
	}
	p.closed = true
	p.room.Broadcast()
	subs := make([]*subscriber, 0, len(p.subs))
	for s := range p.subs {
		subs = append(subs, s)
	}
	p.mu.Unlock()
	err := p.ln.Close()
	for _, s := range subs {
		s.close()
	}
	p.wg.Wait()
	return err
}
