package cellwatch

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
)

func TestBusyMarkers(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "busy")
	me := busyMarker{dir: dir, pid: os.Getpid()}
	if err := me.set(true); err != nil {
		t.Fatal(err)
	}
	if info, err := os.Stat(dir); err != nil || info.Mode().Perm() != 0o700 {
		t.Fatalf("busy dir: %v, %v", info, err)
	}
	// Another live process (our parent) and a dead one.
	dead := exec.Command("true")
	if err := dead.Run(); err != nil {
		t.Fatal(err)
	}
	for _, pid := range []int{os.Getppid(), dead.Process.Pid} {
		if err := os.WriteFile(filepath.Join(dir, strconv.Itoa(pid)), nil, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if n := me.others(); n != 1 {
		t.Errorf("others = %d, want 1 (the live one)", n)
	}
	if _, err := os.Stat(filepath.Join(dir, strconv.Itoa(dead.Process.Pid))); !os.IsNotExist(err) {
		t.Errorf("dead process's marker kept: %v", err)
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
