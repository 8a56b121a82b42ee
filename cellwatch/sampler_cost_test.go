package cellwatch

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// The files Proc keeps open between samples.

func TestProcSamplerKeepsFilesOpen(t *testing.T) {
	root, _ := fakeProc(t)
	s := &ProcSampler{Root: root}
	first, err := s.Proc(100, false)
	if err != nil {
		t.Fatal(err)
	}
	pf := s.open[100]
	if pf == nil || pf.stat == nil || pf.status == nil || pf.io == nil {
		t.Fatalf("after a sample, open files of 100: %+v", pf)
	}
	// The kernel's counters move: the same open files read the new text.
	stat := "100 (python3) S 1 100 100 0 -1 4194304 0 0 0 0 400 100 0 0 20 0 1 0 9 0 0\n"
	status := "Name:\tpython3\nVmHWM:\t  700000 kB\nVmRSS:\t  130000 kB\nRssAnon:\t  110000 kB\n"
	io := "rchar: 999\nwchar: 7\nread_bytes: 8192\nwrite_bytes: 0\n"
	for name, text := range map[string]string{"stat": stat, "status": status, "io": io} {
		if err := os.WriteFile(filepath.Join(root, "100", name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := s.Proc(100, false)
	if err != nil {
		t.Fatal(err)
	}
	if s.open[100] != pf {
		t.Error("the second sample reopened the files")
	}
	want := ProcSample{PID: 100, PPID: 1, CPU: 5 * time.Second, RSS: 130000 << 10, HWM: 700000 << 10, Anon: 110000 << 10,
		IO: true, RChar: 999, WChar: 7, ReadBytes: 8192}
	if got.CPU == first.CPU || got.PID != want.PID || got.PPID != want.PPID || got.CPU != want.CPU || got.RSS != want.RSS ||
		got.HWM != want.HWM || got.Anon != want.Anon || got.IO != want.IO || got.RChar != want.RChar ||
		got.WChar != want.WChar || got.ReadBytes != want.ReadBytes || got.WriteBytes != want.WriteBytes {
		t.Errorf("after the change: %+v\nwant %+v", got, want)
	}
}

func TestProcSamplerLongStatus(t *testing.T) {
	root, _ := fakeProc(t)
	s := &ProcSampler{Root: root}
	// Bigger than the first buffer: the end of the file must not be cut.
	status := strings.Repeat("Padding:\t0\n", 1000) + "VmHWM:\t  2000 kB\nVmRSS:\t  1000 kB\n"
	if err := os.WriteFile(filepath.Join(root, "101", "status"), []byte(status), 0o644); err != nil {
		t.Fatal(err)
	}
	for i := range 2 {
		p, err := s.Proc(101, false)
		if err != nil {
			t.Fatal(err)
		}
		if p.RSS != 1000<<10 || p.HWM != 2000<<10 {
			t.Errorf("read %d: rss %d hwm %d, want 1000 kB and 2000 kB", i, p.RSS, p.HWM)
		}
	}
}

func TestProcSamplerGoneFiles(t *testing.T) {
	tests := []struct {
		name string
		gone func(t *testing.T, root string)
	}{
		{"empty stat", func(t *testing.T, root string) {
			if err := os.WriteFile(filepath.Join(root, "102", "stat"), nil, 0o644); err != nil {
				t.Fatal(err)
			}
		}},
		{"left the tree", func(t *testing.T, root string) {
			if err := os.RemoveAll(filepath.Join(root, "102")); err != nil {
				t.Fatal(err)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root, _ := fakeProc(t)
			s := &ProcSampler{Root: root}
			if _, err := s.Proc(102, false); err != nil {
				t.Fatal(err)
			}
			tt.gone(t, root)
			if _, err := s.Tree(100); err != nil {
				t.Fatal(err)
			}
			if _, err := s.Proc(102, false); !errors.Is(err, ErrGone) {
				t.Errorf("Proc(102) err = %v, want ErrGone", err)
			}
			if s.open[102] != nil {
				t.Error("the files of 102 are still open")
			}
			if s.open[100] != nil {
				t.Error("Tree opened files of 100, which Proc never read")
			}
		})
	}
}

// A real process that exits and is reaped: its open files fail to read
// (ESRCH), which must show as ErrGone and close them.
func TestProcSamplerReapedProcess(t *testing.T) {
	cmd := exec.Command("sleep", "60")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	pid := cmd.Process.Pid
	s := &ProcSampler{Root: "/proc"}
	t.Cleanup(func() { s.Close() })
	p, err := s.Proc(pid, false)
	if err != nil {
		t.Fatal(err)
	}
	if p.PID != pid || p.PPID != os.Getpid() || s.open[pid] == nil {
		t.Fatalf("live sleep: %+v, open %v", p, s.open[pid])
	}
	for range 2 {
		if err := s.ResetPeak(pid); err != nil {
			t.Fatal(err)
		}
	}
	stale := s.open[pid].stat.f
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait() // reaped: the pid is free for reuse
	if _, err := s.Proc(pid, false); !errors.Is(err, ErrGone) {
		t.Errorf("reaped: err = %v, want ErrGone", err)
	}
	if s.open[pid] != nil {
		t.Error("the reaped process's files are still cached")
	}
	if err := s.ResetPeak(pid); !errors.Is(err, ErrGone) {
		t.Errorf("reaped: ResetPeak err = %v, want ErrGone", err)
	}
	if _, err := stale.Stat(); !errors.Is(err, os.ErrClosed) {
		t.Errorf("the stale stat file was not closed: %v", err)
	}
}

func TestProcSamplerClose(t *testing.T) {
	root, _ := fakeProc(t)
	s := &ProcSampler{Root: root}
	for _, pid := range []int{100, 101} {
		if _, err := s.Proc(pid, false); err != nil {
			t.Fatal(err)
		}
	}
	f := s.open[100].stat.f
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if len(s.open) != 0 {
		t.Errorf("%d processes' files open after Close", len(s.open))
	}
	if _, err := f.Stat(); !errors.Is(err, os.ErrClosed) {
		t.Errorf("a file survived Close: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if p, err := s.Proc(100, false); err != nil || p.PID != 100 {
		t.Errorf("Proc after Close = %+v, %v", p, err)
	}
}

// Proc and Tree from several goroutines: run with -race.
func TestProcSamplerConcurrent(t *testing.T) {
	root, _ := fakeProc(t)
	s := &ProcSampler{Root: root}
	t.Cleanup(func() { s.Close() })
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for g := range 4 {
		wg.Go(func() {
			for range 20 {
				if g == 0 {
					if _, err := s.Tree(100); err != nil {
						errs <- err
					}
					continue
				}
				for _, pid := range []int{100, 101, 102} {
					p, err := s.Proc(pid, g == 1)
					if err == nil && p.PID != pid {
						err = fmt.Errorf("Proc(%d) read pid %d", pid, p.PID)
					}
					if err != nil {
						errs <- err
					}
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

func TestProcSamplerResetPeakKeepsFileOpen(t *testing.T) {
	root, _ := fakeProc(t)
	s := &ProcSampler{Root: root}
	for range 3 {
		if err := s.ResetPeak(100); err != nil {
			t.Fatal(err)
		}
	}
	if pf := s.open[100]; pf == nil || pf.clearRefs == nil {
		t.Fatal("clear_refs of 100 not kept open")
	}
	// Each reset writes "5" at offset 0, as a fresh open would.
	if b, _ := os.ReadFile(filepath.Join(root, "100", "clear_refs")); string(b) != "5" {
		t.Errorf("clear_refs holds %q, want \"5\"", b)
	}
	if err := s.ResetPeak(4242); !errors.Is(err, ErrGone) {
		t.Errorf("ResetPeak(4242) err = %v, want ErrGone", err)
	}
}
