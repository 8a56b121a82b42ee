package kernel

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/crypto/nacl/box"
)

// CURVE lives in the transport: a curveConn runs the CURVE handshake on
// the wire and then shows the socket above it (zmq4's handshake for the
// routers and heartbeat, pub.go's for iopub, and the frame readers and
// writers of zconn.go and pub.go) a NULL-mechanism ZMTP peer: a NULL
// greeting and a READY carrying the client's metadata, then each MESSAGE
// decrypted into the frame it carries. What the socket writes is parsed
// frame by frame and sealed, each frame one MESSAGE (libzmq sends them as
// ordinary frames with no flags; the frame's MORE and COMMAND flags travel
// inside the box). So the sockets keep one code path, and the encryption
// cannot be skipped by a socket that forgets it.

// curveListener accepts connections that must speak CURVE with keys.
type curveListener struct {
	net.Listener
	keys     *CurveKeys
	sockType string // our ZMTP socket type, for READY
	limit    uint64 // largest frame a client may send
	log      *slog.Logger
}

// listenCurve wraps ln so that every connection speaks CURVE; keys nil
// returns ln unchanged (NULL, the default).
func listenCurve(ln net.Listener, keys *CurveKeys, sockType string, limit uint64, log *slog.Logger) net.Listener {
	if keys == nil {
		return ln
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return curveListener{Listener: ln, keys: keys, sockType: sockType, limit: limit + curveFrameOverhead, log: log}
}

// curveFrameOverhead is what a MESSAGE adds to the frame it carries: its
// name, short nonce, authenticator and the flags byte.
const curveFrameOverhead = 8 + 8 + boxOverhead + 1

func (l curveListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	cc := &curveConn{Conn: c, w: wire(c), l: l, wgreet: 64, wready: true}
	if sc, ok := cc.w.(syscall.Conn); ok {
		cc.rc, _ = sc.SyscallConn()
		cc.nowFn = cc.writeSome
	}
	return cc, nil
}

// curveConn is one CURVE connection (server side).
type curveConn struct {
	net.Conn           // the wire, read through the guard and its buffer
	w        io.Writer // the wire under those wrappers, for writes
	l        curveListener

	hsMu   sync.Mutex
	hsDone bool
	hsErr  error
	ready  atomic.Bool // the handshake succeeded (for writeNow, which must not wait on hsMu)
	shared [32]byte    // session key; read-only after the handshake

	rmu       sync.Mutex
	rbuf      []byte // plaintext ZMTP bytes not yet read by the socket
	roff      int
	rplain    []byte
	rhdr      [9]byte
	peerNonce uint64

	wmu     sync.Mutex
	wgreet  int  // greeting bytes of the socket still to swallow
	wready  bool // the socket's own READY still to swallow
	whdr    [9]byte
	whdrLen int
	wskip   uint64 // bytes of the swallowed READY still to come
	wneed   uint64 // body bytes of the frame being collected
	wopen   bool   // a frame is being collected in wplain
	wplain  []byte // flags byte and body of that frame
	wlast   bool   // that frame ends a message or is a command
	out     []byte // sealed, not yet on the wire
	nonce   uint64 // our next short nonce

	// writeNow's attempt, under wmu: the wire's raw descriptor, the
	// callback made once, and how far it got.
	rc    syscall.RawConn
	nowFn func(fd uintptr) bool
	nowN  int
	nowE  syscall.Errno
}

// handshake runs the CURVE handshake once; later calls return its result.
func (c *curveConn) handshake() error {
	c.hsMu.Lock()
	defer c.hsMu.Unlock()
	if !c.hsDone {
		c.hsDone = true
		c.hsErr = c.runHandshake()
		if c.hsErr != nil {
			c.refused(c.hsErr)
			c.Conn.Close()
		} else {
			c.ready.Store(true)
		}
	}
	return c.hsErr
}

// refused logs why a connection was cut. A peer that connected and left
// without a byte (a port probe) is not worth a warning.
func (c *curveConn) refused(err error) {
	peer := c.RemoteAddr().String()
	if errors.Is(err, io.EOF) || errors.Is(err, net.ErrClosed) {
		c.l.log.Debug("frontend peer left during the CURVE handshake", "peer", peer, "err", err)
		return
	}
	c.l.log.Warn("frontend connection cut: CURVE handshake failed", "peer", peer, "err", err)
}

func (c *curveConn) runHandshake() error {
	deadline := time.Now().Add(handshakeTimeout)
	_ = c.Conn.SetDeadline(deadline)
	if _, err := c.w.Write(curveGreeting()); err != nil {
		return fmt.Errorf("send greeting: %w", err)
	}
	g := make([]byte, 64)
	if _, err := io.ReadFull(c.Conn, g); err != nil {
		return fmt.Errorf("read greeting: %w", err)
	}
	if err := checkCurveGreeting(g); err != nil {
		return err
	}
	h := curveHandshake{keys: c.l.keys}
	body, err := c.readCommand()
	if err != nil {
		return err
	}
	if err := h.hello(body); err != nil {
		return err
	}
	_ = c.Conn.SetDeadline(deadline) // the guard lifts it at the first frame
	welcome, err := h.welcome()
	if err != nil {
		return err
	}
	if err := writeFrame(c.w, welcome, flagCommand); err != nil {
		return fmt.Errorf("send WELCOME: %w", err)
	}
	if body, err = c.readCommand(); err != nil {
		return err
	}
	if err := h.initiate(body); err != nil {
		return err
	}
	props := map[string]string{"Socket-Type": c.l.sockType}
	if c.l.sockType == "ROUTER" {
		props[peerIdentity] = ""
	}
	if err := writeFrame(c.w, h.ready(props, 1), flagCommand); err != nil {
		return fmt.Errorf("send READY: %w", err)
	}
	c.shared, c.nonce, c.peerNonce = h.shared, 2, h.peerNonce
	// What the socket above reads first: a NULL peer's greeting and READY.
	c.rbuf = appendFrame(greeting(), append([]byte("\x05READY"), h.meta...), flagCommand)
	return c.Conn.SetDeadline(time.Time{})
}

// readCommand reads one handshake command frame.
func (c *curveConn) readCommand() ([]byte, error) {
	body, flags, err := readFrameWith(c.Conn, maxHandshakeFrame, &c.rhdr)
	if err != nil {
		return nil, fmt.Errorf("read handshake command: %w", err)
	}
	if flags&flagCommand == 0 {
		return nil, fmt.Errorf("%w: a message frame during the handshake", errCurve)
	}
	return body, nil
}

// curveGreeting is our greeting: ZMTP 3.0, CURVE, as-server.
func curveGreeting() []byte {
	g := greeting()
	clear(g[12:32])
	copy(g[12:32], "CURVE")
	g[32] = 1
	return g
}

// checkCurveGreeting validates a client's greeting.
func checkCurveGreeting(g []byte) error {
	if g[0] != 0xff || g[9]&1 != 1 {
		return fmt.Errorf("%w: not a ZMTP peer", errCurve)
	}
	if g[10] < 3 {
		return fmt.Errorf("%w: ZMTP %d.%d peer", errCurve, g[10], g[11])
	}
	if mech := string(bytes.TrimRight(g[12:32], "\x00")); mech != "CURVE" {
		return fmt.Errorf("%w: a %q client on an encrypted socket", errCurve, mech)
	}
	return nil
}

func (c *curveConn) Read(p []byte) (int, error) {
	if err := c.handshake(); err != nil {
		return 0, err
	}
	c.rmu.Lock()
	defer c.rmu.Unlock()
	for c.roff == len(c.rbuf) {
		if err := c.readMessage(); err != nil {
			return 0, err
		}
	}
	n := copy(p, c.rbuf[c.roff:])
	c.roff += n
	return n, nil
}

// readMessage reads and opens one MESSAGE into rbuf as the frame it carries.
func (c *curveConn) readMessage() error {
	body, flags, err := readFrameWith(c.Conn, c.l.limit, &c.rhdr)
	if err == nil {
		var plain []byte
		if plain, err = c.open(body, flags); err == nil {
			var zf byte
			if plain[0]&0x01 != 0 {
				zf |= flagMore
			}
			if plain[0]&0x02 != 0 {
				zf |= flagCommand
			}
			c.rbuf, c.roff = appendFrame(keep(c.rbuf), plain[1:], zf), 0
			c.rplain = keep(plain)
			return nil
		}
	}
	if errors.Is(err, errCurve) {
		c.l.log.Warn("dropped message from frontend: connection cut", "peer", c.RemoteAddr().String(), "err", err)
		c.Conn.Close()
	}
	return err
}

// open checks and decrypts a MESSAGE: its nonce must be above every
// earlier one (a replayed or reordered message is refused, as libzmq does).
func (c *curveConn) open(body []byte, flags byte) ([]byte, error) {
	if flags&flagMore != 0 || !bytes.HasPrefix(body, []byte("\x07MESSAGE")) {
		return nil, fmt.Errorf("%w: expected MESSAGE", errCurve)
	}
	if len(body) < curveFrameOverhead {
		return nil, fmt.Errorf("%w: MESSAGE of %d bytes", errCurve, len(body))
	}
	nonce := binary.BigEndian.Uint64(body[8:16])
	if nonce <= c.peerNonce {
		return nil, fmt.Errorf("%w: MESSAGE nonce %d not above %d (replayed?)", errCurve, nonce, c.peerNonce)
	}
	plain, ok := box.OpenAfterPrecomputation(c.rplain[:0], body[16:], shortNonce(prefixMsgFromC, body[8:16]), &c.shared)
	if !ok || len(plain) < 1 {
		return nil, fmt.Errorf("%w: MESSAGE does not open", errCurve)
	}
	c.peerNonce = nonce
	return plain, nil
}

// keep returns b emptied for reuse, or nil when it grew large (a big
// message's buffer is not kept).
func keep(b []byte) []byte {
	if cap(b) > maxKeptWriteBuf {
		return nil
	}
	return b[:0]
}
