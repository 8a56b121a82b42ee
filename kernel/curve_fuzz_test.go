package kernel

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"testing"

	"golang.org/x/crypto/nacl/box"
)

// detRand is a deterministic byte stream (SHA-256 of a counter), so that
// a fuzz input replays the same handshake.
type detRand struct {
	n   uint64
	buf []byte
}

func (r *detRand) Read(p []byte) (int, error) {
	for i := range p {
		if len(r.buf) == 0 {
			var ctr [8]byte
			binary.BigEndian.PutUint64(ctr[:], r.n)
			r.n++
			sum := sha256.Sum256(ctr[:])
			r.buf = sum[:]
		}
		p[i], r.buf = r.buf[0], r.buf[1:]
	}
	return len(p), nil
}

// curvePair is a server handshake and a client, both deterministic, up to
// the client's valid INITIATE.
func curvePair(t testing.TB) (*curveHandshake, *curveClient, []byte) {
	t.Helper()
	r := &detRand{}
	spub, ssec, _ := box.GenerateKey(r)
	keys := &CurveKeys{Public: *spub, Secret: *ssec}
	c := &curveClient{server: keys.Public, nonce: 1}
	for _, kp := range [][2]*[32]byte{{&c.pub, &c.sec}, {&c.spub, &c.ssec}} {
		pub, sec, _ := box.GenerateKey(r)
		*kp[0], *kp[1] = *pub, *sec
	}
	h := &curveHandshake{keys: keys, rand: r}
	if err := h.hello(c.hello()); err != nil {
		t.Fatal(err)
	}
	w, err := h.welcome()
	if err != nil {
		t.Fatal(err)
	}
	init, err := c.initiateFor(w, "DEALER", r)
	if err != nil {
		t.Fatal(err)
	}
	return h, c, init
}

// HELLO: no input panics, and only a box made with our key opens.
func FuzzCurveHello(f *testing.F) {
	_, c, _ := curvePair(f)
	valid := (&curveClient{server: c.server, spub: c.spub, ssec: c.ssec, nonce: 1}).hello()
	f.Add(valid)
	f.Add(valid[:150])
	f.Add([]byte("\x05HELLO"))
	f.Fuzz(func(t *testing.T, body []byte) {
		h, _, _ := curvePair(t)
		// The anti-amplification padding (bytes 8-80) lies outside the box;
		// everything else must be the client's.
		if err := h.hello(body); err == nil && (!bytes.Equal(body[:8], valid[:8]) || !bytes.Equal(body[80:], valid[80:])) {
			t.Fatalf("forged HELLO accepted: %x", body)
		}
	})
}

// INITIATE: no input panics, and nothing but the client's own INITIATE
// passes (every part is sealed: cookie, box, vouch, metadata).
func FuzzCurveInitiate(f *testing.F) {
	_, _, init := curvePair(f)
	f.Add(init)
	f.Add(init[:minInitiateSize])
	f.Add(append(append([]byte{}, init...), 0))
	f.Fuzz(func(t *testing.T, body []byte) {
		h, _, valid := curvePair(t)
		if err := h.initiate(body); err == nil && !bytes.Equal(body, valid) {
			t.Fatalf("forged INITIATE accepted: %x", body)
		}
	})
}

// MESSAGE: no input panics; one accepted is the client's own sealing of
// what came out, under a nonce above every earlier one.
func FuzzCurveMessage(f *testing.F) {
	h, c, init := curvePair(f)
	if err := h.initiate(init); err != nil {
		f.Fatal(err)
	}
	first := c.sealFrame([]byte("hello"), false)
	f.Add(first[2:])
	f.Add(c.sealFrame(nil, true)[2:])
	f.Add([]byte("\x07MESSAGE"))
	f.Fuzz(func(t *testing.T, body []byte) {
		h, c, init := curvePair(t)
		if err := h.initiate(init); err != nil {
			t.Fatal(err)
		}
		conn := &curveConn{shared: h.shared, peerNonce: h.peerNonce}
		plain, err := conn.open(body, 0)
		if err != nil {
			return
		}
		nonce := binary.BigEndian.Uint64(body[8:16])
		if nonce <= h.peerNonce {
			t.Fatalf("nonce %d accepted after %d", nonce, h.peerNonce)
		}
		c.nonce = nonce
		again := c.sealFrame(plain[1:], plain[0]&1 != 0)
		if !bytes.Equal(again[len(again)-len(body):], body) {
			t.Fatalf("forged MESSAGE accepted: %x", body)
		}
	})
}
