package kernel

import (
	"bytes"
	"encoding/json"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestProxyExecuteRoundTrip(t *testing.T) {
	tests := []struct {
		name, transport, scheme string
		unsigned                bool
	}{
		{name: "ipc", transport: "ipc", scheme: "hmac-sha256"},
		{name: "tcp", transport: "tcp", scheme: "hmac-sha256"},
		{name: "sha512", transport: "ipc", scheme: "hmac-sha512"},
		{name: "unsigned", transport: "ipc", scheme: "hmac-sha256", unsigned: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ci := frontendInfo(t, tt.transport)
			ci.SignatureScheme = tt.scheme
			if tt.unsigned {
				ci.Key = ""
			}
			h := startProxy(t, ci, nil)
			a := dialClient(t, h.ci)
			b := dialClient(t, h.ci)

			idA, _ := a.execute("print('a')")
			idB, _ := b.execute("print('b')")
			a.idle(idA)
			b.idle(idB)

			for _, c := range []struct {
				cl       *testClient
				id, code string
			}{{a, idA, "print('a')"}, {b, idB, "print('b')"}} {
				got := c.cl.forParent(c.id)
				if want := []string{"status", "execute_input", "stream", "status"}; !slices.Equal(types(got), want) {
					t.Fatalf("iopub for %s = %v, want %v", c.code, types(got), want)
				}
				if !strings.Contains(string(got[0].f.Content), `"busy"`) || !isIdle(got[3].f.Content) {
					t.Errorf("status messages %s, %s", got[0].f.Content, got[3].f.Content)
				}
				var stream struct{ Text string }
				_ = json.Unmarshal(got[2].f.Content, &stream)
				if stream.Text != c.code {
					t.Errorf("stream text %q, want %q", stream.Text, c.code)
				}
				for _, r := range got {
					if !strings.HasPrefix(r.m.Session, "fake-") {
						t.Errorf("%s has session %q, not the kernel's", r.m.MsgType, r.m.Session)
					}
					if err := c.cl.signer.Verify(&r.f); err != nil {
						t.Errorf("%s: %v", r.m.MsgType, err)
					}
					if wantLen := map[string]int{"hmac-sha256": 64, "hmac-sha512": 128}[tt.scheme]; !tt.unsigned && len(r.f.Signature) != wantLen {
						t.Errorf("%s signature of %d hex digits, want %d", r.m.MsgType, len(r.f.Signature), wantLen)
					} else if tt.unsigned && len(r.f.Signature) != 0 {
						t.Errorf("%s signed on an unsigned connection", r.m.MsgType)
					}
				}
				reply := c.cl.shellIn.waitFor(t, "execute_reply", isReplyTo(c.id))
				if reply.m.MsgType != "execute_reply" || len(reply.f.Idents) != 0 {
					t.Errorf("reply %s with identities %q", reply.m.MsgType, reply.f.Idents)
				}
			}
			// Identities route each reply to its own client only.
			for _, c := range []struct {
				cl    *testClient
				other string
			}{{a, idB}, {b, idA}} {
				for _, r := range c.cl.shellIn.snapshot() {
					if r.m.ParentMsgID == c.other {
						t.Errorf("a client received the other client's reply")
					}
				}
			}

			// The observer saw the request, the reply and the iopub messages.
			seen := func(ch Channel, dir Direction, msgType, parent string) bool {
				for _, r := range h.obs.snapshot() {
					m := r.m
					if m.Channel == ch && m.Direction == dir && m.MsgType == msgType && m.ParentMsgID == parent {
						return true
					}
				}
				return false
			}
			h.obs.waitFor(t, "observed execute_reply", func(r received) bool {
				return r.m.MsgType == "execute_reply" && r.m.ParentMsgID == idA
			})
			for _, want := range []struct {
				ch            Channel
				dir           Direction
				msgType, prnt string
			}{
				{Shell, FromFrontend, "execute_request", ""},
				{Shell, FromKernel, "execute_reply", idA},
				{IOPub, FromKernel, "status", idA},
				{IOPub, FromKernel, "execute_input", idA},
				{IOPub, FromKernel, "stream", idA},
			} {
				if !seen(want.ch, want.dir, want.msgType, want.prnt) {
					t.Errorf("observer did not see %s %s %s (parent %q)", want.ch, want.dir, want.msgType, want.prnt)
				}
			}
			for _, r := range h.obs.snapshot() {
				if r.m.Direction == FromFrontend && r.m.MsgType == "execute_request" && r.m.MsgID != idA && r.m.MsgID != idB {
					t.Errorf("observer saw an unknown request %s", r.m.MsgID)
				}
			}
		})
	}
}

