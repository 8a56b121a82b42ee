package kernel

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"time"

	"github.com/go-zeromq/zmq4"
	"github.com/go-zeromq/zmq4/security/null"
)

// The proxy drives zmq4's ZMTP connections itself rather than through
// zmq4's sockets. zmq4 v0.17.0 hands every received message from a reader
// goroutine to Recv over a channel and makes a context for each Recv; each
// Send makes a timeout context and an errgroup and runs the write on a new
// goroutine. On a two-core machine those hand-offs wake threads that the
// wrapped kernel needs: they were most of the proxy's own cost per cell.
// Here zmq4 still does the handshake (zmq4.Open: greeting, security
// mechanism, READY and its properties); the forwarding goroutine reads
// frames straight from the connection's buffer and writes each message
// straight to the destination in one write, so a message crosses the proxy
// on one goroutine.

// zconn is one ZMTP connection after its handshake. zmq4 wrote the
// handshake through nc; messages are then written whole, one write each,
// straight to the connection under nc's wrappers (zmq4's Conn.SendMsg
// allocated a context, an errgroup and a header per frame for each).
type zconn struct {
	z     *zmq4.Conn
	nc    net.Conn   // what z reads and writes: coalescing, guarded for frontends
	w     io.Writer  // the connection under nc's wrappers
	id    []byte     // the peer's routing identity (router peers)
	limit uint64     // largest frame accepted
	hdr   [9]byte    // recv's frame header scratch
	wmu   sync.Mutex // one message at a time on the wire; guards wbuf
	wbuf  []byte     // the message being written
	q     *peerQueue // router peers: sends go through the peer's queue (which then owns wbuf)
}

// maxKeptWriteBuf bounds the write buffer a zconn keeps between messages.
const maxKeptWriteBuf = 256 << 10

// openZMTP runs the ZMTP handshake over nc as a socket of type typ.
func openZMTP(nc net.Conn, typ zmq4.SocketType, id string, server bool, limit uint64) (*zconn, error) {
	z, err := zmq4.Open(nc, null.Security(), typ, zmq4.SocketIdentity(id), server, nil)
	if err != nil {
		nc.Close()
		return nil, err
	}
	return &zconn{z: z, nc: nc, w: wire(nc), limit: limit}, nil
}

// wire returns the connection under the proxy's wrappers of nc, which only
// the handshake needs to write through.
func wire(nc net.Conn) io.Writer {
	if g, ok := nc.(*guardConn); ok {
		nc = g.Conn
	}
	if c, ok := nc.(*coalesceConn); ok {
		return c.Conn
	}
	return nc
}

// recv returns the next message's frames. ZMTP commands are not messages:
// a PING is answered, others are skipped.
func (c *zconn) recv() ([][]byte, error) { return c.recvAfter() }

// recvAfter is recv with the frames appended to prefix (a router puts the
// peer's identity first), so that the message is not copied again.
func (c *zconn) recvAfter(prefix ...[]byte) ([][]byte, error) {
	frames := append(make([][]byte, 0, 8), prefix...) // a Jupyter message has 6 frames and its identities
	start := len(frames)
	for {
		body, flags, err := readFrameWith(c.nc, c.limit, &c.hdr)
		if err != nil {
			return nil, err
		}
		if flags&flagCommand != 0 {
			if len(frames) > start {
				return nil, errors.New("command inside a message")
			}
			if name, data, err := parseCommand(body); err == nil && name == "PING" {
				if reply, ok := pong(data); ok {
					if err := c.sendCmd(reply); err != nil {
						return nil, err
					}
				}
			}
			continue
		}
		frames = append(frames, body)
		if flags&flagMore == 0 {
			return frames, nil
		}
	}
}

// send writes one message; through a peer queue it never blocks.
func (c *zconn) send(frames [][]byte) error {
	if c.q != nil {
		c.q.send(frames)
		return nil
	}
	c.wmu.Lock()
	defer c.wmu.Unlock()
	return c.write(appendMessage(c.wbuf[:0], frames))
}

// sendCmd writes one command.
func (c *zconn) sendCmd(body []byte) error {
	if c.q != nil {
		c.q.sendCmd(body)
		return nil
	}
	c.wmu.Lock()
	defer c.wmu.Unlock()
	return c.write(appendFrame(c.wbuf[:0], body, flagCommand))
}

// write writes b, laid out in wbuf, with wmu held.
func (c *zconn) write(b []byte) error {
	_, err := c.w.Write(b)
	if cap(b) > maxKeptWriteBuf {
		b = nil // a large message's buffer is not kept
	}
	c.wbuf = b[:0]
	return err
}

func (c *zconn) close() { c.nc.Close() }

// dialRetry is how often dialZMTP tries again while the wrapped kernel
// does not listen yet; dialFor bounds the attempts.
const (
	dialRetry = 10 * time.Millisecond
	dialFor   = 10 * time.Second
)

// dialZMTP connects to a wrapped kernel's socket (trusted: no frame guard
// beyond MaxKernelFrame) and runs the handshake.
func dialZMTP(ctx context.Context, network, addr string, typ zmq4.SocketType, id string) (*zconn, error) {
	ctx, cancel := context.WithTimeout(ctx, dialFor)
	defer cancel()
	var d net.Dialer
	for {
		nc, err := d.DialContext(ctx, network, addr)
		if err == nil {
			return openZMTP(newCoalesceConn(nc), typ, id, false, MaxKernelFrame)
		}
		t := time.NewTimer(dialRetry)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, fmt.Errorf("%w (last: %w)", ctx.Err(), err)
		case <-t.C:
		}
	}
}

// MaxKernelFrame bounds a frame from the wrapped kernel, our own child: a
// 20 MB output is one frame, so only a broken length is refused.
const MaxKernelFrame = 4 << 30
