package cellwatch

import (
	"context"
	"io"
	"os"
	"strconv"
	"sync"
	"testing"
	"time"
)

// countingSampler counts the process reads of the Sampler it wraps.
type countingSampler struct {
	Sampler
	mu    sync.Mutex
	procs int
}

func (c *countingSampler) Proc(pid int, files bool) (ProcSample, error) {
	c.mu.Lock()
	c.procs++
	c.mu.Unlock()
	return c.Sampler.Proc(pid, files)
}

func (c *countingSampler) reads() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.procs
}

// A cell started right after the previous one ended takes that cell's end
// sample as its baseline instead of reading the tree again; its figures
// stay those of a fresh baseline.
func TestWatcherBaselineFromEndSample(t *testing.T) {
	ms := time.Millisecond
	tests := []struct {
		name      string
		gap       time.Duration // from a's idle to b's request
		noReset   bool          // clear_refs not writable: peaks from RSS
		wantReads int           // at b's start
	}{
		{"run all", 2 * ms, false, 0},
		{"run all, no peak reset", 2 * ms, true, 0},
		{"a second later", time.Second, false, 1},
		{"clock went back", -5 * ms, false, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var cs *countingSampler
			h := startWatcher(t, func(w *Watcher) {
				cs = &countingSampler{Sampler: w.Proc}
				w.Proc = cs
			})
			h.fs.update(func(f *fakeSampler) { f.noReset = tt.noReset })
			set := func(fn func(p *ProcSample)) {
				h.fs.update(func(f *fakeSampler) {
					p := f.procs[10]
					fn(&p)
					f.procs[10] = p
				})
			}
			aEnd := 100 * ms
			h.feed(t, execRequest(t, "a", "big()", false, 0), iopub(t, "a", "execute_input", map[string]any{}, ms))
			set(func(p *ProcSample) { p.CPU += time.Second; p.RSS, p.HWM = 500*mb, 500*mb; p.RChar += 10 })
			h.feed(t, execReply(t, "a", map[string]string{"status": "ok"}, aEnd), idle(t, "a", aEnd))
			// Memory freed after the end sample (VmHWM keeps 500 MB).
			set(func(p *ProcSample) { p.RSS = 100 * mb })

			before := cs.reads()
			bStart := aEnd + tt.gap
			h.feed(t, execRequest(t, "b", "x = 1", false, bStart), iopub(t, "b", "execute_input", map[string]any{}, bStart+ms))
			if got := cs.reads() - before; got != tt.wantReads {
				t.Errorf("b's start read the tree %d times, want %d", got, tt.wantReads)
			}
			set(func(p *ProcSample) { p.CPU += 300 * ms; p.RChar += 4096 })
			h.feed(t, execReply(t, "b", map[string]string{"status": "ok"}, bStart+50*ms), idle(t, "b", bStart+50*ms))

			r, ok := h.ev.last(CellEnd)
			if !ok || r.MsgID != "b" {
				t.Fatalf("last CellEnd: %+v", r)
			}
			if r.CPU != 300*ms || r.ReadBytes != 4096 || r.RSS != 100*mb || r.PeakRSS != 100*mb {
				t.Errorf("b: cpu %v read %d rss %d MB peak %d MB; want 300ms, 4096, 100 MB, 100 MB",
					r.CPU, r.ReadBytes, r.RSS/mb, r.PeakRSS/mb)
			}
			if r.PeakExact == tt.noReset {
				t.Errorf("b: peak exact %v with clear_refs writable %v", r.PeakExact, !tt.noReset)
			}
		})
	}
}

// BenchmarkCellSampling is a trivial cell's start and end sampling of this
// process's tree on the real /proc, without the messages around them:
// back-to-back cells (a run all: the start reuses the previous end sample)
// and cells two seconds apart (the start reads the tree).
func BenchmarkCellSampling(b *testing.B) {
	for _, gap := range []time.Duration{2 * time.Millisecond, 2 * time.Second} {
		b.Run("gap-"+gap.String(), func(b *testing.B) {
			w := &Watcher{PID: os.Getpid(), Dir: ".", History: "off", BusyDir: "off", PortsEvery: -1, GPU: benchNoGPU{}}
			w.run = w.newRunState(context.Background())
			defer w.run.proc.(io.Closer).Close()
			now := time.Now()
			if tree, err := w.run.proc.Tree(w.PID); err == nil {
				w.run.tree, w.run.treeAt = tree, now
			}
			b.ReportAllocs()
			for i := 0; b.Loop(); i++ {
				c := &cell{rec: Record{MsgID: strconv.Itoa(i), Requested: now}}
				w.run.cells[c.rec.MsgID] = c
				w.startMeasuring(c, now)
				now = now.Add(time.Millisecond)
				w.sampleAll(now, false)
				delete(w.run.cells, c.rec.MsgID)
				if c.rec.RSS == 0 {
					b.Fatal("nothing measured")
				}
				now = now.Add(gap)
			}
		})
	}
}
