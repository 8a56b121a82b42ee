package kernel

import (
	"errors"
	"io"
	"net"
	"strings"
	"testing"
)

// Each bad client is cut with one warning naming why, and the server goes
// on serving a good client afterwards.
func TestCurveBadHandshakes(t *testing.T) {
	checkNoLeaks(t)
	keys := newCurveKeys(t)
	other := newCurveKeys(t)
	addr, logs := curveEcho(t, &keys)
	greeted := func(t *testing.T, server [32]byte) *curveClient {
		t.Helper()
		c, err := dialCurveRaw(addr, server, "CURVE")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.nc.Close() })
		return c
	}
	// welcomed has sent HELLO and read WELCOME, ready for an INITIATE.
	welcomed := func(t *testing.T) *curveClient {
		t.Helper()
		c := greeted(t, keys.Public)
		if err := writeFrame(c.nc, c.hello(), flagCommand); err != nil {
			t.Fatal(err)
		}
		if _, err := c.readCmd(); err != nil {
			t.Fatal(err)
		}
		return c
	}
	connected := func(t *testing.T) *curveClient {
		t.Helper()
		c, err := dialCurve(addr, keys.Public, "DEALER")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.nc.Close() })
		return c
	}
	cases := []struct {
		name string
		run  func(t *testing.T) *curveClient // leaves the client's connection to be cut
		log  string
	}{
		{"wrong server key", func(t *testing.T) *curveClient {
			c := greeted(t, other.Public)
			_ = writeFrame(c.nc, c.hello(), flagCommand)
			return c
		}, "HELLO does not open with our key"},
		{"plaintext client", func(t *testing.T) *curveClient {
			c, err := dialCurveRaw(addr, keys.Public, "NULL")
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { c.nc.Close() })
			return c
		}, `a "NULL" client on an encrypted socket`},
		{"truncated HELLO", func(t *testing.T) *curveClient {
			c := greeted(t, keys.Public)
			_ = writeFrame(c.nc, c.hello()[:150], flagCommand)
			return c
		}, "HELLO of 150 bytes"},
		{"HELLO as a message frame", func(t *testing.T) *curveClient {
			c := greeted(t, keys.Public)
			_ = writeFrame(c.nc, c.hello(), 0)
			return c
		}, "a message frame during the handshake"},
		{"HELLO twice", func(t *testing.T) *curveClient {
			c := welcomed(t)
			_ = writeFrame(c.nc, c.hello(), flagCommand)
			return c
		}, "expected INITIATE"},
		{"INITIATE replayed from another connection", func(t *testing.T) *curveClient {
			first := connected(t)
			c := welcomed(t)
			_ = writeFrame(c.nc, first.initiate, flagCommand)
			return c
		}, "INITIATE cookie not ours"},
		{"truncated INITIATE", func(t *testing.T) *curveClient {
			first := connected(t)
			c := welcomed(t)
			_ = writeFrame(c.nc, first.initiate[:200], flagCommand)
			return c
		}, "INITIATE of 200 bytes"},
		{"oversized handshake command", func(t *testing.T) *curveClient {
			c := greeted(t, keys.Public)
			_, _ = c.nc.Write(longHeader(flagCommand, 1<<20))
			return c
		}, "exceeds the 65536-byte limit"},
		{"replayed MESSAGE", func(t *testing.T) *curveClient {
			c := connected(t)
			frame := c.sealFrame([]byte("once"), false)
			_, _ = c.nc.Write(frame)
			if got, err := c.recv(); err != nil || string(got[0]) != "once" {
				t.Fatalf("first copy not echoed: %q, %v", got, err)
			}
			_, _ = c.nc.Write(frame)
			return c
		}, "not above"},
		{"tampered MESSAGE", func(t *testing.T) *curveClient {
			c := connected(t)
			frame := c.sealFrame([]byte("tampered"), false)
			frame[len(frame)-1] ^= 1
			_, _ = c.nc.Write(frame)
			return c
		}, "MESSAGE does not open"},
		{"plaintext frame after the handshake", func(t *testing.T) *curveClient {
			c := connected(t)
			_ = writeFrame(c.nc, []byte("hello"), 0)
			return c
		}, "expected MESSAGE"},
		{"oversized frame after the handshake", func(t *testing.T) *curveClient {
			c := connected(t)
			_, _ = c.nc.Write(longHeader(0, 1<<62))
			return c
		}, "frame larger than the limit"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			before := warnings(logs, tc.log)
			c := tc.run(t)
			expectCut(t, c)
			if warnings(logs, tc.log) != before+1 {
				t.Errorf("want one log line with %q; log:\n%s", tc.log, logs)
			}
			good := connected(t)
			if err := good.send([]byte("still serving")); err != nil {
				t.Fatal(err)
			}
			if got, err := good.recv(); err != nil || string(got[0]) != "still serving" {
				t.Fatalf("good client after a bad one: %q, %v", got, err)
			}
		})
	}
}

// expectCut reads until the server closes the connection: no reply comes.
func expectCut(t *testing.T, c *curveClient) {
	t.Helper()
	for {
		_, err := c.r.ReadByte()
		if err == nil {
			continue // what the server sent before it cut (greeting, WELCOME)
		}
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			t.Fatal("connection not cut")
		}
		if !errors.Is(err, io.EOF) && !errors.Is(err, net.ErrClosed) && !strings.Contains(err.Error(), "reset") {
			t.Fatalf("read: %v", err)
		}
		return
	}
}

// warnings counts the WARN lines of logs that contain substr.
func warnings(logs *logStore, substr string) int {
	logs.mu.Lock()
	defer logs.mu.Unlock()
	n := 0
	for _, line := range logs.lines {
		if strings.HasPrefix(line, "WARN ") && strings.Contains(line, substr) {
			n++
		}
	}
	return n
}
