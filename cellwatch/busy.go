package cellwatch

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Busy markers: while one of its cells runs, each cloudline process keeps
// a file named after its pid, holding its kernel's pid, in a directory
// shared by the user's kernels. A kernel counts another as busy when its
// marker is there, is the same user's, and the other kernel's process tree
// used CPU since the last look: a cell that only sleeps (waiting for input,
// a server idling, time.sleep) is no training.

// DefaultBusyDir is $XDG_RUNTIME_DIR/cloudline/busy, else
// $TMPDIR/cloudline-<uid>/busy.
func DefaultBusyDir() string {
	if d := os.Getenv("XDG_RUNTIME_DIR"); d != "" {
		return filepath.Join(d, "cloudline", "busy")
	}
	return filepath.Join(os.TempDir(), fmt.Sprintf("cloudline-%d", os.Getuid()), "busy")
}

// busyCPUShare is the share of one core another kernel's tree must use
// over a busyWindow to count as busy: a sleeping ipykernel uses about
// 0.1 %, any computation far more. The window is long enough for the
// kernel's 10 ms CPU accounting to measure that share.
const (
	busyCPUShare = 0.05
	busyWindow   = time.Second
)

// busyMarker is this process's marker in dir.
type busyMarker struct {
	dir   string
	pid   int // ours, the marker's name
	child int // our kernel's, the marker's content
	on    bool
	made  bool               // dir exists
	proc  string             // /proc; "" = "/proc"
	seen  map[int]cpuReading // other markers' last tree CPU
	now   func() time.Time   // nil = time.Now
}

type cpuReading struct {
	cpu  time.Duration
	at   time.Time
	busy bool // the verdict of the window that ended at this reading
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
	if err := os.WriteFile(path, []byte(strconv.Itoa(b.child)), 0o600); err != nil {
		return fmt.Errorf("create busy marker: %w", err)
	}
	b.on = true
	return nil
}

// others counts the other kernels of this user that are busy: a marker
// of a live process, owned by this user, whose kernel's tree used at
// least busyCPUShare of a core over the last busyWindow. A marker seen
// for the first time is not counted yet (no window to judge). Markers of dead
// processes (a crashed kernel) are removed on the way.
func (b *busyMarker) others() int {
	if b.dir == "" {
		return 0
	}
	ents, err := os.ReadDir(b.dir)
	if err != nil {
		return 0
	}
	now := time.Now()
	if b.now != nil {
		now = b.now()
	}
	next := make(map[int]cpuReading, len(b.seen))
	n := 0
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == b.pid || pid <= 0 {
			continue
		}
		path := filepath.Join(b.dir, e.Name())
		if !alive(pid) {
			_ = os.Remove(path)
			continue
		}
		info, err := e.Info()
		if st, ok := info.Sys().(*syscall.Stat_t); err != nil || !ok || int(st.Uid) != os.Getuid() {
			continue // another user's (a shared directory)
		}
		child, err := readPID(path)
		if err != nil {
			continue // an old marker without its kernel's pid
		}
		cpu, ok := b.treeCPU(child)
		if !ok {
			continue
		}
		r := cpuReading{cpu: cpu, at: now}
		if last, ok := b.seen[pid]; ok {
			wall := now.Sub(last.at)
			if wall < busyWindow && wall >= 0 {
				r = last // the window goes on
			} else {
				r.busy = wall > 0 && float64(cpu-last.cpu) >= busyCPUShare*float64(wall)
			}
		}
		next[pid] = r
		if r.busy {
			n++
		}
	}
	b.seen = next
	return n
}

func readPID(path string) (int, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return 0, fmt.Errorf("read busy marker: %w", err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(raw)))
	if err != nil || pid <= 0 {
		return 0, fmt.Errorf("busy marker %s: no pid", filepath.Base(path))
	}
	return pid, nil
}

// maxBusyTree bounds the processes read per other kernel.
const maxBusyTree = 64

// treeCPU sums the CPU time of pid and its descendants.
func (b *busyMarker) treeCPU(pid int) (time.Duration, bool) {
	root := b.proc
	if root == "" {
		root = "/proc"
	}
	var total time.Duration
	queue := []int{pid}
	for i := 0; i < len(queue) && i < maxBusyTree; i++ {
		p := strconv.Itoa(queue[i])
		raw, err := os.ReadFile(filepath.Join(root, p, "stat"))
		if err != nil {
			if i == 0 {
				return 0, false
			}
			continue
		}
		st, err := parseStat(raw)
		if err != nil {
			continue
		}
		total += st.CPU
		kids, _ := os.ReadFile(filepath.Join(root, p, "task", p, "children"))
		for _, f := range strings.Fields(string(kids)) {
			if k, err := strconv.Atoi(f); err == nil {
				queue = append(queue, k)
			}
		}
	}
	return total, true
}

// alive reports whether pid exists (EPERM: exists, another user's).
func alive(pid int) bool {
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}
