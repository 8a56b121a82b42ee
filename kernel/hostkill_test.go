package kernel

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// With proxyHostEnv set, the test binary runs a Proxy around the fake
// kernel in its own process, so a test can SIGKILL the proxy.
const proxyHostEnv = "CLOUDLINE_PROXY_HOST"

// runProxyHost runs a Proxy for the connection file in args[0] and prints
// "child PID DIR" once the wrapped kernel is up.
func runProxyHost(args []string) error {
	if len(args) != 1 {
		return fmt.Errorf("want one connection file argument, got %q", args)
	}
	ci, err := ReadConnectionFile(args[0])
	if err != nil {
		return err
	}
	p := &Proxy{Frontend: ci, ConnectionFile: args[0], Argv: fakeKernelArgv(), Env: fakeKernelEnviron()}
	p.Started = func(pid int) { fmt.Printf("child %d %s\n", pid, p.child.dir) }
	_, err = p.Run(context.Background())
	return err
}

// processGone reports whether pid no longer runs (gone or a zombie).
func processGone(pid int) bool {
	if err := syscall.Kill(pid, 0); errors.Is(err, syscall.ESRCH) {
		return true
	}
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return true
	}
	// The state follows the parenthesised command name.
	s := string(stat)
	if i := strings.LastIndexByte(s, ')'); i >= 0 && i+2 < len(s) {
		return s[i+2] == 'Z'
	}
	return false
}

func TestProxyHostKilled(t *testing.T) {
	ci := frontendInfo(t, "ipc")
	path := filepath.Join(t.TempDir(), "conn.json")
	if err := ci.Write(path); err != nil {
		t.Fatal(err)
	}
	tmp := t.TempDir()
	cmd := exec.Command(os.Args[0], path)
	cmd.Env = append(os.Environ(), proxyHostEnv+"=1", "TMPDIR="+tmp)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	lines := make(chan string, 1)
	go func() {
		line, _ := bufio.NewReader(out).ReadString('\n')
		lines <- line
	}()
	var pid int
	var dir string
	select {
	case line := <-lines:
		if _, err := fmt.Sscanf(line, "child %d %s", &pid, &dir); err != nil {
			t.Fatalf("proxy host said %q: %v", line, err)
		}
	case <-time.After(waitLimit):
		t.Fatal("proxy host did not start its kernel")
	}
	if processGone(pid) {
		t.Fatal("wrapped kernel not running")
	}
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()
	deadline := time.Now().Add(waitLimit)
	for !processGone(pid) {
		if time.Now().After(deadline) {
			_ = syscall.Kill(pid, syscall.SIGKILL)
			t.Fatalf("wrapped kernel %d outlived its SIGKILLed proxy", pid)
		}
		time.Sleep(5 * time.Millisecond) // polling the process table
	}
	// A SIGKILLed proxy leaves its private directory, holding only the
	// link to the frontend's file (no key); the next kernel's start
	// removes it.
	left, _ := os.ReadDir(dir)
	for _, e := range left {
		if e.Type()&os.ModeSymlink == 0 {
			t.Errorf("private directory holds %s (%v), want the link only", e.Name(), e.Type())
		}
	}
	sweepStale(tmp)
	if left, _ := os.ReadDir(tmp); len(left) != 0 {
		t.Errorf("left behind in TMPDIR after SIGKILL and the next start: %v", left)
	}
}
