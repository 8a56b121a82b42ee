package kernel

import (
	"errors"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// assertGone checks that the wrapped kernel was reaped and its private
// directory removed once Run returned.
func assertGone(t *testing.T, h *harness) {
	t.Helper()
	if err := syscall.Kill(h.pid, 0); !errors.Is(err, syscall.ESRCH) {
		t.Errorf("wrapped kernel %d still exists after Run returned (kill 0: %v)", h.pid, err)
	}
	if h.p.child == nil {
		t.Fatal("no child recorded")
	}
	if _, err := os.Stat(h.p.child.dir); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("private connection-file directory left behind: %v", err)
	}
	if h.ci.Transport == "ipc" {
		left, _ := filepath.Glob(h.ci.IP + "-*")
		if len(left) != 0 {
			t.Errorf("ipc socket files left behind: %v", left)
		}
	}
}

func TestProxyChildCrash(t *testing.T) {
	var (
		mu          sync.Mutex
		crashHeader []byte
	)
	exited := make(chan ExitInfo, 1)
	injected := make(chan error, 1)
	var p *Proxy
	h := startProxy(t, frontendInfo(t, "ipc"), func(pp *Proxy) {
		p = pp
		pp.ChildExited = func(e ExitInfo) {
			exited <- e
			mu.Lock()
			parent := crashHeader
			mu.Unlock()
			injected <- p.Inject(parent, "display_data", map[string]any{
				"data": map[string]any{"text/plain": "kernel died"}, "metadata": map[string]any{},
			}, nil)
		}
	})
	c := dialClient(t, h.ci)
	id, _ := c.execute("warm up") // the proxy learns the kernel's session
	c.idle(id)

	raw, hdr := c.request("execute_request", map[string]any{"code": "crash", "silent": false})
	mu.Lock()
	crashHeader = hdr
	mu.Unlock()
	c.send(c.shell, raw)

	r := h.wait()
	if r.err != nil {
		t.Fatalf("Run: %v", r.err)
	}
	if r.exit.Code != 3 || r.exit.Signal != "" || r.exit.Requested {
		t.Errorf("exit = %+v, want code 3, not requested", r.exit)
	}
	select {
	case e := <-exited:
		if e.Code != 3 {
			t.Errorf("ChildExited got %+v", e)
		}
	default:
		t.Fatal("ChildExited was not called before Run returned")
	}
	if err := <-injected; err != nil {
		t.Fatalf("Inject from ChildExited: %v", err)
	}
	msg := c.iopubIn.waitFor(t, "the message injected after the crash", func(r received) bool {
		return isType("display_data")(r) && r.m.ParentMsgID == msgID(hdr)
	})
	if !strings.Contains(string(msg.f.Content), "kernel died") {
		t.Errorf("content %s", msg.f.Content)
	}
	assertGone(t, h)
}

func TestProxyShutdownRequest(t *testing.T) {
	h := startProxy(t, frontendInfo(t, "ipc"), nil)
	c := dialClient(t, h.ci)
	raw, hdr := c.request("shutdown_request", map[string]any{"restart": false})
	c.send(c.control, raw)
	r := h.wait()
	if r.err != nil {
		t.Fatalf("Run: %v", r.err)
	}
	if !r.exit.Requested || r.exit.Code != 0 || r.exit.Signal != "" {
		t.Errorf("exit = %+v, want requested with code 0", r.exit)
	}
	c.controlIn.waitFor(t, "shutdown_reply", func(r received) bool {
		return isType("shutdown_reply")(r) && r.m.ParentMsgID == msgID(hdr)
	})
	assertGone(t, h)
}

func TestProxyInterruptMessage(t *testing.T) {
	h := startProxy(t, frontendInfo(t, "ipc"), nil)
	c := dialClient(t, h.ci)
	id, _ := c.execute("hang")
	c.iopubIn.waitFor(t, "execute_input of the hanging cell", func(r received) bool {
		return isType("execute_input")(r) && r.m.ParentMsgID == id
	})
	raw, hdr := c.request("interrupt_request", map[string]any{})
	c.send(c.control, raw)
	c.controlIn.waitFor(t, "interrupt_reply", isReplyTo(msgID(hdr)))
	reply := c.shellIn.waitFor(t, "execute_reply of the interrupted cell", isReplyTo(id))
	if !strings.Contains(string(reply.f.Content), "KeyboardInterrupt") {
		t.Errorf("reply %s", reply.f.Content)
	}
	c.idle(id)
}

