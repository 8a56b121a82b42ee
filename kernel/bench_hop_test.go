package kernel

// BenchmarkHop compares a request/reply round trip through zmq4 alone
// (DEALER <-> ROUTER) with the same round trip through the proxy's
// forwarding path (router.go, zconn.go), so the cost of our hop is
// measured apart from zmq4's; the "+coalesce" mode measures zmq4's sockets
// over a transport that cuts their syscalls, as the proxy's connections do.
//
//	go test -run '^$' -bench Hop -benchmem ./kernel/

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"sync"
	"testing"

	"github.com/go-zeromq/zmq4"
	"github.com/go-zeromq/zmq4/transport"
)

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

func benchListen(b *testing.B, scheme string, s zmq4.Socket) string {
	b.Helper()
	if err := s.Listen(scheme + "://127.0.0.1:0"); err != nil {
		b.Fatal(err)
	}
	return scheme + "://" + s.Addr().String()
}

func benchNoLog() zmq4.Option { return zmq4.WithLogger(discardLogger()) }

// BenchmarkHop is one request/reply round trip (ns/op) of a shell-sized
// message: "zmq4" is a client DEALER and an echoing ROUTER (2 hops);
// "proxy" puts the proxy's router, fromFrontend, its DEALER connection and
// kernelToFrontend between them (4 hops, plus Parse, Verify and the replay
// check); "proxy+observe" also decodes a copy for an observer in both
// directions, as cloudline kernel does. Half the difference between proxy
// and zmq4+coalesce is the cost of one extra hop.
func BenchmarkHop(b *testing.B) {
	for _, mode := range []string{"zmq4", "zmq4+coalesce", "proxy", "proxy+observe"} {
		b.Run(mode, func(b *testing.B) {
			scheme := "tcp"
			if mode != "zmq4" { // the client and the echo kernel cut their syscalls too

				benchRegisterTransport(b)
				scheme = benchTransport
			}
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			signer := benchSigner(b)
			kernelR := zmq4.NewRouter(ctx, benchNoLog())
			defer kernelR.Close()
			target := benchListen(b, scheme, kernelR)
			go benchEcho(kernelR)

			if strings.HasPrefix(mode, "proxy") {
				p := &Proxy{signer: signer, log: slog.New(slog.DiscardHandler), child: &child{}}
				if mode == "proxy+observe" {
					p.Observe = func(*Message) {}
				}
				kD, err := dialZMTP(ctx, "tcp", strings.TrimPrefix(target, scheme+"://"), zmq4.Dealer, "bench-proxy")
				if err != nil {
					b.Fatal(err)
				}
				s := &sockets{kernelUp: make(chan struct{}), stopping: make(chan struct{}), kShell: kD}
				close(s.kernelUp)
				ln, err := listenGuarded("tcp", "127.0.0.1:0", nil)
				if err != nil {
					b.Fatal(err)
				}
				s.feShell = newRouter(ln, p.log, p.fromFrontend(Shell, s, func() *zconn { return kD }))
				defer s.closeAll()
				target = scheme + "://" + ln.Addr().String()
				go p.kernelToFrontend(Shell, kD, s.feShell)
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

// BenchmarkHop's "+coalesce" modes measure coalesceConn (coalesce.go, used
// by the proxy's transports) on its own: a zmq4 transport whose connections
// read through a buffer and write each whole ZMTP message with one write. zmq4 v0.17.0 otherwise
// costs two syscalls per frame in each direction: Conn.read reads the frame
// header and the body separately from the bare net.Conn, and a ROUTER's
// send (routerMWriter) rebuilds the message as non-multipart, so
// Conn.SendMsg writes header and body of every frame separately (13 writes
// for a 6-frame reply, each a TCP segment with TCP_NODELAY).

const benchTransport = "cloudline-bench-tcp"

var benchTransportOnce sync.Once

func benchRegisterTransport(b *testing.B) {
	benchTransportOnce.Do(func() {
		if err := zmq4.RegisterTransport(benchTransport, coalesceTransport{}); err != nil {
			b.Fatal(err)
		}
	})
}

type coalesceTransport struct{}

func (coalesceTransport) Dial(ctx context.Context, d transport.Dialer, addr string) (net.Conn, error) {
	c, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, err
	}
	return newCoalesceConn(c), nil
}

func (coalesceTransport) Listen(_ context.Context, addr string) (net.Listener, error) {
	ln, err := net.Listen("tcp", addr)
	return coalesceListener{ln}, err
}

func (coalesceTransport) Addr(ep string) (string, error) { return transport.New("tcp").Addr(ep) }

type coalesceListener struct{ net.Listener }

func (l coalesceListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return newCoalesceConn(c), nil
}
