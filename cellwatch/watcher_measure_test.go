package cellwatch

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cloudline/cloudline/kernel"
)

// Run all: JupyterLab sends every request at once and the kernel queues
// them. Each cell is measured from its own execute_input.
func TestWatcherQueuedCells(t *testing.T) {
	h := startWatcher(t, nil)
	ms := time.Millisecond
	setRSS := func(rss uint64) {
		h.fs.update(func(f *fakeSampler) {
			p := f.procs[10]
			p.RSS, p.HWM = rss, max(p.HWM, rss)
			f.procs[10] = p
		})
	}
	h.feed(t, execRequest(t, "a", "big()", false, 0), execRequest(t, "b", "small()", false, ms))
	h.feed(t, iopub(t, "a", "execute_input", map[string]any{}, 2*ms))
	setRSS(500 * mb)
	setRSS(100 * mb) // big() freed its memory; VmHWM still says 500 MB
	h.feed(t, idle(t, "a", 1000*ms))
	h.feed(t, iopub(t, "b", "execute_input", map[string]any{}, 1001*ms))
	h.feed(t, idle(t, "b", 1100*ms))

	h.ev.mu.Lock()
	peaks := map[string]uint64{}
	for _, e := range h.ev.evs {
		if e.Kind == CellEnd {
			peaks[e.Record.MsgID] = e.Record.PeakRSS
			if e.Record.MsgID == "b" && e.Record.Wall != 99*ms {
				t.Errorf("b's wall %v, want 99ms (from its execute_input)", e.Record.Wall)
			}
		}
	}
	h.ev.mu.Unlock()
	if peaks["a"] != 500*mb || peaks["b"] != 100*mb {
		t.Errorf("peaks a %d MB, b %d MB; want 500 and 100", peaks["a"]/mb, peaks["b"]/mb)
	}
	if !slices.Equal(h.fs.resets, []int{10, 10, 10}) {
		t.Errorf("resets %v, want one at the first start (no idle seen before) and one per idle", h.fs.resets)
	}
}

// Quick cells that start and end while the watcher sleeps are handled in
// one batch, each measured exactly: its baseline is the reading of the
// idle before it (the kernel_info_reply's for the first), its end the
// reading of its own idle, each taken as the message passed.
func TestWatcherBatchedQuickCells(t *testing.T) {
	h := startWatcher(t, nil)
	ms := time.Millisecond
	h.feed(t, &kernel.Message{Channel: kernel.Shell, Direction: kernel.FromKernel, MsgType: "kernel_info_reply",
		MsgID: "ki", ParentMsgID: "kr", ParentMsgType: "kernel_info_request", Content: []byte(`{"status":"ok"}`)})
	for i, id := range []string{"a", "b", "c"} {
		at := time.Duration(i) * 10 * ms
		h.w.Observe(execRequest(t, id, "pass", false, at))
		h.w.Observe(iopub(t, id, "execute_input", map[string]any{}, at+ms))
		h.fs.update(func(f *fakeSampler) { // each writes 10 MB
			p := f.procs[10]
			p.WChar += 10 * mb
			f.procs[10] = p
		})
		h.w.Observe(idle(t, id, at+3*ms))
	}
	h.feed(t, execRequest(t, "d", "train()", false, 40*ms), iopub(t, "d", "execute_input", map[string]any{}, 41*ms))

	ends := map[string]Record{}
	h.ev.mu.Lock()
	for _, e := range h.ev.evs {
		if e.Kind == CellEnd {
			ends[e.Record.MsgID] = e.Record
		}
	}
	h.ev.mu.Unlock()
	for _, id := range []string{"a", "b", "c"} {
		r, ok := ends[id]
		if !ok {
			t.Fatalf("no CellEnd for %s", id)
		}
		if !r.PeakExact || r.PeakRSS != 100*mb || r.RSS != 100*mb || r.Wall != 2*ms || r.WriteBytes != 10*mb {
			t.Errorf("%s: peak %d MB exact %v, rss %d MB, wall %v, written %d; want 100 MB exact, 100 MB, 2ms, 10 MB",
				id, r.PeakRSS/mb, r.PeakExact, r.RSS/mb, r.Wall, r.WriteBytes)
		}
	}
	h.fs.mu.Lock()
	resets, reads := slices.Clone(h.fs.resets), h.fs.reads
	h.fs.mu.Unlock()
	if !slices.Equal(resets, []int{10, 10, 10, 10}) {
		t.Errorf("resets %v, want one per reading: the kernel_info_reply's and each idle's", resets)
	}
	if reads != 5 {
		t.Errorf("%d readings of the tree, want 5: the kernel_info_reply's, each idle's, the first listing of open files", reads)
	}
	h.feed(t, idle(t, "d", 500*ms))
	if r, _ := h.ev.last(CellEnd); r.MsgID != "d" || !r.PeakExact {
		t.Errorf("d's end: %s exact %v, want d with an exact peak", r.MsgID, r.PeakExact)
	}
}

