package cellwatch

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"
)

func TestBusyMarkers(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "busy")
	proc := t.TempDir()
	clock := time.Unix(1000, 0)
	me := busyMarker{dir: dir, pid: os.Getpid(), child: 77, proc: proc, now: func() time.Time { return clock }}
	if err := me.set(true); err != nil {
		t.Fatal(err)
	}
	if info, err := os.Stat(dir); err != nil || info.Mode().Perm() != 0o700 {
		t.Fatalf("busy dir: %v, %v", info, err)
	}
	if raw, _ := os.ReadFile(filepath.Join(dir, strconv.Itoa(os.Getpid()))); string(raw) != "77" {
		t.Errorf("own marker holds %q, want the kernel's pid", raw)
	}
	// Markers of two live processes (our parent and pid 1 stand in for
	// other cloudline kernels) naming kernels 4001 (training: its worker
	// 4005 burns CPU) and 4002 (sleeping), and one of a dead process.
	stat := func(pid int, ticks int) {
		t.Helper()
		d := filepath.Join(proc, strconv.Itoa(pid), "task", strconv.Itoa(pid))
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
		line := fmt.Sprintf("%d (python) S 1 1 1 0 -1 0 0 0 0 0 %d 0 0 0 20 0 1 0\n", pid, ticks)
		if err := os.WriteFile(filepath.Join(proc, strconv.Itoa(pid), "stat"), []byte(line), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	children := func(pid int, kids string) {
		t.Helper()
		p := filepath.Join(proc, strconv.Itoa(pid), "task", strconv.Itoa(pid), "children")
		if err := os.WriteFile(p, []byte(kids), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	dead := exec.Command("true")
	if err := dead.Run(); err != nil {
		t.Fatal(err)
	}
	markers := map[int]string{os.Getppid(): "4001", 1: "4002", dead.Process.Pid: "4003"}
	for pid, kernel := range markers {
		if err := os.WriteFile(filepath.Join(dir, strconv.Itoa(pid)), []byte(kernel), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	stat(4001, 100)
	stat(4005, 0)
	children(4001, "4005 ")
	stat(4002, 100)
	if n := me.others(); n != 0 {
		t.Errorf("others = %d at first sight, want 0 (no window yet)", n)
	}
	if _, err := os.Stat(filepath.Join(dir, strconv.Itoa(dead.Process.Pid))); !os.IsNotExist(err) {
		t.Errorf("dead process's marker kept: %v", err)
	}
	clock = clock.Add(2 * time.Second)
	stat(4005, 60) // the worker used 0.6 s of 2 s
	stat(4002, 101)
	if n := me.others(); n != 1 {
		t.Errorf("others = %d, want 1 (the training one, not the sleeping one)", n)
	}
	clock = clock.Add(100 * time.Millisecond) // within the window: same verdict
	if n := me.others(); n != 1 {
		t.Errorf("others = %d within the window, want 1", n)
	}
	if err := me.set(false); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, strconv.Itoa(os.Getpid()))); !os.IsNotExist(err) {
		t.Errorf("own marker left after set(false): %v", err)
	}
}

func TestDefaultBusyDir(t *testing.T) {
	t.Setenv("XDG_RUNTIME_DIR", filepath.Join("run", "user"))
	if got, want := DefaultBusyDir(), filepath.Join("run", "user", "cloudline", "busy"); got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	t.Setenv("XDG_RUNTIME_DIR", "")
	t.Setenv("TMPDIR", "tmpx")
	if got, want := DefaultBusyDir(), filepath.Join("tmpx", "cloudline-"+strconv.Itoa(os.Getuid()), "busy"); got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}
