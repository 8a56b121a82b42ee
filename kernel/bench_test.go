package kernel

// Benchmarks of the forwarding path, with allocations:
//
//	go test -run '^$' -bench . -benchmem ./kernel/
//
// BenchmarkHop compares a round trip through zmq4 alone (DEALER <-> ROUTER)
// with the same round trip through the proxy's forwarding loops, so the
// cost of our hop is measured apart from zmq4's.

import (
	"bufio"
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-zeromq/zmq4"
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

// benchEcho is a kernel stand-in: a ROUTER that sends every message back
// to its sender, until the socket closes.
func benchEcho(router zmq4.Socket) {
	for {
		msg, err := router.Recv()
		if err != nil {
			return
		}
		if msg.Type == zmq4.CmdMsg {
			continue
		}
		if err := router.SendMulti(msg); err != nil {
			return
		}
	}
}

func benchListen(b *testing.B, ctx context.Context, s zmq4.Socket) string {
	b.Helper()
	if err := s.Listen("tcp://127.0.0.1:0"); err != nil {
		b.Fatal(err)
	}
	return "tcp://" + s.Addr().String()
}

func benchNoLog() zmq4.Option { return zmq4.WithLogger(discardLogger()) }

// BenchmarkHop is one request/reply round trip (ns/op) of a shell-sized
// message: "zmq4" is a client DEALER and an echoing ROUTER (2 hops);
// "proxy" puts frontendToKernel and kernelToFrontend between them (4 hops,
// plus Parse, Verify and the replay check); "proxy+observe" also decodes a
// copy for an observer in both directions, as cloudline kernel does. Half
// the difference between proxy and zmq4 is the cost of one extra hop.
func BenchmarkHop(b *testing.B) {
	for _, mode := range []string{"zmq4", "proxy", "proxy+observe"} {
		b.Run(mode, func(b *testing.B) {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			signer := benchSigner(b)
			kernelR := zmq4.NewRouter(ctx, benchNoLog())
			defer kernelR.Close()
			target := benchListen(b, ctx, kernelR)
			go benchEcho(kernelR)

			if mode != "zmq4" {
				p := &Proxy{signer: signer, log: slog.New(slog.DiscardHandler)}
				if mode == "proxy+observe" {
					p.Observe = func(*Message) {}
				}
				feR := zmq4.NewRouter(ctx, benchNoLog())
				defer feR.Close()
				kD := zmq4.NewDealer(ctx, benchNoLog(), zmq4.WithID(zmq4.SocketIdentity("bench-proxy")))
				defer kD.Close()
				if err := kD.Dial(target); err != nil {
					b.Fatal(err)
				}
				target = benchListen(b, ctx, feR)
				go p.frontendToKernel(Shell, feR, kD)
				go p.kernelToFrontend(Shell, kD, feR)
			}
			client := zmq4.NewDealer(ctx, benchNoLog(), zmq4.WithID(zmq4.SocketIdentity("bench-client")))
			defer client.Close()
			if err := client.Dial(target); err != nil {
				b.Fatal(err)
			}
			// Every message is new: the proxy drops replayed signatures.
			msgs := make([]zmq4.Msg, b.N+1)
			for i := range msgs {
				msgs[i] = zmq4.NewMsgFrom(benchMessage(signer, nil, "execute_request",
					fmt.Sprintf("m-%d", i), benchExecute)...)
			}
			roundTrip := func(m zmq4.Msg) {
				if err := client.SendMulti(m); err != nil {
					b.Fatal(err)
				}
				if _, err := client.Recv(); err != nil {
					b.Fatal(err)
				}
			}
			roundTrip(msgs[b.N]) // connections established
			b.ReportAllocs()
			b.ResetTimer()
			for i := range b.N {
				roundTrip(msgs[i])
			}
		})
	}
}