// A forked worker maps its parent's pages: summing RSS would count the
// parent's data twice.
func TestWatcherForkedWorkerShared(t *testing.T) {
	h := startWatcher(t, nil)
	h.fs.update(func(f *fakeSampler) {
		f.procs[10] = ProcSample{PID: 10, PPID: 1, RSS: 500 * mb, HWM: 500 * mb}
	})
	h.feed(t, execRequest(t, "m", "DataLoader(ds, num_workers=1)", false, 0), iopub(t, "m", "execute_input", map[string]any{}, time.Millisecond))
	// The worker is born (seen by the end sample of a first cell) ...
	h.fs.update(func(f *fakeSampler) {
		f.procs[11] = ProcSample{PID: 11, PPID: 10, RSS: 500 * mb, HWM: 500 * mb}
	})
	h.feed(t, idle(t, "m", 100*time.Millisecond))
	if r, _ := h.ev.last(CellEnd); r.PeakRSS != 500*mb {
		t.Errorf("fresh fork: peak %d MB, want 500 (the parent's pages once)", r.PeakRSS/mb)
	}
	// ... and then allocates 300 MB of its own.
	h.feed(t, execRequest(t, "n", "next(it)", false, time.Second), iopub(t, "n", "execute_input", map[string]any{}, time.Second))
	h.fs.update(func(f *fakeSampler) {
		f.procs[11] = ProcSample{PID: 11, PPID: 10, RSS: 800 * mb, HWM: 800 * mb}
	})
	h.feed(t, idle(t, "n", 2*time.Second))
	if r, _ := h.ev.last(CellEnd); r.PeakRSS != 800*mb || r.RSS != 800*mb {
		t.Errorf("worker grew 300 MB: peak %d MB rss %d MB, want 800", r.PeakRSS/mb, r.RSS/mb)
	}
}

// A lost idle must not leave a cell sampled forever: the next cell's start
// ends it with its reply's status.
func TestWatcherLostIdle(t *testing.T) {
	h := startWatcher(t, nil)
	ms := time.Millisecond
	h.feed(t, execRequest(t, "a", "x", false, 0), iopub(t, "a", "execute_input", map[string]any{}, ms),
		execReply(t, "a", map[string]string{"status": "ok"}, 5*ms)) // its idle is lost
	h.feed(t, execRequest(t, "b", "y", false, 10*ms), iopub(t, "b", "execute_input", map[string]any{}, 11*ms))
	r, ok := h.ev.last(CellEnd)
	if !ok || r.MsgID != "a" || r.Status != StatusOK || !r.Ended.Equal(t0.Add(11*ms)) {
		t.Errorf("cell a: ended %v, %+v", ok, r)
	}
	h.feed(t, idle(t, "b", 20*ms))
	if r, _ := h.ev.last(CellEnd); r.MsgID != "b" {
		t.Errorf("last end %q, want b", r.MsgID)
	}
}

