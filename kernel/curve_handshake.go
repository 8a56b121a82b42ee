package kernel

import (
	"bytes"
	"crypto/rand"
	"crypto/subtle"
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	"golang.org/x/crypto/nacl/box"
	"golang.org/x/crypto/nacl/secretbox"
)

// The CURVE handshake's commands, server side, as pure steps over command
// bodies (no I/O; curve_conn.go drives them). Layouts and nonce prefixes
// follow RFC 26 and libzmq's curve_server.cpp: the client's HELLO proves
// it knows our public key; our WELCOME gives it our short-term key and a
// cookie (its short-term key and our short-term secret, sealed with a key
// only this connection knows, so a replayed INITIATE fails anywhere else);
// its INITIATE returns the cookie with its long-term key vouching for its
// short-term one and its metadata; our READY carries ours. Every later
// frame is a MESSAGE boxed between the two short-term keys.

// Command sizes fixed by RFC 26.
const (
	helloSize       = 200
	welcomeSize     = 168
	minInitiateSize = 257 // name, cookie, nonce, box of key, vouch and no metadata
	// maxHandshakeFrame bounds a handshake command: INITIATE carries only
	// the client's metadata (socket type, identity).
	maxHandshakeFrame = 64 << 10
	// boxOverhead is a box's authenticator.
	boxOverhead = box.Overhead
)

// Nonce prefixes (RFC 26).
const (
	prefixHello    = "CurveZMQHELLO---"
	prefixWelcome  = "WELCOME-"
	prefixCookie   = "COOKIE--"
	prefixInitiate = "CurveZMQINITIATE"
	prefixVouch    = "VOUCH---"
	prefixReady    = "CurveZMQREADY---"
	prefixMsgToC   = "CurveZMQMESSAGES" // server to client
	prefixMsgFromC = "CurveZMQMESSAGEC" // client to server
)

// errCurve marks a handshake or message that fails CURVE's checks.
var errCurve = errors.New("curve")

// curveHandshake is one connection's server handshake state.
type curveHandshake struct {
	keys      *CurveKeys
	rand      io.Reader // nil = crypto/rand
	client    [32]byte  // C', the client's short-term public key
	pub, sec  [32]byte  // S', s': our short-term keypair
	cookieKey [32]byte  // this connection's cookie key
	peerNonce uint64    // the client's last short nonce
	shared    [32]byte  // precomputed box key of C' and s', after INITIATE
	meta      []byte    // the client's metadata, after INITIATE
}

func (h *curveHandshake) random(b []byte) error {
	r := h.rand
	if r == nil {
		r = rand.Reader
	}
	if _, err := io.ReadFull(r, b); err != nil {
		return fmt.Errorf("random bytes: %w", err)
	}
	return nil
}

// shortNonce is a 24-byte nonce of a 16-byte prefix and an 8-byte counter.
func shortNonce(prefix string, short []byte) *[24]byte {
	var n [24]byte
	copy(n[:], prefix)
	copy(n[16:], short)
	return &n
}

// longNonce is a 24-byte nonce of an 8-byte prefix and 16 bytes.
func longNonce(prefix string, long []byte) *[24]byte {
	var n [24]byte
	copy(n[:], prefix)
	copy(n[8:], long)
	return &n
}

// hello checks a HELLO command body: version 1.0, and a box of 64 zero
// bytes that only our secret key opens.
func (h *curveHandshake) hello(body []byte) error {
	if !bytes.HasPrefix(body, []byte("\x05HELLO")) {
		return fmt.Errorf("%w: expected HELLO", errCurve)
	}
	if len(body) != helloSize {
		return fmt.Errorf("%w: HELLO of %d bytes", errCurve, len(body))
	}
	if body[6] != 1 || body[7] != 0 {
		return fmt.Errorf("%w: CurveZMQ version %d.%d", errCurve, body[6], body[7])
	}
	copy(h.client[:], body[80:112])
	plain, ok := box.Open(nil, body[120:200], shortNonce(prefixHello, body[112:120]), &h.client, &h.keys.Secret)
	if !ok || len(plain) != 64 || !allZero(plain) {
		return fmt.Errorf("%w: HELLO does not open with our key (wrong server key?)", errCurve)
	}
	h.peerNonce = binary.BigEndian.Uint64(body[112:120])
	return nil
}

