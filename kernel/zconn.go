package kernel

import (
	"context"
	"errors"
	"fmt"
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
// Here zmq4 still does the handshake (zmq4.Open) and writes messages
// (Conn.SendMsg); the forwarding goroutine reads frames straight from the
// connection's buffer and writes straight to the destination, so a message
// crosses the proxy on one goroutine.

// zconn is one ZMTP connection after its handshake.
type zconn struct {
	z     *zmq4.Conn
	nc    net.Conn   // what z reads and writes: coalescing, guarded for frontends
	id    []byte     // the peer's routing identity (router peers)
	limit uint64     // largest frame accepted
	wmu   sync.Mutex // one message at a time on the wire
}

// openZMTP runs the ZMTP handshake over nc as a socket of type typ.
func openZMTP(nc net.Conn, typ zmq4.SocketType, id string, server bool, limit uint64) (*zconn, error) {
	z, err := zmq4.Open(nc, null.Security(), typ, zmq4.SocketIdentity(id), server, nil)
	if err != nil {
		nc.Close()
		return nil, err
	}
	return &zconn{z: z, nc: nc, limit: limit}, nil
}

// recv returns the next message's frames. ZMTP commands are not messages:
// a PING is answered, others are skipped.
func (c *zconn) recv() ([][]byte, error) {
	var frames [][]byte
	for {
		body, flags, err := readFrame(c.nc, c.limit)
		if err != nil {
			return nil, err
		}
		if flags&flagCommand != 0 {
			if len(frames) > 0 {
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

// send writes one message.
func (c *zconn) send(frames [][]byte) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	return c.z.SendMsg(zmq4.NewMsgFrom(frames...))
}

func (c *zconn) sendCmd(body []byte) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	return writeFrame(c.nc, body, flagCommand)
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
