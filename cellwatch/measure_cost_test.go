package cellwatch

import (
	"context"
	"fmt"
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

// A cell's baseline is the reading taken at the kernel's previous idle,
// however late the watcher handles its request: work the kernel did before
// the watcher got to the cell counts, all of it, and the tree is not read
// again at the cell's start.
func TestWatcherBaselineIsTheIdleReading(t *testing.T) {
	ms := time.Millisecond
	for _, noReset := range []bool{false, true} {
		t.Run(fmt.Sprintf("noReset=%v", noReset), func(t *testing.T) {
			var cs *countingSampler
			h := startWatcher(t, func(w *Watcher) {
				cs = &countingSampler{Sampler: w.Proc}
				w.Proc = cs
			})
			h.fs.update(func(f *fakeSampler) { f.noReset = noReset })
			set := func(fn func(p *ProcSample)) {
				h.fs.update(func(f *fakeSampler) {
					p := f.procs[10]
					fn(&p)
					f.procs[10] = p
				})
			}
			h.feed(t, execRequest(t, "a", "big()", false, 0), iopub(t, "a", "execute_input", map[string]any{}, ms))
			set(func(p *ProcSample) { p.CPU += time.Second; p.RSS, p.HWM = 500*mb, 500*mb; p.RChar += 10 })
			set(func(p *ProcSample) { p.RSS = 100 * mb }) // freed: VmHWM keeps 500 MB until reset
			h.feed(t, execReply(t, "a", map[string]string{"status": "ok"}, 100*ms), idle(t, "a", 100*ms))
			if r, _ := h.ev.last(CellEnd); !noReset && r.PeakRSS != 500*mb {
				t.Errorf("a: peak %d MB, want 500", r.PeakRSS/mb)
			}

			// b runs start to end before the watcher wakes (no Sync).
			before := cs.reads()
			h.w.Observe(execRequest(t, "b", "x = 1", false, 102*ms))
			h.w.Observe(iopub(t, "b", "execute_input", map[string]any{}, 103*ms))
			set(func(p *ProcSample) {
				p.CPU += 300 * ms
				p.RChar += 4096
				p.WChar += 80 * mb
				p.RSS = 200 * mb
				p.HWM = max(p.HWM, 200*mb)
			})
			h.feed(t, execReply(t, "b", map[string]string{"status": "ok"}, 150*ms), idle(t, "b", 150*ms))
			if got := cs.reads() - before; got != 1 {
				t.Errorf("b read the tree %d times, want once (its idle)", got)
			}

			r, ok := h.ev.last(CellEnd)
			if !ok || r.MsgID != "b" {
				t.Fatalf("last CellEnd: %+v", r)
			}
			wantPeak := uint64(200 * mb) // VmHWM since a's idle; else from b's RSS
			if r.CPU != 300*ms || r.ReadBytes != 4096 || r.WriteBytes != 80*mb || r.RSS != 200*mb || r.PeakRSS != wantPeak {
				t.Errorf("b: cpu %v read %d written %d rss %d MB peak %d MB; want 300ms, 4096, 80 MiB, 200 MB, %d MB",
					r.CPU, r.ReadBytes, r.WriteBytes, r.RSS/mb, r.PeakRSS/mb, wantPeak/mb)
			}
			if r.PeakExact == noReset {
				t.Errorf("b: peak exact %v with clear_refs writable %v", r.PeakExact, !noReset)
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
				w.sampleAll(now, false, nil)
				delete(w.run.cells, c.rec.MsgID)
				if c.rec.RSS == 0 {
					b.Fatal("nothing measured")
				}
				now = now.Add(gap)
			}
		})
	}
}

// BenchmarkReading is the reading HoldIdle takes as a cell's idle passes,
// on the forwarding path: this process's counters from the real /proc
// and its peak reset.
func BenchmarkReading(b *testing.B) {
	w := &Watcher{PID: os.Getpid()}
	w.init()
	defer w.proc.(io.Closer).Close()
	b.ReportAllocs()
	for b.Loop() {
		if r := w.takeReading(time.Now(), true); r == nil {
			b.Fatal("no reading")
		}
	}
}