// Listening ports: the kernel's own (its ZMQ ports, and those open before
// the first cell: taken at the kernel_info_reply, or else at the first
// request) are left out; a server a cell starts is reported.
func TestWatcherListenPorts(t *testing.T) {
	for _, infoReply := range []bool{true, false} {
		t.Run(fmt.Sprintf("kernel_info_reply=%v", infoReply), func(t *testing.T) {
			ticks := make(chan Record, 1)
			var h *harness
			h = startWatcher(t, func(w *Watcher) {
				w.SampleEvery, w.PortsEvery = time.Millisecond, time.Millisecond
				w.Handlers = []Handler{func(ev Event) {
					h.ev.add(ev)
					if ev.Kind == CellTick {
						select {
						case ticks <- ev.Record:
						default:
						}
					}
				}}
			})
			h.fs.update(func(f *fakeSampler) { f.ports = []int{5555, 7000} }) // ZMQ, IOPub event pipe
			if infoReply {
				h.feed(t, &kernel.Message{Channel: kernel.Shell, Direction: kernel.FromKernel, MsgType: "kernel_info_reply",
					MsgID: "ki", ParentMsgID: "kr", ParentMsgType: "kernel_info_request", Content: []byte(`{"status":"ok"}`)})
			}
			h.feed(t, execRequest(t, "m", "threading.Thread(target=app.run).start()", false, 0),
				iopub(t, "m", "execute_input", map[string]any{}, time.Millisecond))
			h.fs.update(func(f *fakeSampler) { f.ports = []int{5555, 7000, 8080} })
			deadline := time.After(30 * time.Second)
			for {
				select {
				case r := <-ticks:
					if len(r.ListenPorts) == 0 {
						continue
					}
					if !slices.Equal(r.ListenPorts, []int{8080}) {
						t.Fatalf("ports %v, want [8080]", r.ListenPorts)
					}
					h.feed(t, idle(t, "m", time.Second))
					if end, _ := h.ev.last(CellEnd); !slices.Equal(end.ListenPorts, []int{8080}) {
						t.Errorf("CellEnd ports %v, want [8080]", end.ListenPorts)
					}
					return
				case <-deadline:
					t.Fatal("the server's port never showed up")
				}
			}
		})
	}
}

// A scan too big to finish before CellStart goes on in the background and
// its result reaches the cell's end.
func TestWatcherBackgroundScan(t *testing.T) {
	h := startWatcher(t, nil)
	if err := os.WriteFile(filepath.Join(h.dir, "late.csv"), make([]byte, 777), 0o644); err != nil {
		t.Fatal(err)
	}
	var code strings.Builder
	for i := range 40 { // more literals than the scan before CellStart looks at
		fmt.Fprintf(&code, "opts[%d] = 'missing-%d.csv'\n", i, i)
	}
	code.WriteString("df = pd.read_csv('late.csv')\n")
	h.feed(t, execRequest(t, "m", code.String(), false, 0))
	if r, _ := h.ev.last(CellStart); len(r.CodePaths) != 0 {
		t.Errorf("CellStart code paths %v, want none yet", r.CodePaths)
	}
	h.feed(t, iopub(t, "m", "execute_input", map[string]any{}, time.Millisecond), idle(t, "m", time.Second))
	r, _ := h.ev.last(CellEnd)
	if !slices.Equal(r.CodePaths, []FileUse{{"late.csv", 777}}) || r.CodeBytes != 777 || r.CodeScanCut {
		t.Errorf("CellEnd code paths %v, %d bytes, cut %v", r.CodePaths, r.CodeBytes, r.CodeScanCut)
	}
}

// No message wakes the watcher at once, but none waits for a Sync either:
// the lazy wake handles it.
func TestWatcherHandlesMessagesWithoutSync(t *testing.T) {
	got := make(chan Event, 8)
	h := startWatcher(t, func(w *Watcher) { w.Handlers = []Handler{func(e Event) { got <- e }} })
	h.w.Observe(execRequest(t, "m", "pass", false, 0))
	h.w.Wake()
	select {
	case e := <-got:
		if e.Kind != CellStart || e.Record.MsgID != "m" {
			t.Errorf("first event %v of %s, want start of m", e.Kind, e.Record.MsgID)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("an observed request was not handled without a Sync")
	}
	h.w.Observe(idle(t, "m", time.Millisecond))
	select {
	case e := <-got:
		if e.Kind != CellEnd {
			t.Errorf("second event %v, want the end", e.Kind)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("an observed idle was not handled without a Sync or a Wake")
	}
}
