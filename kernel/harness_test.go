package kernel

import (
	"context"
	"log/slog"
	"net"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
)

// runResult is what Proxy.Run returned.
type runResult struct {
	exit ExitInfo
	err  error
}

// harness runs a Proxy around the fake kernel for one test.
type harness struct {
	t       *testing.T
	p       *Proxy
	ci      ConnectionInfo // the frontend's connection file
	obs     *inbox         // what the observer saw
	logs    *logRecorder
	pid     int
	cancel  context.CancelFunc
	done    chan runResult
	result  *runResult
	stopped sync.Once
}

// frontendInfo returns a connection file for the frontend side: ipc in a
// fresh directory, or tcp on ports free right now.
func frontendInfo(t *testing.T, transport string) ConnectionInfo {
	t.Helper()
	ci := ConnectionInfo{Transport: transport, Key: "key-" + newID(), SignatureScheme: "hmac-sha256"}
	if transport == "ipc" {
		ci.IP = filepath.Join(t.TempDir(), "k")
		ci.ShellPort, ci.ControlPort, ci.StdinPort, ci.IOPubPort, ci.HBPort = 1, 2, 3, 4, 5
		return ci
	}
	ci.IP = "127.0.0.1"
	ports := make([]int, 5)
	var lns []net.Listener
	for i := range ports {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		lns = append(lns, ln)
		ports[i] = ln.Addr().(*net.TCPAddr).Port
	}
	for _, ln := range lns {
		ln.Close()
	}
	ci.ShellPort, ci.ControlPort, ci.StdinPort, ci.IOPubPort, ci.HBPort = ports[0], ports[1], ports[2], ports[3], ports[4]
	return ci
}

// startProxy starts a Proxy on ci around the fake kernel; configure may set
// hooks before it runs. It returns once the proxy and kernel are up, and
// registers the stop and goroutine-leak check with t.Cleanup.
func startProxy(t *testing.T, ci ConnectionInfo, configure func(p *Proxy)) *harness {
	t.Helper()
	checkNoLeaks(t)
	h := &harness{t: t, ci: ci, obs: newInbox(), logs: &logRecorder{logStore: &logStore{}}, done: make(chan runResult, 1)}
	started := make(chan int, 1)
	h.p = &Proxy{
		Frontend: ci,
		Argv:     fakeKernelArgv(),
		Env:      fakeKernelEnviron(),
		Log:      slog.New(h.logs),
		Observe:  func(m *Message) { h.obs.add(received{m: m}) },
	}
	if configure != nil {
		configure(h.p)
	}
	user := h.p.Started
	h.p.Started = func(pid int) {
		if user != nil {
			user(pid)
		}
		started <- pid
	}
	ctx, cancel := context.WithCancel(context.Background())
	h.cancel = cancel
	go func() {
		exit, err := h.p.Run(ctx)
		h.done <- runResult{exit, err}
	}()
	t.Cleanup(func() { h.stop() })
	select {
	case h.pid = <-started:
	case r := <-h.done:
		h.result = &r
		t.Fatalf("proxy ended before it started: %+v", r)
	case <-time.After(waitLimit):
		t.Fatal("proxy did not start")
	}
	return h
}

// wait waits for Run to return on its own.
func (h *harness) wait() runResult {
	h.t.Helper()
	if h.result != nil {
		return *h.result
	}
	select {
	case r := <-h.done:
		h.result = &r
		return r
	case <-time.After(waitLimit):
		h.t.Fatal("proxy did not return")
		return runResult{}
	}
}

// stop cancels Run and waits for it.
func (h *harness) stop() runResult {
	h.t.Helper()
	h.stopped.Do(h.cancel)
	return h.wait()
}

// checkNoLeaks records the goroutine count now and, at cleanup, waits
// until it is back down and no goroutine started by this package or zmq4
// is left, failing with their stacks otherwise.
func checkNoLeaks(t *testing.T) {
	t.Helper()
	base := runtime.NumGoroutine()
	t.Cleanup(func() {
		deadline := time.Now().Add(waitLimit)
		for {
			leaked := leakedGoroutines()
			n := runtime.NumGoroutine()
			if len(leaked) == 0 && n <= base {
				return
			}
			if time.Now().After(deadline) {
				t.Errorf("goroutines leaked: %d now, %d before; ours:\n%s", n, base, strings.Join(leaked, "\n\n"))
				return
			}
			time.Sleep(5 * time.Millisecond) // polling for goroutines to end, not synchronization
		}
	})
}

// leakedGoroutines returns the stacks of goroutines that run code of this
// package or of zmq4 outside a test function.
func leakedGoroutines() []string {
	buf := make([]byte, 4<<20)
	buf = buf[:runtime.Stack(buf, true)]
	blocks := strings.Split(string(buf), "\n\n")
	var out []string
	for _, b := range blocks[1:] { // the first is this goroutine
		if strings.Contains(b, "testing.tRunner") || strings.Contains(b, "testing.(*M)") {
			continue
		}
		if strings.Contains(b, "go-zeromq/zmq4") || strings.Contains(b, "cloudline/cloudline/kernel") {
			out = append(out, b)
		}
	}
	return out
}

// logRecorder is a slog.Handler that keeps every record's message and
// attributes as one line in a store shared with the handlers it derives.
type logRecorder struct {
	*logStore
	attrs []slog.Attr
}

type logStore struct {
	mu    sync.Mutex
	lines []string
}

func (l *logRecorder) Enabled(context.Context, slog.Level) bool { return true }

func (l *logRecorder) Handle(_ context.Context, r slog.Record) error {
	var b strings.Builder
	b.WriteString(r.Level.String() + " " + r.Message)
	for _, a := range l.attrs {
		b.WriteString(" " + a.String())
	}
	r.Attrs(func(a slog.Attr) bool {
		b.WriteString(" " + a.String())
		return true
	})
	l.mu.Lock()
	l.lines = append(l.lines, b.String())
	l.mu.Unlock()
	return nil
}

func (l *logRecorder) WithAttrs(as []slog.Attr) slog.Handler {
	return &logRecorder{logStore: l.logStore, attrs: append(append([]slog.Attr(nil), l.attrs...), as...)}
}

func (l *logRecorder) WithGroup(string) slog.Handler { return l }

// count returns how many lines contain substr.
func (l *logStore) count(substr string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for _, line := range l.lines {
		if strings.Contains(line, substr) {
			n++
		}
	}
	return n
}

func (l *logStore) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Join(l.lines, "\n")
}
