package kernel

import (
	"bufio"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"testing"
	"time"

	"golang.org/x/crypto/nacl/box"
)

// curveClient is a test-only CURVE client (RFC 26, as libzmq's
// curve_client.cpp lays it out), to drive the server through good and
// broken handshakes. Interop with libzmq itself is tested through pyzmq
// (curve_transcript_test.go, tests/integration/test_encryption.py).
type curveClient struct {
	nc        net.Conn
	r         *bufio.Reader
	server    [32]byte // S
	pub, sec  [32]byte // C, c
	spub      [32]byte // C'
	ssec      [32]byte // c'
	speer     [32]byte // S'
	shared    [32]byte
	nonce     uint64
	peerNonce uint64
	meta      map[string]string
	initiate  []byte // the INITIATE sent, for replays
}

func newCurveKeys(t testing.TB) CurveKeys {
	t.Helper()
	pub, sec, err := box.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return CurveKeys{Public: *pub, Secret: *sec}
}

// dialCurveRaw connects and exchanges greetings with mechanism mech.
func dialCurveRaw(addr string, server [32]byte, mech string) (*curveClient, error) {
	nc, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		return nil, err
	}
	_ = nc.SetDeadline(time.Now().Add(10 * time.Second))
	c := &curveClient{nc: nc, r: bufio.NewReader(nc), server: server, nonce: 1}
	pub, sec, _ := box.GenerateKey(rand.Reader)
	c.pub, c.sec = *pub, *sec
	spub, ssec, _ := box.GenerateKey(rand.Reader)
	c.spub, c.ssec = *spub, *ssec
	g := greeting()
	clear(g[12:32])
	copy(g[12:32], mech)
	if _, err := nc.Write(g); err != nil {
		return nil, err
	}
	peer := make([]byte, 64)
	if _, err := readFull(c.r, peer); err != nil {
		return nil, fmt.Errorf("read greeting: %w", err)
	}
	return c, nil
}

// dialCurve runs the whole client handshake as a socket of type typ.
func dialCurve(addr string, server [32]byte, typ string) (*curveClient, error) {
	c, err := dialCurveRaw(addr, server, "CURVE")
	if err != nil {
		return nil, err
	}
	if err := c.handshake(typ); err != nil {
		c.nc.Close()
		return nil, err
	}
	return c, nil
}

func (c *curveClient) short() []byte {
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], c.nonce)
	c.nonce++
	return b[:]
}

func (c *curveClient) hello() []byte {
	out := append([]byte("\x05HELLO\x01\x00"), make([]byte, 72)...)
	out = append(out, c.spub[:]...)
	short := c.short()
	out = append(out, short...)
	return box.Seal(out, make([]byte, 64), shortNonce(prefixHello, short), &c.server, &c.ssec)
}

func (c *curveClient) readCmd() ([]byte, error) {
	body, flags, err := readFrame(c.r, 1<<20)
	if err != nil {
		return nil, err
	}
	if flags&flagCommand == 0 {
		return nil, errors.New("not a command")
	}
	return body, nil
}

func (c *curveClient) handshake(typ string) error {
	if err := writeFrame(c.nc, c.hello(), flagCommand); err != nil {
		return err
	}
	w, err := c.readCmd()
	if err != nil {
		return fmt.Errorf("read WELCOME: %w", err)
	}
	out, err := c.initiateFor(w, typ, rand.Reader)
	if err != nil {
		return err
	}
	if err := writeFrame(c.nc, out, flagCommand); err != nil {
		return err
	}
	r, err := c.readCmd()
	if err != nil {
		return fmt.Errorf("read READY: %w", err)
	}
	return c.ready(r)
}

// initiateFor opens a WELCOME and returns the INITIATE that answers it.
func (c *curveClient) initiateFor(w []byte, typ string, random io.Reader) ([]byte, error) {
	if len(w) != welcomeSize || string(w[:8]) != "\x07WELCOME" {
		return nil, errors.New("bad WELCOME")
	}
	plain, ok := box.Open(nil, w[24:], longNonce(prefixWelcome, w[8:24]), &c.server, &c.ssec)
	if !ok {
		return nil, errors.New("WELCOME does not open")
	}
	copy(c.speer[:], plain[:32])
	cookie := plain[32:128]
	var vn [16]byte
	if _, err := io.ReadFull(random, vn[:]); err != nil {
		return nil, err
	}
	vouch := box.Seal(nil, append(append([]byte{}, c.spub[:]...), c.server[:]...), longNonce(prefixVouch, vn[:]), &c.speer, &c.sec)
	ip := append(append(append([]byte{}, c.pub[:]...), vn[:]...), vouch...)
	meta, _ := parseCommandBody(readyCommand(map[string]string{"Socket-Type": typ, "Identity": "client-1"}))
	ip = append(ip, meta...)
	short := c.short()
	out := append(append([]byte("\x08INITIATE"), cookie...), short...)
	out = box.Seal(out, ip, shortNonce(prefixInitiate, short), &c.speer, &c.ssec)
	c.initiate = out
	box.Precompute(&c.shared, &c.speer, &c.ssec)
	return out, nil
}

// ready checks the server's READY.
func (c *curveClient) ready(r []byte) error {
	if len(r) < 14+boxOverhead || string(r[:6]) != "\x05READY" {
		return errors.New("bad READY")
	}
	m, ok := box.OpenAfterPrecomputation(nil, r[14:], shortNonce(prefixReady, r[6:14]), &c.shared)
	if !ok {
		return errors.New("READY does not open")
	}
	c.peerNonce = binary.BigEndian.Uint64(r[6:14])
	var err error
	c.meta, err = parseProperties(m)
	return err
}

// sealFrame returns one MESSAGE frame (header included) for body.
func (c *curveClient) sealFrame(body []byte, more bool) []byte {
	var flags byte
	if more {
		flags = 1
	}
	short := c.short()
	msg := append([]byte("\x07MESSAGE"), short...)
	msg = box.SealAfterPrecomputation(msg, append([]byte{flags}, body...), shortNonce(prefixMsgFromC, short), &c.shared)
	return appendFrame(nil, msg, 0)
}

func (c *curveClient) send(frames ...[]byte) error {
	var out []byte
	for i, f := range frames {
		out = append(out, c.sealFrame(f, i < len(frames)-1)...)
	}
	_, err := c.nc.Write(out)
	return err
}

func (c *curveClient) recv() ([][]byte, error) {
	var frames [][]byte
	for {
		body, _, err := readFrame(c.r, 1<<30)
		if err != nil {
			return nil, err
		}
		if len(body) < curveFrameOverhead || string(body[:8]) != "\x07MESSAGE" {
			return nil, errors.New("not a MESSAGE")
		}
		n := binary.BigEndian.Uint64(body[8:16])
		if n <= c.peerNonce {
			return nil, fmt.Errorf("server nonce %d not above %d", n, c.peerNonce)
		}
		c.peerNonce = n
		plain, ok := box.OpenAfterPrecomputation(nil, body[16:], shortNonce(prefixMsgToC, body[8:16]), &c.shared)
		if !ok {
			return nil, errors.New("MESSAGE does not open")
		}
		if plain[0]&0x02 != 0 {
			continue // a command (PONG)
		}
		frames = append(frames, plain[1:])
		if plain[0]&0x01 == 0 {
			return frames, nil
		}
	}
}
