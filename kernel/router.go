package kernel

import (
	"bytes"
	"log/slog"
	"net"
	"sync"
	"time"

	"github.com/go-zeromq/zmq4"
	"github.com/google/uuid"
)

// router is a frontend-facing ROUTER socket (shell, control, stdin,
// heartbeat) over zconns: each peer has its own reader goroutine, which
// hands every message, its routing identity first, to handle; send routes a
// message by its first frame into that peer's own bounded queue
// (peerqueue.go), so a peer that stops reading harms only itself.
// Handshakes run on the peer's goroutine, so a silent peer delays nobody
// else.
type router struct {
	ln       net.Listener // guarded: frame limit and handshake deadline
	log      *slog.Logger
	handle   func(frames [][]byte) // on the peer's goroutine; must not keep frames past the call
	logEvery time.Duration         // how often a peer's blocked write is logged (guarded by mu)

	mu     sync.Mutex
	conns  map[net.Conn]struct{} // every accepted connection, handshaken or not
	peers  map[*zconn]struct{}   // after the handshake
	closed bool
	wg     sync.WaitGroup
}

// peerIdentity is the READY property carrying a peer's routing identity.
const peerIdentity = "Identity"

func newRouter(ln net.Listener, log *slog.Logger, handle func([][]byte)) *router {
	r := &router{ln: ln, log: log, handle: handle, logEvery: blockedLogEvery,
		conns: map[net.Conn]struct{}{}, peers: map[*zconn]struct{}{}}
	r.wg.Add(1)
	go r.acceptLoop()
	return r
}

func (r *router) acceptLoop() {
	defer r.wg.Done()
	for {
		nc, err := r.ln.Accept()
		if err != nil {
			if r.isClosed() {
				return
			}
			r.log.Debug("accept failed", "err", err)
			continue
		}
		r.mu.Lock()
		if r.closed {
			r.mu.Unlock()
			nc.Close()
			return
		}
		r.conns[nc] = struct{}{}
		r.wg.Add(1)
		r.mu.Unlock()
		go r.peerLoop(nc)
	}
}

// peerLoop runs one frontend connection: handshake, then its messages.
func (r *router) peerLoop(nc net.Conn) {
	defer r.wg.Done()
	defer func() {
		r.mu.Lock()
		delete(r.conns, nc)
		r.mu.Unlock()
		nc.Close()
	}()
	c, err := openZMTP(nc, zmq4.Router, "", true, MaxFrame)
	if err != nil {
		r.log.Debug("frontend peer refused", "peer", nc.RemoteAddr().String(), "err", err)
		return
	}
	c.id = []byte(c.z.Peer.Meta[peerIdentity])
	if len(c.id) == 0 {
		c.id = []byte(uuid.NewString())
	}
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		return
	}
	c.q = newPeerQueue(c, r.log, r.logEvery)
	r.peers[c] = struct{}{}
	r.wg.Add(1)
	r.mu.Unlock()
	go r.peerWriter(c.q)
	defer func() {
		r.mu.Lock()
		delete(r.peers, c)
		r.mu.Unlock()
		c.q.close()
	}()
	for {
		frames, err := c.recvAfter(c.id)
		if err != nil {
			return
		}
		r.handle(frames)
	}
}

// peerWriter drains one peer's queue until the peer is gone.
func (r *router) peerWriter(q *peerQueue) {
	defer r.wg.Done()
	q.writeLoop()
}

// send writes frames[1:] to the peers whose identity is frames[0]; a
// message for a peer that left is dropped, as a ROUTER does.
func (r *router) send(frames [][]byte) error {
	if len(frames) < 2 {
		return nil
	}
	var peers [4]*zconn // a client has one connection per channel: no allocation
	to := peers[:0]
	r.mu.Lock()
	for c := range r.peers {
		if bytes.Equal(c.id, frames[0]) {
			to = append(to, c)
		}
	}
	r.mu.Unlock()
	var first error
	for _, c := range to {
		if err := c.send(frames[1:]); err != nil && first == nil {
			first = err
		}
	}
	return first
}

func (r *router) isClosed() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.closed
}

// close stops accepting, closes every peer and waits for their goroutines.
// It is safe to call twice.
func (r *router) close() {
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		return
	}
	r.closed = true
	conns := make([]net.Conn, 0, len(r.conns))
	for nc := range r.conns {
		conns = append(conns, nc)
	}
	r.mu.Unlock()
	r.ln.Close()
	for _, nc := range conns {
		nc.Close()
	}
	r.wg.Wait()
}
