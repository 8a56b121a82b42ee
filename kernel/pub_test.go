package kernel

import (
	"bytes"
	"context"
	"log/slog"
	"net"
	"path/filepath"
	"testing"
	"time"
)

// testPub listens on a unix socket in a temp dir; every subscription is
// reported on the returned channel.
func testPub(t *testing.T) (*pubSocket, string, chan string) {
	t.Helper()
	checkNoLeaks(t)
	addr := filepath.Join(t.TempDir(), "iopub")
	p, err := listenPub("unix", addr, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	subs := make(chan string, 16)
	p.onSubscribe = func(_ *subscriber, topic []byte) { subs <- string(topic) }
	t.Cleanup(func() { p.Close() })
	return p, addr, subs
}

// handshake runs the ZMTP greeting and READY exchange as socketType.
func handshake(t *testing.T, addr, socketType string) net.Conn {
	t.Helper()
	conn, err := net.Dial("unix", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	_ = conn.SetDeadline(time.Now().Add(waitLimit))
	g := make([]byte, 64)
	if _, err := conn.Write(greeting()); err != nil {
		t.Fatal(err)
	}
	if _, err := readFull(conn, g); err != nil {
		t.Fatal(err)
	}
	if err := writeFrame(conn, readyCommand(map[string]string{"Socket-Type": socketType}), flagCommand); err != nil {
		t.Fatal(err)
	}
	if _, _, err := readFrame(conn, 1<<16); err != nil {
		t.Fatal(err)
	}
	return conn
}

func waitTopic(t *testing.T, subs chan string, want string) {
	t.Helper()
	select {
	case got := <-subs:
		if got != want {
			t.Fatalf("subscribed %q, want %q", got, want)
		}
	case <-time.After(waitLimit):
		t.Fatal("no subscription")
	}
}

func TestPubSocketRefusesBadPeers(t *testing.T) {
	zmtp2 := greeting()
	zmtp2[10] = 2
	http := []byte("GET / HTTP/1.1\r\nHost: x\r\n\r\n" + string(make([]byte, 64)))
	tests := []struct {
		name  string
		bytes func() []byte
	}{
		{"not ZMTP", func() []byte { return http[:64] }},
		{"ZMTP 2", func() []byte { return zmtp2 }},
		{"DEALER cannot subscribe", func() []byte {
			return append(greeting(), shortFrame(flagCommand, string(readyCommand(map[string]string{"Socket-Type": "DEALER"})))...)
		}},
		{"message instead of READY", func() []byte { return append(greeting(), shortFrame(0, "\x01")...) }},
		{"malformed READY", func() []byte { return append(greeting(), shortFrame(flagCommand, "\x05READY\x0bSocket")...) }},
		{"2^62-byte READY", func() []byte { return append(greeting(), longHeader(flagCommand, 1<<62)...) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, addr, _ := testPub(t)
			conn, err := net.Dial("unix", addr)
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			if _, err := conn.Write(tt.bytes()); err != nil {
				t.Fatal(err)
			}
			expectClosed(t, conn, tt.name)
			if n := p.Subscribers(); n != 0 {
				t.Errorf("%d subscribers after a refused peer", n)
			}
		})
	}
}

func TestPubSocketTopics(t *testing.T) {
	p, addr, subs := testPub(t)
	conn := handshake(t, addr, "SUB")
	if err := writeFrame(conn, []byte("\x01kernel.a"), 0); err != nil { // ZMTP 3.0 form
		t.Fatal(err)
	}
	waitTopic(t, subs, "kernel.a")
	p.Send(frames("kernel.b.status", "x"))
	p.Send(frames("kernel.a.status", "y"))
	if got := readMessage(t, conn); string(got[0]) != "kernel.a.status" || string(got[1]) != "y" {
		t.Fatalf("got %q, want only the subscribed topic", got)
	}
	// Cancel (3.0 form), subscribe with the ZMTP 3.1 command.
	if err := writeFrame(conn, []byte("\x00kernel.a"), 0); err != nil {
		t.Fatal(err)
	}
	if err := writeFrame(conn, []byte("\x09SUBSCRIBEkernel.c"), flagCommand); err != nil {
		t.Fatal(err)
	}
	waitTopic(t, subs, "kernel.c")
	p.Send(frames("kernel.a.status", "cancelled"))
	p.Send(frames("kernel.c.status", "z"))
	if got := readMessage(t, conn); string(got[1]) != "z" {
		t.Fatalf("got %q after CANCEL, want the kernel.c message", got)
	}
}

func TestPubSocketPing(t *testing.T) {
	_, addr, subs := testPub(t)
	conn := handshake(t, addr, "SUB")
	if err := writeFrame(conn, []byte("\x01"), 0); err != nil {
		t.Fatal(err)
	}
	waitTopic(t, subs, "")
	if err := writeFrame(conn, []byte("\x04PING\x00\x0actx"), flagCommand); err != nil {
		t.Fatal(err)
	}
	body, flags, err := readFrame(conn, 1<<16)
	if err != nil || flags&flagCommand == 0 || string(body) != "\x04PONGctx" {
		t.Fatalf("answer to PING = %q (flags %x), %v", body, flags, err)
	}
	// A PING without its TTL is ignored, not a crash.
	if err := writeFrame(conn, []byte("\x04PING"), flagCommand); err != nil {
		t.Fatal(err)
	}
}

func TestPubSocketFlushAndClose(t *testing.T) {
	p, addr, subs := testPub(t)
	conn := handshake(t, addr, "SUB")
	if err := writeFrame(conn, []byte("\x01"), 0); err != nil {
		t.Fatal(err)
	}
	waitTopic(t, subs, "")
	if err := p.Flush(context.Background()); err != nil {
		t.Fatalf("Flush of empty queues: %v", err)
	}
	big := make([]byte, 8<<20) // more than the socket buffers hold: the writer blocks
	p.Send([][]byte{[]byte("t"), big})
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if err := p.Flush(ctx); err == nil {
		t.Error("Flush returned nil while a subscriber had not read 8 MB")
	}
	if err := p.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
	if err := p.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	p.Send(frames("t", "after close")) // no panic, no effect
	if n := p.Subscribers(); n != 0 {
		t.Errorf("%d subscribers after Close", n)
	}
	expectClosed(t, conn, "subscriber after Close")
}

// Small messages are written inline by Send; one the socket takes only in
// part continues on the writer goroutine, and later messages stay behind it.
func TestPubSocketInlineKeepsOrder(t *testing.T) {
	p, addr, subs := testPub(t)
	conn := handshake(t, addr, "SUB")
	if err := writeFrame(conn, []byte("\x01"), 0); err != nil {
		t.Fatal(err)
	}
	waitTopic(t, subs, "")
	// Unread, a unix socket takes a few hundred KB: most of these are
	// written in part or queued.
	const n = 200
	body := make([]byte, inlineMax-100)
	for i := range n {
		body[0] = byte(i)
		p.Send([][]byte{[]byte("t"), bytes.Clone(body)})
	}
	for i := range n {
		got := readMessage(t, conn)
		if len(got) != 2 || len(got[1]) != len(body) || got[1][0] != byte(i) {
			t.Fatalf("message %d: got %d frames, first byte %d", i, len(got), got[1][0])
		}
	}
}

// A subscriber gone while Send writes to it inline is dropped; Send
// neither blocks nor fails for the others.
func TestPubSocketInlinePeerGone(t *testing.T) {
	p, addr, subs := testPub(t)
	conn := handshake(t, addr, "SUB")
	if err := writeFrame(conn, []byte("\x01"), 0); err != nil {
		t.Fatal(err)
	}
	waitTopic(t, subs, "")
	conn.Close()
	deadline := time.Now().Add(waitLimit)
	for p.Subscribers() > 0 {
		if time.Now().After(deadline) {
			t.Fatal("the closed subscriber was never dropped")
		}
		p.Send(frames("t", "into the void")) // EPIPE inline: must not deadlock
	}
}

// listenPub serves iopub on a fresh listener, as tests want it.
func listenPub(network, addr string, log *slog.Logger) (*pubSocket, error) {
	ln, err := net.Listen(network, addr)
	if err != nil {
		return nil, err
	}
	return servePub(ln, log, nil), nil
}
