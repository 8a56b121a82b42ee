package kernel

import (
	"bytes"
	"log/slog"
	"strings"
	"sync/atomic"
	"testing"
)

// RFC 32's test vector, and keys round-tripping through Z85.
func TestZ85(t *testing.T) {
	b := []byte{0x86, 0x4F, 0xD2, 0x6F, 0xB5, 0x59, 0xF7, 0x5B}
	if got := z85Encode(b); got != "HelloWorld" {
		t.Fatalf("z85Encode = %q, want HelloWorld", got)
	}
	dec, err := z85Decode("HelloWorld")
	if err != nil || !bytes.Equal(dec, b) {
		t.Fatalf("z85Decode = %x, %v", dec, err)
	}
	for _, bad := range []string{"Hell", "HelloWorl~", "%%%%%"} {
		if _, err := z85Decode(bad); err == nil {
			t.Errorf("z85Decode(%q) accepted", bad)
		}
	}
}

// The keypairs of the zmq_curve(7) manual page, a published vector.
const (
	manServerPublic = "rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf7"
	manServerSecret = "JTKVSB%%)wK0E.X)V>+}o?pNmC{O&4W4b!Ni{Lh6"
	manClientPublic = "Yne@$w-vo<fVvi]a<NY6T1ed:M$fCG*[IaLV{hID"
	manClientSecret = "D:)Q[IlAW!ahhC2ac:9*A}h:p?([4%wOTJ%JR%cs"
)

func TestParseCurveKeysPublished(t *testing.T) {
	for _, pair := range [][2]string{{manServerPublic, manServerSecret}, {manClientPublic, manClientSecret}} {
		k, err := ParseCurveKeys(pair[0], pair[1])
		if err != nil {
			t.Fatalf("%s: %v", pair[0], err)
		}
		if z85Encode(k.Public[:]) != pair[0] || z85Encode(k.Secret[:]) != pair[1] {
			t.Errorf("%s does not round-trip", pair[0])
		}
	}
	if _, err := ParseCurveKeys(manServerPublic, manClientSecret); err == nil {
		t.Error("a mismatched published pair was accepted")
	}
}

func TestParseCurveKeys(t *testing.T) {
	k := newCurveKeys(t)
	other := newCurveKeys(t)
	pub, sec := z85Encode(k.Public[:]), z85Encode(k.Secret[:])
	got, err := ParseCurveKeys(pub, sec)
	if err != nil || got != k {
		t.Fatalf("ParseCurveKeys = %v, %v", got, err)
	}
	cases := map[string][2]string{
		"mismatched pair": {z85Encode(other.Public[:]), sec},
		"short key":       {pub[:35], sec},
		"not z85":         {pub, strings.Repeat("~", 40)},
	}
	for name, c := range cases {
		if _, err := ParseCurveKeys(c[0], c[1]); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	ci := ConnectionInfo{CurvePublicKey: pub}
	if _, err := ci.Curve(); err == nil {
		t.Error("a public key without its secret key was accepted")
	}
	if keys, err := (ConnectionInfo{}).Curve(); keys != nil || err != nil {
		t.Errorf("no keys: got %v, %v; want NULL", keys, err)
	}
}

// curveEcho serves an echoing ROUTER on a guarded CURVE listener.
func curveEcho(t *testing.T, keys *CurveKeys) (addr string, logs *logStore) {
	t.Helper()
	rec := &logRecorder{logStore: &logStore{}}
	log := slog.New(rec)
	ln, err := listenGuarded("tcp", "127.0.0.1:0", log)
	if err != nil {
		t.Fatal(err)
	}
	var echo atomic.Pointer[router]
	r := newRouter(listenCurve(ln, keys, "ROUTER", MaxFrame, log), log, func(frames [][]byte) {
		_ = echo.Load().send(cloneFrames(frames))
	})
	echo.Store(r)
	t.Cleanup(r.close)
	return ln.Addr().String(), rec.logStore
}

// dialEcho connects a CURVE DEALER to a new curveEcho.
func dialEcho(t *testing.T) *curveClient {
	t.Helper()
	keys := newCurveKeys(t)
	addr, _ := curveEcho(t, &keys)
	c, err := dialCurve(addr, keys.Public, "DEALER")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.nc.Close() })
	return c
}

func TestCurveRouterEcho(t *testing.T) {
	checkNoLeaks(t)
	c := dialEcho(t)
	if c.meta["Socket-Type"] != "ROUTER" {
		t.Errorf("server READY metadata %v, want Socket-Type ROUTER", c.meta)
	}
	big := bytes.Repeat([]byte("x"), 70000) // a long frame
	for i, msg := range [][][]byte{{[]byte("a")}, {[]byte(""), []byte("hello"), big}} {
		if err := c.send(msg...); err != nil {
			t.Fatal(err)
		}
		got, err := c.recv()
		if err != nil {
			t.Fatalf("message %d: %v", i, err)
		}
		if len(got) != len(msg) {
			t.Fatalf("message %d: %d frames back, want %d", i, len(got), len(msg))
		}
		for j := range msg {
			if !bytes.Equal(got[j], msg[j]) {
				t.Fatalf("message %d frame %d differs", i, j)
			}
		}
	}
}

func TestCurvePub(t *testing.T) {
	checkNoLeaks(t)
	p, c := curveSubscriber(t)
	p.Send([][]byte{[]byte("topic"), bytes.Repeat([]byte("o"), 300)})
	got, err := c.recv()
	if err != nil || len(got) != 2 || string(got[0]) != "topic" || len(got[1]) != 300 {
		t.Fatalf("got %q, %v", got, err)
	}
}

// A NULL server (the default) is unchanged: no keys, no wrapper.
func TestListenCurveNull(t *testing.T) {
	ln, err := listenGuarded("tcp", "127.0.0.1:0", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	if got := listenCurve(ln, nil, "ROUTER", MaxFrame, nil); got != ln {
		t.Fatal("listenCurve wrapped a listener without keys")
	}
}
