package kernel

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"time"

	"github.com/go-zeromq/zmq4"
	"github.com/go-zeromq/zmq4/transport"
)

// The frontend-facing zmq4 sockets listen through a guarded transport.
// zmq4 v0.17.0 allocates whatever length a peer's frame header declares
// (2^62 bytes panics inside the library and kills the process), and it
// completes each handshake inside its accept loop (a peer that connects and
// stays silent blocks every later connection). The guard reads the ZMTP
// framing as bytes pass, cuts a connection that announces a frame above
// MaxFrame, and gives the handshake a deadline.

// MaxFrame is the largest frame a frontend may send (256 MiB; JupyterLab
// and jupyter_server send far smaller messages). zmq4 allocates a frame's
// declared size before its body arrives, so this also bounds what a peer
// can make us allocate per connection.
const MaxFrame = 256 << 20

// handshakeTimeout bounds a peer's greeting and first frame.
const handshakeTimeout = 10 * time.Second

// errFrameTooLarge is what a guarded connection's Read returns.
var errFrameTooLarge = errors.New("frame larger than the limit")

// Transport names registered with zmq4.
const (
	guardedTCP = "cloudline-tcp"
	guardedIPC = "cloudline-ipc"
)

var registerOnce sync.Once

func registerGuard() {
	registerOnce.Do(func() {
		_ = zmq4.RegisterTransport(guardedTCP, guardTransport{network: "tcp", Transport: transport.New("tcp")})
		_ = zmq4.RegisterTransport(guardedIPC, guardTransport{network: "unix", Transport: transport.New("unix")})
	})
}

// guardedEndpoint rewrites a tcp:// or ipc:// endpoint to its guarded twin.
func guardedEndpoint(ep string) string {
	registerGuard()
	switch {
	case len(ep) > 6 && ep[:6] == "tcp://":
		return guardedTCP + "://" + ep[6:]
	case len(ep) > 6 && ep[:6] == "ipc://":
		return guardedIPC + "://" + ep[6:]
	}
	return ep
}

type guardTransport struct {
	network string
	transport.Transport
}

func (g guardTransport) Listen(ctx context.Context, addr string) (net.Listener, error) {
	log, _ := ctx.Value(guardLogKey{}).(*slog.Logger)
	return listenGuarded(g.network, addr, log)
}

// listenGuarded listens on network/addr; accepted connections are guarded.
func listenGuarded(network, addr string, log *slog.Logger) (net.Listener, error) {
	ln, err := net.Listen(network, addr)
	if err != nil {
		return nil, err
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return guardListener{ln, log}, nil
}

// guardLogKey carries, in the zmq4 socket's context, the logger that
// reports cut connections (zmq4 passes that context to Listen).
type guardLogKey struct{}

func withGuardLog(ctx context.Context, log *slog.Logger) context.Context {
	return context.WithValue(ctx, guardLogKey{}, log)
}

type guardListener struct {
	net.Listener
	log *slog.Logger
}

func (l guardListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	_ = c.SetReadDeadline(time.Now().Add(handshakeTimeout))
	return &guardConn{Conn: newCoalesceConn(c), greeting: 64, limit: MaxFrame, log: l.log}, nil
}

// Dial is unused: the proxy dials the wrapped kernel itself (zconn.go).
// It completes the transport with the same syscall coalescing.
func (g guardTransport) Dial(ctx context.Context, d transport.Dialer, addr string) (net.Conn, error) {
	c, err := d.DialContext(ctx, g.network, addr)
	if err != nil {
		return nil, err
	}
	return newCoalesceConn(c), nil
}

// guardConn follows the ZMTP 3 framing of the bytes it reads.
type guardConn struct {
	net.Conn
	log      *slog.Logger // nil = silent
	limit    uint64
	greeting int // greeting bytes still to pass
	shook    bool
	hdr      [9]byte
	hdrLen   int    // header bytes collected
	hdrNeed  int    // header bytes needed (2 or 9); 0 = expecting flags
	body     uint64 // body bytes still to pass
}

func (c *guardConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	if n > 0 {
		if ferr := c.follow(p[:n]); ferr != nil {
			if c.log != nil {
				c.log.Warn("dropped message from frontend: connection cut", "peer", c.RemoteAddr().String(), "err", ferr)
			}
			c.Conn.Close()
			return 0, ferr
		}
	}
	return n, err
}

// follow advances the framing state over b.
func (c *guardConn) follow(b []byte) error {
	for len(b) > 0 {
		switch {
		case c.greeting > 0:
			k := min(c.greeting, len(b))
			c.greeting -= k
			b = b[k:]
		case c.body > 0:
			k := uint64(len(b))
			if k > c.body {
				k = c.body
			}
			c.body -= k
			b = b[k:]
		default:
			if c.hdrLen == 0 {
				c.hdrNeed = 2
				if b[0]&flagLong != 0 {
					c.hdrNeed = 9
				}
			}
			k := min(c.hdrNeed-c.hdrLen, len(b))
			copy(c.hdr[c.hdrLen:], b[:k])
			c.hdrLen += k
			b = b[k:]
			if c.hdrLen < c.hdrNeed {
				continue
			}
			size := uint64(c.hdr[1])
			if c.hdrNeed == 9 {
				size = binary.BigEndian.Uint64(c.hdr[1:9])
			}
			c.hdrLen = 0
			if size > c.limit {
				return fmt.Errorf("%w: %d bytes", errFrameTooLarge, size)
			}
			c.body = size
			if !c.shook {
				// The greeting and the handshake's first frame arrived:
				// the peer is a ZMTP peer; lift the deadline.
				c.shook = true
				_ = c.Conn.SetReadDeadline(time.Time{})
			}
		}
	}
	return nil
}