func TestProxyInjectHeldIdle(t *testing.T) {
	type hold struct {
		parent string
		done   chan struct{}
	}
	holds := make(chan hold, 8)
	h := startProxy(t, frontendInfo(t, "ipc"), func(p *Proxy) {
		p.IdleHold = waitLimit
		p.HoldIdle = func(parent string) <-chan struct{} {
			hd := hold{parent, make(chan struct{})}
			holds <- hd
			return hd.done
		}
	})
	c := dialClient(t, h.ci)
	id, reqHeader := c.execute("1+1")
	var hd hold
	select {
	case hd = <-holds:
	case <-time.After(waitLimit):
		t.Fatal("HoldIdle was not asked")
	}
	if hd.parent != id {
		t.Fatalf("HoldIdle(%q), want the execute_request %q", hd.parent, id)
	}
	content := map[string]any{"data": map[string]any{"text/markdown": "**advice**", "text/plain": "advice"}, "metadata": map[string]any{}}
	if err := h.p.Inject(reqHeader, "display_data", content, map[string]any{"cloudline": map[string]any{"rule": "test"}}); err != nil {
		t.Fatalf("Inject: %v", err)
	}
	// The injected message is out before the idle, which is still held.
	c.iopubIn.waitFor(t, "injected display_data", isType("display_data"))
	if got := types(c.forParent(id)); slices.Contains(got[1:], "status") {
		t.Fatalf("idle forwarded while held: %v", got)
	}
	close(hd.done)
	c.idle(id)

	got := c.forParent(id)
	if want := []string{"status", "execute_input", "stream", "display_data", "status"}; !slices.Equal(types(got), want) {
		t.Fatalf("iopub = %v, want %v", types(got), want)
	}
	busy, dd := got[0], got[3]
	if dd.m.Session != busy.m.Session {
		t.Errorf("injected session %q, kernel's %q", dd.m.Session, busy.m.Session)
	}
	if !bytes.Equal(dd.f.ParentHeader, reqHeader) {
		t.Errorf("parent_header %s, want the request's header %s", dd.f.ParentHeader, reqHeader)
	}
	if err := c.signer.Verify(&dd.f); err != nil {
		t.Errorf("injected message: %v", err)
	}
	var hdr map[string]string
	if err := json.Unmarshal(dd.f.Header, &hdr); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"msg_id", "username", "session", "date", "msg_type", "version"} {
		if hdr[k] == "" {
			t.Errorf("injected header lacks %s: %s", k, dd.f.Header)
		}
	}
	if hdr["version"] < "5.3" || hdr["msg_id"] == id {
		t.Errorf("header %s", dd.f.Header)
	}
	if !strings.HasPrefix(string(dd.raw[0]), "kernel."+busy.m.Session+".") {
		t.Errorf("topic %q", dd.raw[0])
	}
	if !strings.Contains(string(dd.f.Metadata), `"rule":"test"`) || !strings.Contains(string(dd.f.Content), "**advice**") {
		t.Errorf("metadata %s content %s", dd.f.Metadata, dd.f.Content)
	}
}

func TestProxyHeldIdleReleasedAfterBound(t *testing.T) {
	asked := make(chan string, 8)
	h := startProxy(t, frontendInfo(t, "ipc"), func(p *Proxy) {
		p.IdleHold = 50 * time.Millisecond
		p.HoldIdle = func(parent string) <-chan struct{} {
			asked <- parent
			return make(chan struct{}) // never closed
		}
	})
	c := dialClient(t, h.ci)
	id, _ := c.execute("x")
	c.idle(id)
	if got := <-asked; got != id {
		t.Errorf("HoldIdle(%q), want %q", got, id)
	}
	if h.logs.count("released a held idle") != 1 {
		t.Errorf("no log line for the released idle:\n%s", h.logs)
	}
}

func TestProxyInjectBeforeSession(t *testing.T) {
	h := startProxy(t, frontendInfo(t, "ipc"), nil)
	if err := h.p.Inject(nil, "display_data", map[string]any{}, nil); err != ErrNoSession {
		t.Errorf("Inject before any iopub message = %v, want ErrNoSession", err)
	}
}

// TestProxyAfterIdleKeepsRequestsBack: while AfterIdle runs for a cell's
// idle, a request the frontend sends is not forwarded to the kernel (its
// observation, which follows the forwarding, comes after AfterIdle has
// returned), and it is forwarded once AfterIdle returns.
func TestProxyAfterIdleKeepsRequestsBack(t *testing.T) {
	var mu sync.Mutex
	var order []string
	note := func(s string) {
		mu.Lock()
		order = append(order, s)
		mu.Unlock()
	}
	entered := make(chan string, 1)
	arrived := make(chan struct{}, 1)
	h := startProxy(t, frontendInfo(t, "ipc"), func(p *Proxy) {
		p.AfterIdle = func(parent string) {
			entered <- parent
			<-arrived // the request below reached the proxy
			note("after-idle returned")
		}
		p.Intercept = func(m *Message) bool {
			if m.MsgType == "comm_info_request" {
				arrived <- struct{}{}
			}
			return false
		}
		obs := p.Observe
		p.Observe = func(m *Message) {
			if m.MsgType == "comm_info_request" {
				note("request forwarded")
			}
			obs(m)
		}
	})
	c := dialClient(t, h.ci)
	id, _ := c.execute("x")
	select {
	case got := <-entered:
		if got != id {
			t.Fatalf("AfterIdle(%q), want the execute_request %q", got, id)
		}
	case <-time.After(waitLimit):
		t.Fatal("AfterIdle was not called")
	}
	raw, hdr := c.request("comm_info_request", map[string]any{})
	c.send(c.shell, raw)
	c.idle(id)
	h.obs.waitFor(t, "the comm_info_request observed", func(r received) bool { return r.m.MsgID == msgID(hdr) })
	mu.Lock()
	defer mu.Unlock()
	if want := []string{"after-idle returned", "request forwarded"}; !slices.Equal(order, want) {
		t.Errorf("order %v, want %v", order, want)
	}
}
