package kernel

import (
	"encoding/binary"
	"errors"
	"os"

	"golang.org/x/crypto/nacl/box"
)

// Write takes the ZMTP byte stream of a NULL-mechanism socket and puts it
// on the wire as CURVE: the socket's greeting and READY are dropped (the
// handshake sent ours), and every frame is sealed into a MESSAGE. Frames
// of one message leave in one write, as coalesceConn does for NULL. An
// empty Write puts on the wire what writeNow left sealed.
func (c *curveConn) Write(p []byte) (int, error) {
	if err := c.handshake(); err != nil {
		return 0, err
	}
	c.wmu.Lock()
	defer c.wmu.Unlock()
	if len(p) == 0 {
		return 0, c.flushOut()
	}
	return c.take(p, true)
}

// take parses p as ZMTP frames and seals each into out; with flush, the
// end of a message, and out past flushAt, go on the wire at once. It
// returns how much of p it took: all of it, unless a write failed.
func (c *curveConn) take(p []byte, flush bool) (int, error) {
	n := len(p)
	for len(p) > 0 {
		switch {
		case c.wgreet > 0:
			k := min(c.wgreet, len(p))
			c.wgreet -= k
			p = p[k:]
		case c.wskip > 0:
			k := min(c.wskip, uint64(len(p)))
			c.wskip -= k
			p = p[k:]
		case c.wopen:
			k := min(c.wneed, uint64(len(p)))
			c.wplain = append(c.wplain, p[:k]...)
			c.wneed -= k
			p = p[k:]
		default:
			p = c.writeHeader(p)
		}
		if c.wopen && c.wneed == 0 {
			c.wopen = false
			c.out = c.seal(c.out, c.wplain)
			if flush && c.wlast {
				if err := c.flushOut(); err != nil {
					return n - len(p), err
				}
			}
		}
		if flush && len(c.out) >= flushAt {
			if err := c.flushOut(); err != nil {
				return n - len(p), err
			}
		}
	}
	return n, nil
}

// writeNow is the inline write of an encrypted peer's queue (pubqueue.go,
// peerqueue.go), which a NULL peer makes with one non-blocking write(2):
// msg, one whole encoded message, is sealed and written as far as the
// socket takes it at once, never waiting. What the wire does not take
// stays sealed in out, ahead of whatever is written next; held reports
// that, and the queue's writer then calls Write with nothing to put it on
// the wire. tried is false when nothing was done (no raw descriptor, the
// handshake or an earlier message still under way): the queue keeps msg
// for its writer, which seals it through Write. The sealed bytes never
// leave the connection, so no plaintext can reach the wire this way.
func (c *curveConn) writeNow(msg []byte) (tried, held bool, err error) {
	if c.rc == nil || !c.ready.Load() || !c.wmu.TryLock() {
		return false, false, nil
	}
	defer c.wmu.Unlock()
	if c.wgreet > 0 || c.wready || c.wskip > 0 || c.wopen || c.whdrLen > 0 || len(c.out) > 0 {
		return false, false, nil
	}
	_, _ = c.take(msg, false) // without flush, take does not write and cannot fail
	c.nowN, c.nowE = 0, 0
	err = c.rc.Write(c.nowFn)
	if err == nil && c.nowE != 0 {
		err = os.NewSyscallError("write", c.nowE)
	}
	if err != nil {
		c.out = keep(c.out)
		c.Conn.Close()
		return true, false, err
	}
	if c.nowN == len(c.out) {
		c.out = keep(c.out)
		return true, false, nil
	}
	c.out = c.out[:copy(c.out, c.out[c.nowN:])]
	return true, true, nil
}

// writeSome is writeNow's RawConn callback: write out until the socket
// takes no more.
func (c *curveConn) writeSome(fd uintptr) bool {
	c.nowN, c.nowE = writeSome(fd, c.out)
	return true
}

// writeHeader collects a frame header from p and returns the rest.
func (c *curveConn) writeHeader(p []byte) []byte {
	if c.whdrLen == 0 {
		c.whdr[0], c.whdrLen, p = p[0], 1, p[1:]
		return p
	}
	want := 2
	if c.whdr[0]&flagLong != 0 {
		want = 9
	}
	k := min(want-c.whdrLen, len(p))
	copy(c.whdr[c.whdrLen:], p[:k])
	c.whdrLen += k
	p = p[k:]
	if c.whdrLen < want {
		return p
	}
	c.whdrLen = 0
	size := uint64(c.whdr[1])
	if want == 9 {
		size = binary.BigEndian.Uint64(c.whdr[1:9])
	}
	if c.wready {
		// The socket's own READY: ours went out in the handshake.
		c.wready, c.wskip = false, size
		return p
	}
	var flags byte
	if c.whdr[0]&flagMore != 0 {
		flags |= 0x01
	}
	if c.whdr[0]&flagCommand != 0 {
		flags |= 0x02
	}
	c.wplain = append(keep(c.wplain), flags)
	c.wneed, c.wopen = size, true
	c.wlast = c.whdr[0]&flagMore == 0 || c.whdr[0]&flagCommand != 0
	return p
}

// seal appends one MESSAGE frame carrying plain (flags byte first).
func (c *curveConn) seal(out, plain []byte) []byte {
	var short [8]byte
	binary.BigEndian.PutUint64(short[:], c.nonce)
	c.nonce++
	var hdr [9]byte
	n := frameHeader(&hdr, 16+len(plain)+boxOverhead, 0)
	out = append(append(append(out, hdr[:n]...), "\x07MESSAGE"...), short[:]...)
	return box.SealAfterPrecomputation(out, plain, shortNonce(prefixMsgToC, short[:]), &c.shared)
}

// flushOut writes out. A write deadline passing (peerQueue's writer sets
// one to log a peer that does not read) leaves the rest sealed in out for
// the next Write, as a NULL peer's rest stays in its queue; any other
// failure cuts the connection.
func (c *curveConn) flushOut() error {
	if len(c.out) == 0 {
		return nil
	}
	n, err := c.w.Write(c.out)
	if errors.Is(err, os.ErrDeadlineExceeded) {
		c.out = c.out[:copy(c.out, c.out[n:])]
		return err
	}
	c.out = keep(c.out)
	if err != nil {
		c.Conn.Close()
	}
	return err
}