func TestProxyCancelStopsChild(t *testing.T) {
	h := startProxy(t, frontendInfo(t, "ipc"), func(p *Proxy) { p.ShutdownGrace = waitLimit })
	c := dialClient(t, h.ci)
	id, _ := c.execute("hang")
	c.iopubIn.waitFor(t, "execute_input of the hanging cell", func(r received) bool {
		return isType("execute_input")(r) && r.m.ParentMsgID == id
	})
	r := h.stop()
	if r.err != nil {
		t.Fatalf("Run: %v", r.err)
	}
	if r.exit.Signal != "SIGTERM" || r.exit.Code != 128+int(syscall.SIGTERM) || r.exit.Requested || !r.exit.Stopped {
		t.Errorf("exit = %+v, want ended by SIGTERM, stopped by us", r.exit)
	}
	assertGone(t, h)
}

func TestProxyBindFailure(t *testing.T) {
	for _, port := range []string{"shell", "iopub", "hb"} {
		t.Run(port, func(t *testing.T) {
			checkNoLeaks(t)
			busy, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			defer busy.Close()
			ci := frontendInfo(t, "tcp")
			p := map[string]*int{"shell": &ci.ShellPort, "iopub": &ci.IOPubPort, "hb": &ci.HBPort}[port]
			*p = busy.Addr().(*net.TCPAddr).Port
			started := false
			px := &Proxy{Frontend: ci, Argv: fakeKernelArgv(), Env: fakeKernelEnviron(), Started: func(int) { started = true }}
			done := make(chan runResult, 1)
			go func() {
				exit, err := px.Run(t.Context())
				done <- runResult{exit, err}
			}()
			var r runResult
			select {
			case r = <-done:
			case <-time.After(waitLimit):
				t.Fatal("Run did not return")
			}
			if r.err == nil || !strings.Contains(r.err.Error(), "bind "+port) {
				t.Fatalf("Run error = %v, want a bind %s error", r.err, port)
			}
			if !errors.Is(r.err, syscall.EADDRINUSE) {
				t.Errorf("error %v does not wrap EADDRINUSE", r.err)
			}
			if started || px.ChildPID() != 0 {
				t.Errorf("a wrapped kernel was started (pid %d)", px.ChildPID())
			}
		})
	}
}

func TestProxyChildFailsToStart(t *testing.T) {
	tests := []struct {
		name string
		argv []string
		env  []string
		want string
	}{
		{name: "no command", argv: nil, want: "no wrapped kernel command"},
		{name: "missing interpreter", argv: []string{"./no-such-interpreter", ChildConnectionPlaceholder}, want: "start wrapped kernel"},
		{name: "exits before ready", argv: []string{os.Args[0], "extra", "args"}, env: fakeKernelEnviron(), want: "exited before it was ready"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkNoLeaks(t)
			px := &Proxy{Frontend: frontendInfo(t, "ipc"), Argv: tt.argv, Env: tt.env}
			tmp := t.TempDir()
			t.Setenv("TMPDIR", tmp) // where the private directory would be made
			_, err := px.Run(t.Context())
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Run error = %v, want %q", err, tt.want)
			}
			if left, _ := os.ReadDir(tmp); len(left) != 0 {
				t.Errorf("left behind in TMPDIR: %v", left)
			}
		})
	}
}

func TestProxyChildKilled(t *testing.T) {
	h := startProxy(t, frontendInfo(t, "ipc"), nil)
	c := dialClient(t, h.ci)
	id, _ := c.execute("hang")
	c.iopubIn.waitFor(t, "execute_input of the hanging cell", func(r received) bool {
		return isType("execute_input")(r) && r.m.ParentMsgID == id
	})
	if err := syscall.Kill(h.pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	r := h.wait()
	if r.err != nil {
		t.Fatalf("Run: %v", r.err)
	}
	if r.exit.Signal != "SIGKILL" || r.exit.Code != 128+int(syscall.SIGKILL) || r.exit.Requested {
		t.Errorf("exit = %+v, want killed by SIGKILL", r.exit)
	}
	assertGone(t, h)
}

// Told to stop, the proxy forwards SIGTERM and leaves escalation to the
// client: a wrapped kernel that ignores SIGTERM keeps running (Run does not
// return) until something kills it, here Kill.
func TestProxyCancelDoesNotEscalate(t *testing.T) {
	h := startProxy(t, frontendInfo(t, "ipc"), nil)
	c := dialClient(t, h.ci)
	id, _ := c.execute("ignore sigterm")
	c.idle(id)
	h.stopped.Do(h.cancel)
	// A negative check: Run returning within this window would mean it
	// killed the kernel itself (it used to after 2 s); slowness cannot fail it.
	select {
	case r := <-h.done:
		h.done <- r
		t.Fatalf("Run returned %+v while the kernel ignored SIGTERM", r.exit)
	case <-time.After(2500 * time.Millisecond):
	}
	h.p.Kill()
	r := h.wait()
	if r.exit.Signal != "SIGKILL" {
		t.Errorf("exit = %+v, want SIGKILL (from Kill)", r.exit)
	}
	assertGone(t, h)
}
