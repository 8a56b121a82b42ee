package kernel

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/go-zeromq/zmq4"
)

// connGoroutines counts the goroutines of this package and zmq4 by where
// they were created (a goroutine busy outside zmq4 at the moment still
// counts).
func connGoroutines() map[string]int {
	out := map[string]int{}
	for _, g := range leakedGoroutines() {
		_, created, _ := strings.Cut(g, "created by ")
		created, _, _ = strings.Cut(created, " in goroutine")
		out[created]++
	}
	return out
}

// grown lists the creation sites with more goroutines now than in base.
func grown(base, now map[string]int) []string {
	var out []string
	for k, n := range now {
		if n > base[k] {
			out = append(out, fmt.Sprintf("%s: %d -> %d", k, base[k], n))
		}
	}
	return out
}

// TestProxyShortLivedClients connects, asks and disconnects twenty times,
// as jupyter_server's kernel_info "nudge" and tab reloads do: each gets its
// answer, and nothing per connection stays behind in the proxy.
func TestProxyShortLivedClients(t *testing.T) {
	h := startProxy(t, frontendInfo(t, "ipc"), nil)
	first := dialClient(t, h.ci)
	first.kernelInfo()
	heartbeat1(t, first.hb, "x") // the proxy has this client's every connection
	base := connGoroutines()
	for i := range 20 {
		c := dialClient(t, h.ci)
		if info := c.kernelInfo(); info["status"] != "ok" {
			t.Fatalf("client %d: kernel_info %v", i, info)
		}
		if got := heartbeat1(t, c.hb, "x"); got != "x" {
			t.Fatalf("client %d: heartbeat %q", i, got)
		}
		c.close()
	}
	// The long-lived client still works and was not disturbed.
	id, _ := first.execute("after the nudges")
	first.idle(id)
	deadline := time.Now().Add(waitLimit)
	for len(grown(base, connGoroutines())) > 0 {
		if time.Now().After(deadline) {
			t.Fatalf("goroutines grew over 20 short-lived clients:\n%s", strings.Join(grown(base, connGoroutines()), "\n"))
		}
		time.Sleep(5 * time.Millisecond) // polling for connection goroutines to end
	}
	if n := h.p.pub.Subscribers(); n != 1 {
		t.Errorf("%d iopub subscribers left, want 1", n)
	}
}

// TestProxyConcurrentHeartbeats pings from two clients at once; each gets
// its own echo.
func TestProxyConcurrentHeartbeats(t *testing.T) {
	h := startProxy(t, frontendInfo(t, "ipc"), nil)
	a := dialClient(t, h.ci)
	b := dialClient(t, h.ci)
	done := make(chan string, 2)
	for _, c := range []*testClient{a, b} {
		go func() {
			for i := range 50 {
				want := c.session + "-" + strings.Repeat("p", i)
				if err := c.hb.Send(zmq4.NewMsgString(want)); err != nil {
					done <- err.Error()
					return
				}
				msg, err := c.hb.Recv()
				if err != nil {
					done <- err.Error()
					return
				}
				if got := string(msg.Frames[0]); got != want {
					done <- "echo " + got + ", want " + want
					return
				}
			}
			done <- ""
		}()
	}
	for range 2 {
		select {
		case e := <-done:
			if e != "" {
				t.Error(e)
			}
		case <-time.After(waitLimit):
			t.Fatal("heartbeats not answered")
		}
	}
}
