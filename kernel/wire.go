package kernel

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"strings"
	"sync"
)

// Delimiter separates the routing identities from the signed part of a
// Jupyter message.
var Delimiter = []byte("<IDS|MSG>")

// Errors returned by Parse and Signer.Verify.
var (
	ErrNoDelimiter  = errors.New("no <IDS|MSG> delimiter")
	ErrShortMessage = errors.New("fewer than four frames after the delimiter")
	ErrBadSignature = errors.New("bad signature")
)

// Frames is a Jupyter message split at its delimiter. The slices alias the
// frames it was parsed from.
type Frames struct {
	Idents       [][]byte // routing identities (or the iopub topic)
	Signature    []byte   // hex HMAC of the four dict frames
	Header       []byte
	ParentHeader []byte
	Metadata     []byte
	Content      []byte
	Buffers      [][]byte
}

// Parse splits raw ZeroMQ frames into a Jupyter message without copying.
// It never panics on malformed input.
func Parse(raw [][]byte) (Frames, error) {
	var f Frames
	d := -1
	for i, fr := range raw {
		if bytes.Equal(fr, Delimiter) {
			d = i
			break
		}
	}
	if d < 0 {
		return f, ErrNoDelimiter
	}
	if len(raw)-d-1 < 5 {
		return f, ErrShortMessage
	}
	f.Idents = raw[:d]
	f.Signature = raw[d+1]
	f.Header = raw[d+2]
	f.ParentHeader = raw[d+3]
	f.Metadata = raw[d+4]
	f.Content = raw[d+5]
	if len(raw) > d+6 {
		f.Buffers = raw[d+6:]
	}
	return f, nil
}

// Encode lays the message out as ZeroMQ frames, signing it with s.
func (s *Signer) Encode(f Frames) [][]byte {
	out := make([][]byte, 0, len(f.Idents)+6+len(f.Buffers))
	out = append(out, f.Idents...)
	out = append(out, Delimiter, s.Sign(f.Header, f.ParentHeader, f.Metadata, f.Content),
		f.Header, f.ParentHeader, f.Metadata, f.Content)
	return append(out, f.Buffers...)
}

// Signer signs and verifies messages with the connection file's key and
// signature scheme. A Signer with an empty key signs with "" and accepts
// any signature, as Jupyter does for unsigned connections.
type Signer struct {
	key     []byte
	newHash func() hash.Hash
	macs    sync.Pool // keyed HMACs, reused: a new one costs six allocations
}

// NewSigner returns a Signer for scheme (such as "hmac-sha256") and key.
func NewSigner(scheme string, key []byte) (*Signer, error) {
	s := &Signer{key: key}
	if len(key) == 0 {
		return s, nil
	}
	alg, ok := strings.CutPrefix(scheme, "hmac-")
	if !ok {
		return nil, fmt.Errorf("unsupported signature scheme %q (want hmac-<hash>)", scheme)
	}
	switch alg {
	case "sha256":
		s.newHash = sha256.New
	case "sha512":
		s.newHash = sha512.New
	case "sha384":
		s.newHash = sha512.New384
	case "sha1":
		s.newHash = sha1.New
	case "sha224":
		s.newHash = sha256.New224
	default:
		return nil, fmt.Errorf("unsupported signature scheme %q", scheme)
	}
	return s, nil
}

// Signing reports whether messages are signed at all.
func (s *Signer) Signing() bool { return len(s.key) != 0 }

// mac appends the HMAC of the four dict frames to dst.
func (s *Signer) mac(dst []byte, header, parent, metadata, content []byte) []byte {
	m, _ := s.macs.Get().(hash.Hash)
	if m == nil {
		m = hmac.New(s.newHash, s.key)
	}
	m.Reset()
	m.Write(header)
	m.Write(parent)
	m.Write(metadata)
	m.Write(content)
	dst = m.Sum(dst)
	s.macs.Put(m)
	return dst
}

// Sign returns the hex signature of the four dict frames.
func (s *Signer) Sign(header, parent, metadata, content []byte) []byte {
	if !s.Signing() {
		return []byte{}
	}
	var buf [sha512.Size]byte
	sum := s.mac(buf[:0], header, parent, metadata, content)
	out := make([]byte, hex.EncodedLen(len(sum)))
	hex.Encode(out, sum)
	return out
}

// Verify checks f's signature in constant time.
func (s *Signer) Verify(f *Frames) error {
	if !s.Signing() {
		return nil
	}
	var buf [sha512.Size]byte
	sum := s.mac(buf[:0], f.Header, f.ParentHeader, f.Metadata, f.Content)
	var want [2 * sha512.Size]byte
	n := hex.Encode(want[:], sum)
	if !hmac.Equal(want[:n], f.Signature) {
		return ErrBadSignature
	}
	return nil
}
