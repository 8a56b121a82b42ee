package kernel

// Benchmarks of the per-message work on the forwarding path and of the
// iopub send path, with allocations (the hop itself: bench_hop_test.go):
//
//	go test -run '^$' -bench . -benchmem ./kernel/

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

var benchKey = []byte("a0436f6c-1916-498b-8eb9-e81ab9368e84")

// benchDicts returns the four dict frames of a typical message.
func benchDicts(msgType, id, content string) (header, parent, metadata, body []byte) {
	header = fmt.Appendf(nil, `{"msg_id":"%s","msg_type":"%s","username":"bench",`+
		`"session":"5b4b5c1e-7f5a-4c2a-9d6c-1b2f3a4b5c6d","date":"2026-11-24T00:00:00.000000Z","version":"5.4"}`, id, msgType)
	parent = []byte(`{"msg_id":"b3f1c0de-0000-4000-8000-000000000001","msg_type":"execute_request",` +
		`"username":"bench","session":"client-session","date":"2026-11-24T00:00:00.000000Z","version":"5.4"}`)
	return header, parent, []byte(`{}`), []byte(content)
}

// benchMessage is a signed message ready to send: [idents..., <IDS|MSG>, sig, dicts...].
func benchMessage(s *Signer, idents [][]byte, msgType, id, content string) [][]byte {
	h, p, m, c := benchDicts(msgType, id, content)
	return s.Encode(Frames{Idents: idents, Header: h, ParentHeader: p, Metadata: m, Content: c})
}

func benchSigner(b *testing.B) *Signer {
	b.Helper()
	s, err := NewSigner("hmac-sha256", benchKey)
	if err != nil {
		b.Fatal(err)
	}
	return s
}

const benchExecute = `{"code":"pass","silent":false,"store_history":true,"user_expressions":{},"allow_stdin":true,"stop_on_error":true}`

func BenchmarkParse(b *testing.B) {
	raw := benchMessage(benchSigner(b), [][]byte{[]byte("client-id")}, "execute_request", "m1", benchExecute)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Parse(raw); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkSignerSign(b *testing.B) {
	s := benchSigner(b)
	h, p, m, c := benchDicts("execute_request", "m1", benchExecute)
	b.ReportAllocs()
	for b.Loop() {
		s.Sign(h, p, m, c)
	}
}

func BenchmarkSignerEncode(b *testing.B) {
	s := benchSigner(b)
	h, p, m, c := benchDicts("display_data", "m1", `{"data":{"text/markdown":"advice"},"metadata":{},"transient":{}}`)
	f := Frames{Idents: [][]byte{[]byte("display_data")}, Header: h, ParentHeader: p, Metadata: m, Content: c}
	b.ReportAllocs()
	for b.Loop() {
		s.Encode(f)
	}
}

func BenchmarkSignerVerify(b *testing.B) {
	s := benchSigner(b)
	f, err := Parse(benchMessage(s, nil, "execute_request", "m1", benchExecute))
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if err := s.Verify(&f); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDecode(b *testing.B) {
	for _, tc := range []struct{ name, msgType, content string }{
		{"status", "status", `{"execution_state":"idle"}`},
		{"stream", "stream", `{"name":"stdout","text":"` + strings.Repeat("0123456789", 100) + `"}`},
	} {
		b.Run(tc.name, func(b *testing.B) {
			f, err := Parse(benchMessage(benchSigner(b), nil, tc.msgType, "m1", tc.content))
			if err != nil {
				b.Fatal(err)
			}
			now := time.Now()
			b.ReportAllocs()
			for b.Loop() {
				if m := decode(&f, IOPub, FromKernel, now); m.MsgType != tc.msgType {
					b.Fatalf("decoded type %q", m.MsgType)
				}
			}
		})
	}
}

// BenchmarkDigestHistory is the replay check every frontend message passes.
func BenchmarkDigestHistory(b *testing.B) {
	sigs := make([][]byte, 1<<12)
	for i := range sigs {
		sigs[i] = fmt.Appendf(nil, "%064x", i)
	}
	var d digestHistory
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		d.add(sigs[i%len(sigs)])
		i++
		if i%len(sigs) == 0 {
			d = digestHistory{} // keep every signature new
		}
	}
}

// benchSub is a loopback ZMTP SUB subscribed to everything. It counts
// whole messages and signals done when the count reaches want.
type benchSub struct {
	conn net.Conn
	n    atomic.Int64
	want atomic.Int64
	done chan struct{}
}

func dialBenchSub(b *testing.B, addr string) *benchSub {
	b.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		b.Fatal(err)
	}
	g := make([]byte, 64)
	if _, err := c.Write(greeting()); err != nil {
		b.Fatal(err)
	}
	if _, err := io.ReadFull(c, g); err != nil {
		b.Fatal(err)
	}
	if err := writeFrame(c, readyCommand(map[string]string{"Socket-Type": "SUB"}), flagCommand); err != nil {
		b.Fatal(err)
	}
	if _, _, err := readFrame(c, maxSubscriberFrame); err != nil { // READY
		b.Fatal(err)
	}
	if err := writeFrame(c, []byte{1}, 0); err != nil { // subscribe to ""
		b.Fatal(err)
	}
	s := &benchSub{conn: c, done: make(chan struct{}, 1)}
	go s.countLoop()
	return s
}

// countLoop reads frames without keeping them, so the allocations
// reported are the publisher's.
func (s *benchSub) countLoop() {
	r := bufio.NewReaderSize(s.conn, 256<<10)
	var hdr [9]byte
	for {
		if _, err := io.ReadFull(r, hdr[:2]); err != nil {
			return
		}
		flags, size := hdr[0], uint64(hdr[1])
		if flags&flagLong != 0 {
			if _, err := io.ReadFull(r, hdr[2:]); err != nil {
				return
			}
			size = binary.BigEndian.Uint64(hdr[1:])
		}
		if _, err := r.Discard(int(size)); err != nil {
			return
		}
		if flags&(flagMore|flagCommand) == 0 && s.n.Add(1) == s.want.Load() {
			s.done <- struct{}{}
		}
	}
}

// BenchmarkPubSend is the iopub send path: Send queues, the subscriber's
// writer writes, a loopback subscriber reads every message.
func BenchmarkPubSend(b *testing.B) {
	for _, size := range []int{100, 64 << 10} {
		b.Run(fmt.Sprintf("%dB", size), func(b *testing.B) {
			p, err := listenPub("tcp", "127.0.0.1:0", slog.New(slog.DiscardHandler))
			if err != nil {
				b.Fatal(err)
			}
			defer p.Close()
			subscribed := make(chan struct{}, 1)
			p.onSubscribe = func(*subscriber, []byte) { subscribed <- struct{}{} }
			sub := dialBenchSub(b, p.ln.Addr().String())
			defer sub.conn.Close()
			<-subscribed
			msg := benchMessage(benchSigner(b), [][]byte{[]byte("stream")}, "stream", "m1",
				`{"name":"stdout","text":"`+strings.Repeat("x", size)+`"}`)
			b.SetBytes(int64(size))
			b.ReportAllocs()
			b.ResetTimer()
			// Batches of 256 keep the queue far below its bound (Send drops
			// beyond it, by design) while the writer always has work.
			for done := 0; done < b.N; {
				n := min(256, b.N-done)
				sub.want.Store(int64(done + n))
				for range n {
					p.Send(msg)
				}
				done += n
				select {
				case <-sub.done:
				case <-time.After(time.Minute):
					b.Fatalf("%d of %d messages arrived, %d dropped", sub.n.Load(), done, p.dropped.Load())
				}
			}
		})
	}
}
