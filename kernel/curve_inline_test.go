package kernel

import (
	"bytes"
	"encoding/binary"
	"log/slog"
	"net"
	"testing"
	"time"
)

// acceptCurve accepts one CURVE connection on a plain TCP listener and
// brings it to where a socket's messages flow: handshake done, the NULL
// greeting and READY of the socket above written (and swallowed).
func acceptCurve(t *testing.T, keys *CurveKeys) (*curveConn, *curveClient) {
	t.Helper()
	tcp, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer tcp.Close()
	ln := listenCurve(tcp, keys, "PUB", maxSubscriberFrame, nil)
	server := make(chan *curveConn, 1)
	go func() {
		nc, err := ln.Accept()
		if err != nil {
			server <- nil
			return
		}
		cc := nc.(*curveConn)
		if _, err := cc.Write(greeting()); err != nil {
			server <- nil
			return
		}
		if err := writeFrame(cc, readyCommand(map[string]string{"Socket-Type": "PUB"}), flagCommand); err != nil {
			server <- nil
			return
		}
		server <- cc
	}()
	c, err := dialCurve(tcp.Addr().String(), keys.Public, "SUB")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.nc.Close() })
	cc := <-server
	if cc == nil {
		t.Fatal("server side of the CURVE connection failed")
	}
	t.Cleanup(func() { cc.Close() })
	return cc, c
}

// writeNow seals and writes without waiting: against a peer that does not
// read, it keeps what the socket refuses (held), refuses to start another
// message over it, and an empty Write then puts it on the wire, so the
// peer opens every message, whole and in order.
func TestCurveWriteNowHoldsWhatTheSocketRefuses(t *testing.T) {
	keys := newCurveKeys(t)
	cc, c := acceptCurve(t, &keys)
	body := bytes.Repeat([]byte("w"), 32<<10)
	msg := func(i int) []byte {
		binary.BigEndian.PutUint32(body, uint32(i))
		return appendMessage(nil, [][]byte{[]byte("t"), body})
	}
	n := 0
	for ; ; n++ {
		tried, held, err := cc.writeNow(msg(n))
		if err != nil || !tried {
			t.Fatalf("message %d: tried %v, err %v; want an attempt", n, tried, err)
		}
		if held {
			n++
			break
		}
		if n > 10000 { // 320 MB: no socket buffer is that large
			t.Fatal("the socket never refused a write")
		}
	}
	if tried, _, _ := cc.writeNow(msg(n)); tried {
		t.Fatal("writeNow started a message while an earlier one was held")
	}
	flushed := make(chan error, 1)
	go func() {
		_, err := cc.Write(nil)
		flushed <- err
	}()
	_ = c.nc.SetReadDeadline(time.Now().Add(waitLimit))
	for i := range n {
		got, err := c.recv()
		if err != nil {
			t.Fatalf("message %d of %d: %v", i, n, err)
		}
		if len(got) != 2 || len(got[1]) != len(body) || binary.BigEndian.Uint32(got[1]) != uint32(i) {
			t.Fatalf("message %d of %d: %d frames, number %d", i, n, len(got), binary.BigEndian.Uint32(got[1]))
		}
	}
	if err := <-flushed; err != nil {
		t.Fatalf("empty Write: %v", err)
	}
	if len(cc.out) != 0 {
		t.Fatalf("%d sealed bytes left after the flush", len(cc.out))
	}
}

// The queues write encrypted messages inline too (no hand-off to the
// writer goroutine), and a peer that reads late still gets every message
// in order: the router's per-peer queue, through the sealed remainder
// and the queued messages behind it.
func TestCurveRouterLateReaderGetsEverything(t *testing.T) {
	checkNoLeaks(t)
	c := dialEcho(t)
	_ = c.nc.SetDeadline(time.Now().Add(waitLimit))
	const n = 300 // 9.8 MB back: more than the socket buffers take
	body := make([]byte, 32<<10)
	for i := range n {
		binary.BigEndian.PutUint32(body, uint32(i))
		if err := c.send(body); err != nil {
			t.Fatal(err)
		}
	}
	for i := range n {
		got, err := c.recv()
		if err != nil {
			t.Fatalf("message %d: %v", i, err)
		}
		if len(got) != 1 || len(got[0]) != len(body) || binary.BigEndian.Uint32(got[0]) != uint32(i) {
			t.Fatalf("message %d: %d frames, number %d", i, len(got), binary.BigEndian.Uint32(got[0]))
		}
	}
}

