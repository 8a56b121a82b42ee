package cellwatch

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
)

// Busy markers: while one of its cells runs, each cloudline process keeps
// an empty file named after its pid in a directory shared by the user's
// kernels. Counting the markers of live processes tells a kernel how many
// others are busy at the same time.

// DefaultBusyDir is $XDG_RUNTIME_DIR/cloudline/busy, else
// $TMPDIR/cloudline-<uid>/busy.
func DefaultBusyDir() string {
	if d := os.Getenv("XDG_RUNTIME_DIR"); d != "" {
		return filepath.Join(d, "cloudline", "busy")
	}
	return filepath.Join(os.TempDir(), fmt.Sprintf("cloudline-%d", os.Getuid()), "busy")
}

// busyMarker is this process's marker in dir.
type busyMarker struct {
	dir  string
	pid  int
	on   bool
	made bool // dir exists
}

// set creates (busy) or removes (idle) the marker.
func (b *busyMarker) set(busy bool) error {
	if b.dir == "" || b.on == busy {
		return nil
	}
	path := filepath.Join(b.dir, strconv.Itoa(b.pid))
	if !busy {
		b.on = false
		if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("remove busy marker: %w", err)
		}
		return nil
	}
	if !b.made {
		if err := os.MkdirAll(b.dir, 0o700); err != nil {
			return fmt.Errorf("busy dir: %w", err)
		}
		b.made = true
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY, 0o600)
	if err != nil {
		return fmt.Errorf("create busy marker: %w", err)
	}
	b.on = true
	if err := f.Close(); err != nil {
		return fmt.Errorf("create busy marker: %w", err)
	}
	return nil
}

// others counts the markers of other live processes. Markers of dead
// processes (a crashed kernel) are removed on the way.
func (b *busyMarker) others() int {
	if b.dir == "" {
		return 0
	}
	ents, err := os.ReadDir(b.dir)
	if err != nil {
		return 0
	}
	n := 0
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == b.pid || pid <= 0 {
			continue
		}
		if alive(pid) {
			n++
		} else {
			_ = os.Remove(filepath.Join(b.dir, e.Name()))
		}
	}
	return n
}

// alive reports whether pid exists (EPERM: exists, another user's).
func alive(pid int) bool {
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}