// welcome makes our short-term keypair and the WELCOME command body.
func (h *curveHandshake) welcome() ([]byte, error) {
	pub, sec, err := box.GenerateKey(randReader{h})
	if err != nil {
		return nil, fmt.Errorf("short-term key: %w", err)
	}
	h.pub, h.sec = *pub, *sec
	var nonces [32]byte // cookie nonce, welcome nonce
	if err := h.random(h.cookieKey[:]); err != nil {
		return nil, err
	}
	if err := h.random(nonces[:]); err != nil {
		return nil, err
	}
	plain := make([]byte, 0, 64)
	plain = append(append(plain, h.client[:]...), h.sec[:]...)
	cookie := append([]byte{}, nonces[:16]...)
	cookie = secretbox.Seal(cookie, plain, longNonce(prefixCookie, nonces[:16]), &h.cookieKey)
	wplain := append(append(make([]byte, 0, 128), h.pub[:]...), cookie...)
	out := make([]byte, 0, welcomeSize)
	out = append(append(out, "\x07WELCOME"...), nonces[16:]...)
	out = box.Seal(out, wplain, longNonce(prefixWelcome, nonces[16:]), &h.client, &h.keys.Secret)
	return out, nil
}

// initiate checks an INITIATE command body: our cookie, a box from the
// client's short-term key to ours holding its long-term key, a vouch of
// that key for the short-term one and us, and its metadata.
func (h *curveHandshake) initiate(body []byte) error {
	if !bytes.HasPrefix(body, []byte("\x08INITIATE")) {
		return fmt.Errorf("%w: expected INITIATE", errCurve)
	}
	if len(body) < minInitiateSize {
		return fmt.Errorf("%w: INITIATE of %d bytes", errCurve, len(body))
	}
	cookie, ok := secretbox.Open(nil, body[25:105], longNonce(prefixCookie, body[9:25]), &h.cookieKey)
	if !ok || len(cookie) != 64 ||
		subtle.ConstantTimeCompare(cookie[:32], h.client[:]) != 1 ||
		subtle.ConstantTimeCompare(cookie[32:], h.sec[:]) != 1 {
		return fmt.Errorf("%w: INITIATE cookie not ours", errCurve)
	}
	plain, ok := box.Open(nil, body[113:], shortNonce(prefixInitiate, body[105:113]), &h.client, &h.sec)
	if !ok || len(plain) < 128 {
		return fmt.Errorf("%w: INITIATE box does not open", errCurve)
	}
	var long [32]byte
	copy(long[:], plain[:32])
	vouch, ok := box.Open(nil, plain[48:128], longNonce(prefixVouch, plain[32:48]), &long, &h.sec)
	if !ok || len(vouch) != 64 ||
		subtle.ConstantTimeCompare(vouch[:32], h.client[:]) != 1 ||
		subtle.ConstantTimeCompare(vouch[32:], h.keys.Public[:]) != 1 {
		return fmt.Errorf("%w: INITIATE vouch invalid", errCurve)
	}
	if _, err := parseProperties(plain[128:]); err != nil {
		return fmt.Errorf("%w: INITIATE metadata: %w", errCurve, err)
	}
	h.meta = plain[128:]
	h.peerNonce = binary.BigEndian.Uint64(body[105:113])
	box.Precompute(&h.shared, &h.client, &h.sec)
	// Forward secrecy: nothing but the session key outlives the handshake.
	clear(h.sec[:])
	clear(h.cookieKey[:])
	return nil
}

// ready returns the READY command body carrying props, boxed with the
// session key under the first of our short nonces.
func (h *curveHandshake) ready(props map[string]string, nonce uint64) []byte {
	meta, _ := parseCommandBody(readyCommand(props))
	var short [8]byte
	binary.BigEndian.PutUint64(short[:], nonce)
	out := append([]byte("\x05READY"), short[:]...)
	return box.SealAfterPrecomputation(out, meta, shortNonce(prefixReady, short[:]), &h.shared)
}

// parseCommandBody returns a command's data (after its name).
func parseCommandBody(cmd []byte) ([]byte, error) {
	_, data, err := parseCommand(cmd)
	return data, err
}

func allZero(b []byte) bool {
	var v byte
	for _, c := range b {
		v |= c
	}
	return v == 0
}

// randReader adapts the handshake's random source to box.GenerateKey.
type randReader struct{ h *curveHandshake }

func (r randReader) Read(p []byte) (int, error) {
	if err := r.h.random(p); err != nil {
		return 0, err
	}
	return len(p), nil
}
