package kernel

import (
	"bufio"
	"encoding/binary"
	"net"
	"sync"
)

// coalesceConn cuts zmq4's system calls. zmq4 v0.17.0 reads each frame
// header and body with separate reads, and its ROUTER writes every frame
// as a header write plus a body write: a Jupyter message of six frames
// costs a dozen syscalls each way. coalesceConn reads through a buffer and
// follows the ZMTP framing of what is written, sending a whole message
// (or the greeting, or a command) in one write. Bodies larger than
// flushAt go out as they come: for them the copy costs more than the call.
type coalesceConn struct {
	net.Conn
	r *bufio.Reader

	mu      sync.Mutex
	pending []byte
	greet   int // greeting bytes still to come
	hdr     [9]byte
	hdrLen  int    // header bytes collected
	body    uint64 // body bytes still to come
	last    bool   // the current frame ends a message, or is a command
}

const (
	coalesceReadBuf = 64 << 10
	flushAt         = 256 << 10
)

func newCoalesceConn(c net.Conn) *coalesceConn {
	c = rawSocket(c)
	return &coalesceConn{Conn: c, r: bufio.NewReaderSize(c, coalesceReadBuf), greet: 64}
}

func (c *coalesceConn) Read(p []byte) (int, error) { return c.r.Read(p) }

func (c *coalesceConn) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := len(p)
	for len(p) > 0 {
		var end bool // a unit (greeting, message, command) is complete
		switch {
		case c.greet > 0:
			k := min(c.greet, len(p))
			c.pending = append(c.pending, p[:k]...)
			p = p[k:]
			c.greet -= k
			end = c.greet == 0
		case c.body > 0:
			k := int(min(c.body, uint64(len(p))))
			c.pending = append(c.pending, p[:k]...)
			p = p[k:]
			c.body -= uint64(k)
			end = c.body == 0 && c.last
		default:
			if c.hdrLen == 0 {
				c.hdr[0] = p[0]
				c.hdrLen = 1
				c.pending = append(c.pending, p[0])
				p = p[1:]
				continue
			}
			want := 2
			if c.hdr[0]&flagLong != 0 {
				want = 9
			}
			k := min(want-c.hdrLen, len(p))
			copy(c.hdr[c.hdrLen:], p[:k])
			c.pending = append(c.pending, p[:k]...)
			p = p[k:]
			c.hdrLen += k
			if c.hdrLen < want {
				continue
			}
			c.body = uint64(c.hdr[1])
			if want == 9 {
				c.body = binary.BigEndian.Uint64(c.hdr[1:9])
			}
			c.last = c.hdr[0]&flagMore == 0 || c.hdr[0]&flagCommand != 0
			c.hdrLen = 0
			end = c.body == 0 && c.last
		}
		if end || len(c.pending) >= flushAt {
			if err := c.flush(); err != nil {
				return 0, err
			}
		}
	}
	return n, nil
}

func (c *coalesceConn) flush() error {
	if len(c.pending) == 0 {
		return nil
	}
	_, err := c.Conn.Write(c.pending)
	if cap(c.pending) > flushAt*2 {
		c.pending = nil // do not keep a large buffer after a big message
	} else {
		c.pending = c.pending[:0]
	}
	return err
}
