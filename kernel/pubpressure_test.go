package kernel

import (
	"encoding/binary"
	"net"
	"testing"
	"time"
)

// subscribe makes a subscriber to everything and waits for the subscription.
func subscribe(t *testing.T, addr string, subs chan string) net.Conn {
	t.Helper()
	conn := handshake(t, addr, "SUB")
	if err := writeFrame(conn, []byte("\x01"), 0); err != nil {
		t.Fatal(err)
	}
	waitTopic(t, subs, "")
	return conn
}

// numbered is message i of a flood: its number, padded to size bytes.
func numbered(i, size int) [][]byte {
	body := make([]byte, size)
	binary.BigEndian.PutUint32(body, uint32(i))
	return [][]byte{[]byte("t"), body}
}

// pollUntil waits, within waitLimit, for cond.
func pollUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(waitLimit)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

// flood sends n numbered messages on its own goroutine; the channel closes
// when Send has returned for all of them.
func flood(p *pubSocket, n, size int) chan struct{} {
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := range n {
			p.Send(numbered(i, size))
		}
	}()
	return done
}

func readNumbers(t *testing.T, conn net.Conn, n int) {
	t.Helper()
	_ = conn.SetReadDeadline(time.Now().Add(waitLimit))
	for i := range n {
		got := readMessage(t, conn)
		if len(got) != 2 || binary.BigEndian.Uint32(got[1]) != uint32(i) {
			t.Fatalf("message %d: got %d frames, number %d", i, len(got), binary.BigEndian.Uint32(got[1]))
		}
	}
}

// The only subscriber, reading late, gets every message: Send waits
// (back-pressure on the wrapped kernel) instead of dropping, and the queue
// stays within one message of its bound.
func TestPubSocketSoleSlowSubscriberLosesNothing(t *testing.T) {
	p, addr, subs := testPub(t)
	p.mu.Lock()
	p.maxQueue = 64 << 10
	p.mu.Unlock()
	conn := subscribe(t, addr, subs)
	const n, size = 2000, 4 << 10 // 8 MB: far more than the bound and the socket buffers
	done := flood(p, n, size)
	pollUntil(t, "Send to wait for room", func() bool { return p.waiting.Load() == 1 })
	p.mu.Lock()
	for s := range p.subs {
		s.mu.Lock()
		if s.queued > p.maxQueue+size {
			t.Errorf("queued %d bytes past a bound of %d", s.queued, p.maxQueue)
		}
		s.mu.Unlock()
	}
	p.mu.Unlock()
	readNumbers(t, conn, n)
	<-done
	if d := p.dropped.Load(); d != 0 {
		t.Errorf("dropped %d messages for the only subscriber", d)
	}
}

// A stalled subscriber beside one that reads loses messages (counted); the
// reader gets everything and Send never waits for the stalled one.
func TestPubSocketStalledBesideReaderIsDropped(t *testing.T) {
	p, addr, subs := testPub(t)
	p.mu.Lock()
	p.maxQueue = 64 << 10
	p.mu.Unlock()
	stalled := subscribe(t, addr, subs)
	if uc, ok := stalled.(*net.UnixConn); ok {
		_ = uc.SetReadBuffer(4096)
	}
	reader := subscribe(t, addr, subs)
	const n, size = 2000, 4 << 10
	done := flood(p, n, size)
	readNumbers(t, reader, n)
	<-done
	if p.dropped.Load() == 0 {
		t.Error("nothing dropped for the stalled subscriber")
	}
}

// A Send waiting for a sole stalled subscriber returns when that
// subscriber leaves, and when the socket closes.
func TestPubSocketWaitEnds(t *testing.T) {
	for _, how := range []string{"peer leaves", "socket closes"} {
		t.Run(how, func(t *testing.T) {
			p, conn, done := stalledPub(t)
			if how == "peer leaves" {
				conn.Close()
			} else {
				p.Close()
			}
			select {
			case <-done:
			case <-time.After(waitLimit):
				t.Fatal("Send still waiting")
			}
			if p.behind.Load() != 0 {
				t.Errorf("behind = %d with no subscriber", p.behind.Load())
			}
		})
	}
}

// Our own messages never wait, even while every subscriber is behind.
func TestPubSocketPostNeverWaits(t *testing.T) {
	p, conn, done := stalledPub(t)
	posted := make(chan struct{})
	go func() {
		p.post(frames("t", "advice"))
		close(posted)
	}()
	select {
	case <-posted:
	case <-time.After(waitLimit):
		t.Fatal("post waited for room")
	}
	conn.Close()
	<-done
}

// stalledPub returns a socket whose sole subscriber (conn) does not read,
// and a flood Send that is waiting for room (done closes when it returns).
func stalledPub(t *testing.T) (*pubSocket, net.Conn, chan struct{}) {
	t.Helper()
	p, addr, subs := testPub(t)
	p.mu.Lock()
	p.maxQueue = 16 << 10
	p.mu.Unlock()
	conn := subscribe(t, addr, subs)
	done := flood(p, 1000, 4<<10)
	pollUntil(t, "Send to wait for room", func() bool { return p.waiting.Load() == 1 })
	return p, conn, done
}

// sendNow (a cell's idle sent with the request gate closed, afterIdle)
// never waits: with a subscriber behind it sends nothing and says so.
func TestPubSocketSendNowNeverWaits(t *testing.T) {
	p, conn, done := stalledPub(t)
	sent := make(chan bool, 1)
	go func() { sent <- p.sendNow(frames("t", "idle")) }()
	select {
	case ok := <-sent:
		if ok {
			t.Error("sendNow sent with the only subscriber behind")
		}
	case <-time.After(waitLimit):
		t.Fatal("sendNow waited for room")
	}
	conn.Close()
	<-done
	pollUntil(t, "the stalled subscriber to leave", func() bool { return p.behind.Load() == 0 })
	if !p.sendNow(frames("t", "idle")) {
		t.Error("sendNow refused with no subscriber behind")
	}
}