// curveSubscriber serves an encrypted iopub socket as the proxy does (on a
// plain TCP listener) and subscribes a CURVE client to everything.
func curveSubscriber(t *testing.T) (*pubSocket, *curveClient) {
	t.Helper()
	keys := newCurveKeys(t)
	tcp, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	subscribed := make(chan struct{}, 1)
	p := servePub(listenCurve(tcp, &keys, "PUB", maxSubscriberFrame, nil), slog.New(slog.DiscardHandler),
		func(*subscriber, []byte) { subscribed <- struct{}{} })
	t.Cleanup(func() { p.Close() })
	c, err := dialCurve(tcp.Addr().String(), keys.Public, "SUB")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.nc.Close() })
	if err := c.send([]byte{1}); err != nil {
		t.Fatal(err)
	}
	select {
	case <-subscribed:
	case <-time.After(waitLimit):
		t.Fatal("subscription not seen")
	}
	return p, c
}

// Likewise an encrypted iopub subscriber that reads late.
func TestCurvePubLateReaderGetsEverything(t *testing.T) {
	checkNoLeaks(t)
	p, c := curveSubscriber(t)
	p.mu.Lock()
	for s := range p.subs {
		if s.inline == nil || s.inline.curve == nil {
			t.Error("an encrypted subscriber without the inline write")
		}
	}
	p.mu.Unlock()
	const n, size = 300, 32 << 10
	done := flood(p, n, size)
	_ = c.nc.SetReadDeadline(time.Now().Add(waitLimit))
	for i := range n {
		got, err := c.recv()
		if err != nil {
			t.Fatalf("message %d: %v", i, err)
		}
		if len(got) != 2 || len(got[1]) != size || binary.BigEndian.Uint32(got[1]) != uint32(i) {
			t.Fatalf("message %d: %d frames, number %d", i, len(got), binary.BigEndian.Uint32(got[1]))
		}
	}
	<-done
	if d := p.dropped.Load(); d != 0 {
		t.Errorf("dropped %d messages for the only subscriber", d)
	}
}

// An encrypted peer that stops reading for longer than the writer's
// logging interval keeps its connection, as a NULL peer does: the write's
// deadline is the writer's cue to log, not a failure, and what the socket
// had not taken is still sealed in the connection and arrives, in order,
// once the peer reads.
func TestCurveStalledPeerKeepsItsConnection(t *testing.T) {
	checkNoLeaks(t)
	keys := newCurveKeys(t)
	ln, err := listenGuarded("tcp", "127.0.0.1:0", nil)
	if err != nil {
		t.Fatal(err)
	}
	logs := &logRecorder{logStore: &logStore{}}
	r := newRouter(listenCurve(ln, &keys, "ROUTER", MaxFrame, slog.New(logs)), slog.New(logs), func([][]byte) {})
	r.mu.Lock()
	r.logEvery = 20 * time.Millisecond
	r.mu.Unlock()
	defer r.close()
	c, err := dialCurve(ln.Addr().String(), keys.Public, "DEALER")
	if err != nil {
		t.Fatal(err)
	}
	defer c.nc.Close()
	if err := c.send([]byte("hello")); err != nil {
		t.Fatal(err)
	}
	pollUntil(t, "the peer registered", func() bool {
		r.mu.Lock()
		defer r.mu.Unlock()
		return len(r.peers) == 1
	})
	const n = 24 // 24 MB: far past the socket buffers, within the peer's bound
	body := make([]byte, 1<<20)
	for i := range n {
		body[0] = byte(i)
		if err := r.send([][]byte{[]byte("client-1"), append([]byte(nil), body...)}); err != nil {
			t.Fatal(err)
		}
	}
	pollUntil(t, "the blocked write logged", func() bool { return logs.count("its messages wait") > 0 })
	_ = c.nc.SetReadDeadline(time.Now().Add(waitLimit))
	for i := range n {
		got, err := c.recv()
		if err != nil {
			t.Fatalf("message %d of %d: %v", i, n, err)
		}
		if len(got) != 1 || len(got[0]) != len(body) || got[0][0] != byte(i) {
			t.Fatalf("message %d: %d frames", i, len(got))
		}
	}
	if w := logs.count("connection cut"); w != 0 {
		t.Errorf("%d connections cut", w)
	}
}
