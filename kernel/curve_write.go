package kernel

import (
	"encoding/binary"

	"golang.org/x/crypto/nacl/box"
)

// Write takes the ZMTP byte stream of a NULL-mechanism socket and puts it
// on the wire as CURVE: the socket's greeting and READY are dropped (the
// handshake sent ours), and every frame is sealed into a MESSAGE. Frames
// of one message leave in one write, as coalesceConn does for NULL.
func (c *curveConn) Write(p []byte) (int, error) {
	if err := c.handshake(); err != nil {
		return 0, err
	}
	c.wmu.Lock()
	defer c.wmu.Unlock()
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
			if err := c.sealFrame(); err != nil {
				return 0, err
			}
		}
		if len(c.out) >= flushAt {
			if err := c.flushOut(); err != nil {
				return 0, err
			}
		}
	}
	return n, nil
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

// sealFrame seals the collected frame into out; the end of a message is
// written at once.
func (c *curveConn) sealFrame() error {
	c.wopen = false
	c.out = c.seal(c.out, c.wplain)
	if c.wlast {
		return c.flushOut()
	}
	return nil
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

func (c *curveConn) flushOut() error {
	if len(c.out) == 0 {
		return nil
	}
	_, err := c.w.Write(c.out)
	c.out = keep(c.out)
	if err != nil {
		c.Conn.Close()
	}
	return err
}
