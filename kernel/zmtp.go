package kernel

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"maps"
	"net"
	"slices"
)

// This file holds the small part of ZMTP 3.0 (NULL security) that the
// frontend-facing iopub socket speaks itself; see pub.go for why.

// maxSubscriberFrame bounds frames a subscriber may send us (subscriptions
// are a byte plus a topic). Larger frames cut the connection before any
// allocation.
const maxSubscriberFrame = 64 << 10

const (
	flagMore    = 0x01
	flagLong    = 0x02
	flagCommand = 0x04
)

// greeting is our ZMTP 3.0 greeting: signature, version 3.0, NULL, as-server 0.
func greeting() []byte {
	g := make([]byte, 64)
	g[0] = 0xff
	g[9] = 0x7f
	g[10], g[11] = 3, 0
	copy(g[12:32], "NULL")
	return g
}

// checkGreeting validates a peer's 64-byte greeting.
func checkGreeting(g []byte) error {
	if len(g) != 64 || g[0] != 0xff || g[9]&1 != 1 {
		return errors.New("not a ZMTP peer")
	}
	if g[10] < 3 {
		return fmt.Errorf("ZMTP %d.%d peer not supported", g[10], g[11])
	}
	if mech := string(bytes.TrimRight(g[12:32], "\x00")); mech != "NULL" {
		return fmt.Errorf("security mechanism %q not supported", mech)
	}
	return nil
}

// readyCommand encodes a READY command body with the given properties.
func readyCommand(props map[string]string) []byte {
	var b bytes.Buffer
	b.WriteByte(5)
	b.WriteString("READY")
	// Sorted, so a command is the same bytes every time (the CURVE fuzz
	// oracles compare sealed INITIATEs byte for byte).
	for _, k := range slices.Sorted(maps.Keys(props)) {
		v := props[k]
		b.WriteByte(byte(len(k)))
		b.WriteString(k)
		var n [4]byte
		binary.BigEndian.PutUint32(n[:], uint32(len(v)))
		b.Write(n[:])
		b.WriteString(v)
	}
	return b.Bytes()
}

// parseCommand splits a command frame body into its name and data.
func parseCommand(body []byte) (name string, data []byte, err error) {
	if len(body) < 1 || int(body[0]) > len(body)-1 {
		return "", nil, errors.New("malformed command")
	}
	n := int(body[0])
	return string(body[1 : 1+n]), body[1+n:], nil
}

// parseProperties decodes READY metadata.
func parseProperties(data []byte) (map[string]string, error) {
	props := map[string]string{}
	for len(data) > 0 {
		n := int(data[0])
		if len(data) < 1+n+4 {
			return nil, errors.New("malformed metadata")
		}
		name := string(data[1 : 1+n])
		data = data[1+n:]
		vl := binary.BigEndian.Uint32(data[:4])
		data = data[4:]
		if uint64(vl) > uint64(len(data)) {
			return nil, errors.New("malformed metadata")
		}
		props[name] = string(data[:vl])
		data = data[vl:]
	}
	return props, nil
}

// pong is the answer to a ZMTP 3.1 PING whose data (a TTL, then a
// context) is given: a PONG with the same context. A PING too short to
// carry its TTL gets none.
func pong(ping []byte) ([]byte, bool) {
	if len(ping) < 2 {
		return nil, false
	}
	return append([]byte{4, 'P', 'O', 'N', 'G'}, ping[2:]...), true
}

// frameHeader encodes a frame header into hdr and returns its length.
func frameHeader(hdr *[9]byte, size int, flags byte) int {
	if size > 255 {
		hdr[0] = flags | flagLong
		binary.BigEndian.PutUint64(hdr[1:], uint64(size))
		return 9
	}
	hdr[0] = flags
	hdr[1] = byte(size)
	return 2
}

// writeFrame writes one frame.
func writeFrame(w io.Writer, body []byte, flags byte) error {
	_, err := w.Write(appendFrame(nil, body, flags))
	return err
}

// appendFrame appends one frame, header and body, to buf.
func appendFrame(buf, body []byte, flags byte) []byte {
	var hdr [9]byte
	n := frameHeader(&hdr, len(body), flags)
	return append(append(buf, hdr[:n]...), body...)
}

// appendMessage appends a multipart message's frames to buf.
func appendMessage(buf []byte, frames [][]byte) []byte {
	for i, f := range frames {
		var flags byte
		if i < len(frames)-1 {
			flags = flagMore
		}
		buf = appendFrame(buf, f, flags)
	}
	return buf
}

// readFrame reads one frame, refusing frames larger than limit.
func readFrame(r io.Reader, limit uint64) (body []byte, flags byte, err error) {
	var hdr [9]byte
	return readFrameWith(r, limit, &hdr)
}

// readFrameWith is readFrame with the caller's scratch for the header:
// handed to an io.Reader, a local one escapes, an allocation per frame.
func readFrameWith(r io.Reader, limit uint64, hdr *[9]byte) (body []byte, flags byte, err error) {
	if _, err = io.ReadFull(r, hdr[:2]); err != nil {
		return nil, 0, err
	}
	flags = hdr[0]
	size := uint64(hdr[1])
	if flags&flagLong != 0 {
		if _, err = io.ReadFull(r, hdr[2:9]); err != nil {
			return nil, 0, err
		}
		size = binary.BigEndian.Uint64(hdr[1:9])
	}
	if size > limit {
		return nil, 0, fmt.Errorf("frame of %d bytes exceeds the %d-byte limit", size, limit)
	}
	body = make([]byte, size)
	_, err = io.ReadFull(r, body)
	return body, flags, err
}

// encodeMessage lays out a multipart message as one buffer list (one writev).
func encodeMessage(frames [][]byte) net.Buffers {
	bufs := make(net.Buffers, 0, 2*len(frames))
	hdrs := make([]byte, 9*len(frames))
	for i, f := range frames {
		var flags byte
		if i < len(frames)-1 {
			flags = flagMore
		}
		var hdr [9]byte
		n := frameHeader(&hdr, len(f), flags)
		h := hdrs[9*i : 9*i+n]
		copy(h, hdr[:n])
		bufs = append(bufs, h, f)
	}
	return bufs
}
