package kernel

import (
	"errors"
	"log/slog"
	"net"
	"testing"
	"time"

	"github.com/go-zeromq/zmq4"
)

// Each frontend peer handshakes on its own goroutine: peers that connect
// to shell, control and stdin and say nothing (cut only after
// handshakeTimeout) delay no other client. zmq4's own ROUTER completes
// handshakes inside its accept loop, one at a time: there the client below
// would wait until the silent peers were cut.
func TestRouterSilentPeersDelayNobody(t *testing.T) {
	h := startProxy(t, frontendInfo(t, "ipc"), nil)
	var silent []net.Conn
	for _, port := range []int{h.ci.ShellPort, h.ci.ControlPort, h.ci.StdinPort} {
		silent = append(silent, rawDial(t, h.ci, port))
	}
	c := dialClient(t, h.ci) // its heartbeat socket is not behind a silent peer
	if info := c.kernelInfo(); info["status"] != "ok" {
		t.Fatalf("kernel_info next to silent peers: %v", info)
	}
	for i, conn := range silent {
		// Still waiting for their greeting: the client did not wait for
		// them to be cut.
		_ = conn.SetReadDeadline(time.Now().Add(time.Millisecond))
		buf := make([]byte, 64)
		for {
			_, err := conn.Read(buf) // our greeting may come first
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				break
			}
			if err != nil {
				t.Fatalf("silent peer %d was cut (%v) before the client was served", i, err)
			}
		}
	}
}

// A router sends by the identity in the first frame, to every peer with
// that identity, and drops messages for identities it does not know.
func TestRouterSendByIdentity(t *testing.T) {
	checkNoLeaks(t)
	ln, err := listenGuarded("tcp", "127.0.0.1:0", nil)
	if err != nil {
		t.Fatal(err)
	}
	got := make(chan [][]byte, 4)
	r := newRouter(ln, slog.New(slog.DiscardHandler), func(frames [][]byte) { got <- frames })
	defer r.close()
	dial := func(id string) *zconn { return dialDealer(t, ln.Addr().String(), id) }
	a1, a2, b := dial("a"), dial("a"), dial("b")
	// A message from each tells us the router has registered all three.
	for _, c := range []*zconn{a1, a2, b} {
		if err := c.send([][]byte{[]byte("hello")}); err != nil {
			t.Fatal(err)
		}
	}
	seen := map[string]int{}
	for range 3 {
		select {
		case f := <-got:
			if len(f) != 2 || string(f[1]) != "hello" {
				t.Fatalf("router handed %q, want [identity hello]", f)
			}
			seen[string(f[0])]++
		case <-time.After(waitLimit):
			t.Fatal("router handed fewer than 3 messages")
		}
	}
	if seen["a"] != 2 || seen["b"] != 1 {
		t.Fatalf("identities seen %v, want a twice and b once", seen)
	}
	if err := r.send([][]byte{[]byte("nobody"), []byte("lost")}); err != nil {
		t.Fatalf("send to an unknown identity: %v, want a silent drop", err)
	}
	if err := r.send([][]byte{[]byte("a"), []byte("to-a")}); err != nil {
		t.Fatal(err)
	}
	if err := r.send([][]byte{[]byte("b"), []byte("to-b")}); err != nil {
		t.Fatal(err)
	}
	for name, c := range map[string]*zconn{"a1": a1, "a2": a2} {
		if f, err := c.recv(); err != nil || len(f) != 1 || string(f[0]) != "to-a" {
			t.Errorf("%s got %q, %v; want to-a", name, f, err)
		}
	}
	if f, err := b.recv(); err != nil || len(f) != 1 || string(f[0]) != "to-b" {
		t.Errorf("b got %q, %v; want to-b (nothing for the unknown identity first)", f, err)
	}
}

// A peer that stops reading fills only its own queue: sends to it never
// block, another peer keeps getting its messages, the overflow is dropped
// for the stalled peer (counted, logged) and its write, blocked, is logged
// while it lasts. What was queued reaches it, in order, once it reads.
func TestRouterStalledPeerHarmsOnlyItself(t *testing.T) {
	checkNoLeaks(t)
	ln, err := listenGuarded("tcp", "127.0.0.1:0", nil)
	if err != nil {
		t.Fatal(err)
	}
	logs := &logRecorder{logStore: &logStore{}}
	r := newRouter(ln, slog.New(logs), func([][]byte) {})
	r.mu.Lock()
	r.logEvery = 20 * time.Millisecond
	r.mu.Unlock()
	defer r.close()
	// (No tiny receive buffer: on loopback it stalls TCP itself, the
	// window never reopening by a full segment.)
	dial := func(id string) *zconn { return dialDealer(t, ln.Addr().String(), id) }
	slow, fast := dial("slow"), dial("fast")
	for _, c := range []*zconn{slow, fast} {
		if err := c.send([][]byte{[]byte("hello")}); err != nil {
			t.Fatal(err)
		}
	}
	pollUntil(t, "both peers registered", func() bool {
		r.mu.Lock()
		defer r.mu.Unlock()
		return len(r.peers) == 2
	})
	const n = 100
	big := make([]byte, 1<<20) // 100 MB in all: past the per-peer byte bound
	sent := make(chan struct{})
	go func() {
		defer close(sent)
		for i := range n {
			body := append([]byte{byte(i)}, big...)
			_ = r.send([][]byte{[]byte("slow"), body})
		}
	}()
	select {
	case <-sent:
	case <-time.After(waitLimit):
		t.Fatal("sends to a peer that does not read blocked")
	}
	if err := r.send([][]byte{[]byte("fast"), []byte("reply")}); err != nil {
		t.Fatal(err)
	}
	if f, err := fast.recv(); err != nil || len(f) != 1 || string(f[0]) != "reply" {
		t.Fatalf("fast peer got %q, %v", f, err)
	}
	pollUntil(t, "the blocked peer logged", func() bool { return logs.count("its messages wait") > 0 })
	if logs.count("dropping messages for it") == 0 {
		t.Error("no log line about messages dropped for the stalled peer")
	}
	var dropped uint64
	r.mu.Lock()
	for c := range r.peers {
		if string(c.id) == "slow" {
			c.q.mu.Lock()
			dropped = c.q.dropped
			c.q.mu.Unlock()
		}
	}
	r.mu.Unlock()
	if dropped == 0 || dropped >= n {
		t.Fatalf("dropped %d of %d for the stalled peer; want the overflow only", dropped, n)
	}
	_ = slow.nc.SetReadDeadline(time.Now().Add(waitLimit))
	for i := range n - int(dropped) { // what was queued arrives, in order
		f, err := slow.recv()
		if err != nil || len(f) != 1 || f[0][0] != byte(i) {
			t.Fatalf("stalled peer's message %d: %v", i, err)
		}
	}
}

// dialDealer connects a DEALER with identity id to the router at addr.
func dialDealer(t *testing.T, addr, id string) *zconn {
	t.Helper()
	nc, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	c, err := openZMTP(nc, zmq4.Dealer, id, false, MaxFrame)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.close)
	return c
}
