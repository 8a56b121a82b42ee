package kernel

import (
	"encoding/json"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"
)

// rawSubscriber connects to the proxy's iopub socket with a bare ZMTP 3.0
// handshake as a SUB; with subscribe it subscribes to everything and reads
// up to its iopub_welcome.
func rawSubscriber(t *testing.T, ci ConnectionInfo, subscribe bool) net.Conn {
	t.Helper()
	network, addr := ci.NetAddr(ci.IOPubPort)
	conn, err := net.Dial(network, addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	_ = conn.SetDeadline(time.Now().Add(waitLimit))
	if _, err := conn.Write(greeting()); err != nil {
		t.Fatal(err)
	}
	g := make([]byte, 64)
	if _, err := readFull(conn, g); err != nil {
		t.Fatal(err)
	}
	if err := checkGreeting(g); err != nil {
		t.Fatal(err)
	}
	if err := writeFrame(conn, readyCommand(map[string]string{"Socket-Type": "SUB"}), flagCommand); err != nil {
		t.Fatal(err)
	}
	body, flags, err := readFrame(conn, 1<<16)
	if err != nil || flags&flagCommand == 0 {
		t.Fatalf("READY from proxy: %x %v", body, err)
	}
	if name, data, err := parseCommand(body); err != nil || name != "READY" {
		t.Fatalf("command %q: %v", name, err)
	} else if props, err := parseProperties(data); err != nil || props["Socket-Type"] != "PUB" {
		t.Fatalf("proxy properties %v: %v", props, err)
	}
	if !subscribe {
		return conn
	}
	if err := writeFrame(conn, []byte{1}, 0); err != nil {
		t.Fatal(err)
	}
	for {
		msg := readMessage(t, conn)
		if f, err := Parse(msg); err == nil && strings.Contains(string(f.Header), `"iopub_welcome"`) {
			break
		}
	}
	_ = conn.SetDeadline(time.Time{})
	return conn
}

// readMessage reads one multipart message from a raw ZMTP connection.
func readMessage(t *testing.T, conn net.Conn) [][]byte {
	t.Helper()
	var msg [][]byte
	for {
		body, flags, err := readFrame(conn, 1<<30)
		if err != nil {
			t.Fatalf("read frame: %v", err)
		}
		if flags&flagCommand != 0 {
			continue
		}
		msg = append(msg, body)
		if flags&flagMore == 0 {
			return msg
		}
	}
}

func TestProxyIOPubWelcome(t *testing.T) {
	h := startProxy(t, frontendInfo(t, "ipc"), nil)
	a := dialClient(t, h.ci)
	w := a.iopubIn.waitFor(t, "welcome", isType("iopub_welcome"))
	var content map[string]any
	if err := json.Unmarshal(w.f.Content, &content); err != nil {
		t.Fatal(err)
	}
	if sub, ok := content["subscription"]; !ok || sub != "" {
		t.Errorf("welcome content %s, want subscription \"\"", w.f.Content)
	}
	if err := a.signer.Verify(&w.f); err != nil {
		t.Errorf("welcome: %v", err)
	}
	if string(w.f.ParentHeader) != "{}" {
		t.Errorf("welcome parent %s", w.f.ParentHeader)
	}
	b := dialClient(t, h.ci) // gets its own welcome
	id, _ := a.execute("after the second subscriber")
	a.idle(id)
	b.idle(id) // both subscribers get the broadcast
	welcomes := 0
	for _, r := range a.iopubIn.snapshot() {
		if r.m.MsgType == "iopub_welcome" {
			welcomes++
		}
	}
	if welcomes != 1 { // ours; the kernel's own welcome is not forwarded
		t.Errorf("first subscriber got %d welcomes, want 1", welcomes)
	}
}

// TestProxyStalledSubscriber runs 5,000 display messages past two
// subscribers, one of which never reads. With the default bound the stalled
// one costs the other nothing; with a small bound its queue is capped and
// the overflow is counted. In the second case the cells run one after the
// other (100 messages each), so the reading subscriber's queue never holds
// more than one cell's output and stays under the bound by construction.
func TestProxyStalledSubscriber(t *testing.T) {
	tests := []struct {
		name       string
		maxQueue   int // 0 = default
		cells, per int
		wantDrops  bool
	}{
		{name: "default bound", cells: 1, per: 5000},
		{name: "small bound", maxQueue: 256 << 10, cells: 50, per: 100, wantDrops: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := startProxy(t, frontendInfo(t, "ipc"), func(p *Proxy) {
				if tt.maxQueue == 0 {
					return
				}
				p.Started = func(int) {
					p.pub.mu.Lock() // orders this write before the subscribers' reads
					p.pub.maxQueue = tt.maxQueue
					p.pub.mu.Unlock()
				}
			})
			fast := dialClient(t, h.ci)
			stalled := rawSubscriber(t, h.ci, true)
			if uc, ok := stalled.(*net.UnixConn); ok {
				_ = uc.SetReadBuffer(4096)
			}
			if d := h.p.Dropped(); d != 0 {
				t.Fatalf("Dropped() = %d before any load", d)
			}
			next := 0
			for range tt.cells {
				id, _ := fast.execute("flood " + strconv.Itoa(tt.per))
				fast.idle(id)
				got := displayed(t, fast.forParent(id))
				if len(got) != tt.per {
					t.Fatalf("fast subscriber got %d of %d messages of a cell", len(got), tt.per)
				}
				for i, v := range got {
					if v != i {
						t.Fatalf("message %d of the cell after %d is %d: out of order", i, next, v)
					}
				}
				next += len(got)
			}
			if next != tt.cells*tt.per {
				t.Fatalf("got %d messages", next)
			}
			if drops := h.p.Dropped(); (drops > 0) != tt.wantDrops {
				t.Errorf("Dropped() = %d, want drops: %v", drops, tt.wantDrops)
			}
			if tt.wantDrops && h.logs.count("dropping messages") == 0 {
				t.Error("no log line about dropped messages")
			}
			if tt.maxQueue == 0 {
				return
			}
			// The stalled subscriber's queue stays within a message of its bound.
			h.p.pub.mu.Lock()
			for s := range h.p.pub.subs {
				s.mu.Lock()
				if s.queued > tt.maxQueue+4<<10 {
					t.Errorf("a subscriber holds %d queued bytes, bound %d", s.queued, tt.maxQueue)
				}
				s.mu.Unlock()
			}
			h.p.pub.mu.Unlock()
		})
	}
}

// displayed returns the numbers the fake kernel's display_data carried.
func displayed(t *testing.T, rs []received) []int {
	t.Helper()
	var got []int
	for _, r := range rs {
		if r.m.MsgType != "display_data" {
			continue
		}
		var c struct {
			Data map[string]string `json:"data"`
		}
		if err := json.Unmarshal(r.f.Content, &c); err != nil {
			t.Fatal(err)
		}
		i, err := strconv.Atoi(c.Data["text/plain"])
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, i)
	}
	return got
}
