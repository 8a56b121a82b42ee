package kernel

import (
	"bytes"
	"encoding/binary"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/go-zeromq/zmq4"
)

func TestProxyDropsBadMessages(t *testing.T) {
	h := startProxy(t, frontendInfo(t, "ipc"), nil)
	c := dialClient(t, h.ci)
	before := c.kernelInfo()["shell_received"].(float64)

	good, _ := c.request("kernel_info_request", map[string]any{})
	c.send(c.shell, good)
	c.shellIn.waitCount(t, "reply to the first good message", 2, isType("kernel_info_reply"))

	badSig := cloneFrames(good)
	badSig[1] = flipLast(badSig[1])
	unsigned, _ := c.request("kernel_info_request", map[string]any{})
	unsigned[1] = []byte{}
	wrongKey, _ := c.request("kernel_info_request", map[string]any{})
	other, _ := NewSigner("hmac-sha256", []byte("not the key"))
	f, _ := Parse(wrongKey)
	wrongKey[1] = other.Sign(f.Header, f.ParentHeader, f.Metadata, f.Content)
	fresh, _ := c.request("kernel_info_request", map[string]any{})
	tampered := cloneFrames(fresh)
	tampered[5] = []byte(`{"code":"tampered"}`)
	bad := []struct {
		name string
		raw  [][]byte
	}{
		{"bad signature", badSig},
		{"unsigned", unsigned},
		{"other key", wrongKey},
		{"tampered content", tampered},
		{"replayed", cloneFrames(good)},
		{"truncated", good[:4]},
		{"delimiter last", good[:1]},
		{"no delimiter", good[1:]},
		{"one empty frame", [][]byte{{}}},
	}
	for _, b := range bad {
		c.send(c.shell, b.raw)
	}
	// The same on control.
	c.send(c.control, badSig)

	info := c.kernelInfo()
	if got := info["shell_received"].(float64); got != before+2 {
		t.Errorf("the kernel received %v messages after the first, want 2 (bad ones forwarded)", got-before)
	}
	if n := len(c.shellIn.snapshot()); n != 3 {
		t.Errorf("client got %d shell replies, want 3: %v", n, types(c.shellIn.snapshot()))
	}
	if n := h.logs.count("dropped message from frontend"); n != len(bad)+1 {
		t.Errorf("%d drop log lines, want %d:\n%s", n, len(bad)+1, h.logs)
	}
	// A request is observed after it is forwarded, so its reply may come
	// first: wait for the third observation, then check there is no fourth.
	requests := func() int {
		n := 0
		for _, r := range h.obs.snapshot() {
			if r.m.Direction == FromFrontend {
				n++
			}
		}
		return n
	}
	pollUntil(t, "the observer to see the 3 good requests", func() bool { return requests() >= 3 })
	if n := requests(); n != 3 {
		t.Errorf("observer saw %d frontend messages, want the 3 good ones", n)
	}
	for _, line := range strings.Split(h.logs.String(), "\n") {
		if strings.Contains(line, "tampered") {
			t.Errorf("log line reveals message content: %s", line)
		}
	}
}

func TestProxyIOPubRefusesHugeFrame(t *testing.T) {
	h := startProxy(t, frontendInfo(t, "ipc"), nil)
	c := dialClient(t, h.ci)
	conn := rawSubscriber(t, h.ci, false)
	hdr := make([]byte, 9)
	hdr[0] = flagLong
	binary.BigEndian.PutUint64(hdr[1:], 1<<62)
	if _, err := conn.Write(hdr); err != nil {
		t.Fatal(err)
	}
	// The proxy cuts the connection instead of allocating 2^62 bytes.
	_ = conn.SetReadDeadline(time.Now().Add(waitLimit))
	for {
		if _, _, err := readFrame(conn, 1<<30); err != nil {
			if ne, ok := err.(net.Error); ok && ne.Timeout() {
				t.Fatal("connection with a 2^62-byte frame was not cut")
			}
			break
		}
	}
	id, _ := c.execute("still serving")
	c.idle(id)
}

func TestProxyStdinAndHeartbeat(t *testing.T) {
	h := startProxy(t, frontendInfo(t, "ipc"), nil)
	c := dialClient(t, h.ci)
	// Make sure the proxy has the stdin connection before the kernel asks.
	ping, hdr := c.request("cloudline_test_ping", map[string]any{})
	c.send(c.stdin, ping)
	h.obs.waitFor(t, "stdin ping", func(r received) bool { return r.m.Channel == Stdin && r.m.MsgID == msgID(hdr) })

	id, _ := c.execute("input")
	req := c.stdinIn.waitFor(t, "input_request", isType("input_request"))
	if req.m.ParentMsgID != id {
		t.Errorf("input_request parent %q, want %q", req.m.ParentMsgID, id)
	}
	if err := c.signer.Verify(&req.f); err != nil {
		t.Errorf("input_request: %v", err)
	}
	reply := c.signer.Encode(Frames{Header: newHeader("input_reply", c.session), ParentHeader: req.f.Header,
		Metadata: []byte("{}"), Content: mustJSON(map[string]string{"value": "42"})})
	c.send(c.stdin, reply)
	c.idle(id)
	var text string
	for _, r := range c.forParent(id) {
		if r.m.MsgType == "stream" {
			text = string(r.f.Content)
		}
	}
	if !strings.Contains(text, "got 42") {
		t.Errorf("stream after input = %s, want the value typed", text)
	}
	h.obs.waitFor(t, "observed input_reply", func(r received) bool {
		return r.m.Channel == Stdin && r.m.Direction == FromFrontend && r.m.MsgType == "input_reply"
	})

	for _, payload := range []string{"ping", "", "\x00\x01binary"} {
		if got := heartbeat1(t, c.hb, payload); got != payload {
			t.Errorf("heartbeat echoed %q, want %q", got, payload)
		}
	}
}

// heartbeat1 sends one heartbeat and returns the echo.
func heartbeat1(t *testing.T, req zmq4.Socket, payload string) string {
	t.Helper()
	if err := req.Send(zmq4.NewMsgString(payload)); err != nil {
		t.Fatal(err)
	}
	got := make(chan string, 1)
	go func() {
		msg, err := req.Recv()
		if err != nil || len(msg.Frames) == 0 {
			got <- "<error>"
			return
		}
		got <- string(msg.Frames[0])
	}()
	select {
	case s := <-got:
		return s
	case <-time.After(waitLimit):
		t.Fatal("no heartbeat echo")
		return ""
	}
}

func cloneFrames(raw [][]byte) [][]byte {
	out := make([][]byte, len(raw))
	for i, f := range raw {
		out[i] = bytes.Clone(f)
	}
	return out
}
