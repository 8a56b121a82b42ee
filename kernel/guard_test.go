package kernel

import (
	"encoding/binary"
	"errors"
	"net"
	"strconv"
	"testing"
	"time"
)

// longHeader is a frame header declaring size bytes.
func longHeader(flags byte, size uint64) []byte {
	h := make([]byte, 9)
	h[0] = flags | flagLong
	binary.BigEndian.PutUint64(h[1:], size)
	return h
}

func shortFrame(flags byte, body string) []byte {
	return append([]byte{flags, byte(len(body))}, body...)
}

func TestGuardConnFollow(t *testing.T) {
	const limit = 1000
	cat := func(parts ...[]byte) []byte {
		var b []byte
		for _, p := range parts {
			b = append(b, p...)
		}
		return b
	}
	ready := shortFrame(flagCommand, "\x05READY")
	tests := []struct {
		name    string
		stream  []byte
		wantErr bool
	}{
		{"greeting only", greeting(), false},
		{"greeting and READY", cat(greeting(), ready), false},
		{"frames up to the limit", cat(greeting(), ready, longHeader(flagMore, limit), make([]byte, limit), shortFrame(0, "x")), false},
		{"2^62 in the handshake", cat(greeting(), longHeader(flagCommand, 1<<62)), true},
		{"2^62 after the handshake", cat(greeting(), ready, shortFrame(flagMore, "id"), longHeader(0, 1<<62)), true},
		{"one past the limit", cat(greeting(), ready, longHeader(0, limit+1)), true},
		{"max uint64", cat(greeting(), longHeader(0, ^uint64(0))), true},
		{"header after a long body", cat(greeting(), ready, longHeader(flagMore, 300), make([]byte, 300), longHeader(0, 1<<40)), true},
	}
	for _, tt := range tests {
		for _, chunk := range []int{1, 7, 64, 1 << 20} {
			t.Run(tt.name+"/chunk="+strconv.Itoa(chunk), func(t *testing.T) {
				a, b := net.Pipe()
				defer a.Close()
				defer b.Close()
				c := &guardConn{Conn: a, greeting: 64, limit: limit}
				var err error
				for s := tt.stream; len(s) > 0 && err == nil; {
					n := min(chunk, len(s))
					err = c.follow(s[:n])
					s = s[n:]
				}
				if (err != nil) != tt.wantErr {
					t.Fatalf("follow error = %v, want error: %v", err, tt.wantErr)
				}
				if err != nil && !errors.Is(err, errFrameTooLarge) {
					t.Errorf("error %v is not errFrameTooLarge", err)
				}
			})
		}
	}
}

func TestGuardedEndpoint(t *testing.T) {
	tests := []struct{ in, want string }{
		{"tcp://127.0.0.1:5", guardedTCP + "://127.0.0.1:5"},
		{"ipc://dir/k-1", guardedIPC + "://dir/k-1"},
		{"inproc://x", "inproc://x"},
		{"tcp://", "tcp://"},
	}
	for _, tt := range tests {
		if got := guardedEndpoint(tt.in); got != tt.want {
			t.Errorf("guardedEndpoint(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// TestProxySurvivesHugeFrames sends frame headers declaring 2^62 bytes to
// each zmq4 socket the frontend reaches, during and after the handshake:
// zmq4 alone would allocate that and panic, killing the process.
func TestProxySurvivesHugeFrames(t *testing.T) {
	for _, transport := range []string{"tcp", "ipc"} {
		t.Run(transport, func(t *testing.T) {
			h := startProxy(t, frontendInfo(t, transport), nil)
			c := dialClient(t, h.ci)
			ports := map[string]int{"shell": h.ci.ShellPort, "control": h.ci.ControlPort, "stdin": h.ci.StdinPort, "hb": h.ci.HBPort}
			sockTypes := map[string]string{"shell": "DEALER", "control": "DEALER", "stdin": "DEALER", "hb": "REQ"}
			for name, port := range ports {
				for _, afterHandshake := range []bool{false, true} {
					conn := rawDial(t, h.ci, port)
					msg := greeting()
					if afterHandshake {
						msg = append(msg, shortFrame(flagCommand, string(readyCommand(map[string]string{"Socket-Type": sockTypes[name]})))...)
						msg = append(msg, shortFrame(flagMore, "")...)
					}
					msg = append(msg, longHeader(0, 1<<62)...)
					if _, err := conn.Write(msg); err != nil {
						t.Fatalf("%s: %v", name, err)
					}
					expectClosed(t, conn, name)
				}
			}
			// A frame cut short by a peer that goes away.
			for name, port := range ports {
				conn := rawDial(t, h.ci, port)
				msg := append(greeting(), shortFrame(flagCommand, string(readyCommand(map[string]string{"Socket-Type": sockTypes[name]})))...)
				msg = append(msg, 0, 100)
				msg = append(msg, "only ten b"...)
				if _, err := conn.Write(msg); err != nil {
					t.Fatalf("%s: %v", name, err)
				}
				conn.Close()
			}
			id, _ := c.execute("still serving")
			c.idle(id)
			if got := heartbeat1(t, c.hb, "alive"); got != "alive" {
				t.Errorf("heartbeat after the attack: %q", got)
			}
		})
	}
}

func rawDial(t *testing.T, ci ConnectionInfo, port int) net.Conn {
	t.Helper()
	network, addr := ci.NetAddr(port)
	conn, err := net.Dial(network, addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}

// expectClosed reads until the peer closes the connection.
func expectClosed(t *testing.T, conn net.Conn, what string) {
	t.Helper()
	_ = conn.SetReadDeadline(time.Now().Add(waitLimit))
	buf := make([]byte, 4096)
	for {
		_, err := conn.Read(buf)
		if err == nil {
			continue
		}
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			t.Fatalf("%s: connection sending a 2^62-byte frame was not cut", what)
		}
		return
	}
}

// TestProxySilentPeerDoesNotBlock connects to every frontend socket but
// iopub and says nothing. The heartbeat is a zmq4 REP socket, which runs
// handshakes inside its accept loop: without the guard's handshake deadline
// no later client could ever connect. This test takes handshakeTimeout
// (10 s); the routers do not wait at all (TestRouterSilentPeersDelayNobody).
func TestProxySilentPeerDoesNotBlock(t *testing.T) {
	h := startProxy(t, frontendInfo(t, "ipc"), nil)
	for _, port := range []int{h.ci.ShellPort, h.ci.ControlPort, h.ci.StdinPort, h.ci.HBPort} {
		rawDial(t, h.ci, port) // silent until the test ends
	}
	c := dialClient(t, h.ci)
	if info := c.kernelInfo(); info["status"] != "ok" {
		t.Fatalf("kernel_info after silent peers: %v", info)
	}
	if got := heartbeat1(t, c.hb, "x"); got != "x" {
		t.Fatalf("heartbeat after silent peers: %q", got)
	}
}
