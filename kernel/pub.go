package kernel

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"syscall"
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
	queued   int             // bytes in queue
	inflight int             // bytes of the batch the writer holds
	raw      syscall.RawConn // for Send's inline writes; nil = always queue
	busy     bool            // the writer holds a batch, or Send writes inline
	behind   bool            // queued+inflight reached the bound (counted in pub.behind)
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
		s := &subscriber{pub: p, conn: c}
		if sc, ok := c.(syscall.Conn); ok {
			s.raw, _ = sc.SyscallConn()
		}
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
	var topic []byte
	if len(frames) > 0 {
		topic = frames[0]
	}
	limit := p.maxQueue
	if !wait {
		limit *= postSlack
	}
	p.mu.Lock()
	if wait && p.behind.Load() > 0 {
		p.waitRoom(topic)
	}
	for s := range p.subs {
		if s.matches(topic) {
			s.enqueue(frames, limit)
		}
	}
	p.mu.Unlock()
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

// serve runs the handshake, then reads subscriptions until the peer leaves.
func (s *subscriber) serve() {
	p := s.pub
	defer p.wg.Done()
	defer s.close()
	if err := s.handshake(); err != nil {
		p.log.Debug("iopub peer refused", "peer", s.conn.RemoteAddr().String(), "err", err)
		return
	}
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return
	}
	p.subs[s] = struct{}{}
	p.room.Broadcast() // a new subscriber is not behind
	p.wg.Add(1)
	p.mu.Unlock()
	go s.writeLoop()
	s.readLoop()
}

func (s *subscriber) handshake() error {
	_ = s.conn.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := s.conn.Write(greeting()); err != nil {
		return err
	}
	g := make([]byte, 64)
	if _, err := readFull(s.conn, g); err != nil {
		return err
	}
	if err := checkGreeting(g); err != nil {
		return err
	}
	if err := writeFrame(s.conn, readyCommand(map[string]string{"Socket-Type": "PUB"}), flagCommand); err != nil {
		return err
	}
	body, flags, err := readFrame(s.conn, maxSubscriberFrame)
	if err != nil {
		return err
	}
	name, data, err := parseCommand(body)
	if flags&flagCommand == 0 || err != nil || name != "READY" {
		return errors.New("expected READY")
	}
	props, err := parseProperties(data)
	if err != nil {
		return err
	}
	if t := props["Socket-Type"]; t != "SUB" && t != "XSUB" {
		return fmt.Errorf("peer socket type %q cannot subscribe", t)
	}
	return s.conn.SetDeadline(time.Time{})
}

func (s *subscriber) readLoop() {
	for {
		body, flags, err := readFrame(s.conn, maxSubscriberFrame)
		if err != nil {
			return
		}
		if flags&flagCommand != 0 {
			name, data, err := parseCommand(body)
			if err != nil {
				return
			}
			switch name {
			case "SUBSCRIBE":
				s.subscribe(data)
			case "CANCEL":
				s.unsubscribe(data)
			case "PING":
				s.ping(data)
			}
			continue
		}
		if flags&flagMore != 0 || len(body) == 0 {
			continue // publishers ignore other messages
		}
		switch body[0] {
		case 1:
			s.subscribe(body[1:])
		case 0:
			s.unsubscribe(body[1:])
		}
	}
}

func (s *subscriber) subscribe(topic []byte) {
	s.mu.Lock()
	s.topics = append(s.topics, bytes.Clone(topic))
	s.mu.Unlock()
	if s.pub.onSubscribe != nil {
		s.pub.onSubscribe(s, topic)
	}
}

func (s *subscriber) unsubscribe(topic []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, t := range s.topics {
		if bytes.Equal(t, topic) {
			s.topics = append(s.topics[:i], s.topics[i+1:]...)
			return
		}
	}
}

// ping answers a ZMTP 3.1 PING with a PONG carrying its context.
func (s *subscriber) ping(data []byte) {
	if body, ok := pong(data); ok {
		s.enqueueRaw(body)
	}
}

func (s *subscriber) matches(topic []byte) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.matchesLocked(topic)
}

func (s *subscriber) matchesLocked(topic []byte) bool {
	for _, t := range s.topics {
		if bytes.HasPrefix(topic, t) {
			return true
		}
	}
	return false
}
