package cellwatch

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/cloudline/cloudline/kernel"
)

func TestWatcherStatus(t *testing.T) {
	ms := time.Millisecond
	errOut := func(id, ename string) *kernel.Message {
		return iopub(t, id, "error", map[string]any{"ename": ename, "evalue": "", "traceback": []string{}}, 5*ms)
	}
	input := func(id string) *kernel.Message {
		return iopub(t, id, "execute_input", map[string]any{"code": "x"}, 1*ms)
	}
	tests := []struct {
		name string
		msgs func(id string) []*kernel.Message
		want Status
	}{
		{"ok", func(id string) []*kernel.Message {
			return []*kernel.Message{input(id), execReply(t, id, map[string]string{"status": "ok"}, 8*ms), idle(t, id, 9*ms)}
		}, StatusOK},
		{"error", func(id string) []*kernel.Message {
			return []*kernel.Message{input(id), errOut(id, "NameError"), execReply(t, id, map[string]string{"status": "error", "ename": "NameError"}, 8*ms), idle(t, id, 9*ms)}
		}, StatusError},
		{"interrupted", func(id string) []*kernel.Message {
			return []*kernel.Message{input(id), errOut(id, "KeyboardInterrupt"), execReply(t, id, map[string]string{"status": "error", "ename": "KeyboardInterrupt"}, 8*ms), idle(t, id, 9*ms)}
		}, StatusInterrupted},
		{"aborted", func(id string) []*kernel.Message {
			return []*kernel.Message{execReply(t, id, map[string]string{"status": "aborted"}, 8*ms), idle(t, id, 9*ms)}
		}, StatusAborted},
		{"idle overtakes the reply: error output", func(id string) []*kernel.Message {
			return []*kernel.Message{input(id), errOut(id, "ValueError"), idle(t, id, 9*ms), execReply(t, id, map[string]string{"status": "error"}, 10*ms)}
		}, StatusError},
		{"idle overtakes the reply: interrupt", func(id string) []*kernel.Message {
			return []*kernel.Message{input(id), errOut(id, "KeyboardInterrupt"), idle(t, id, 9*ms)}
		}, StatusInterrupted},
		{"idle overtakes the reply: no execute_input", func(id string) []*kernel.Message {
			return []*kernel.Message{idle(t, id, 9*ms)}
		}, StatusAborted},
		{"idle overtakes the reply: clean", func(id string) []*kernel.Message {
			return []*kernel.Message{input(id), idle(t, id, 9*ms)}
		}, StatusOK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := startWatcher(t, nil)
			h.feed(t, execRequest(t, "m", "x", false, 0))
			h.feed(t, tt.msgs("m")...)
			r, ok := h.ev.last(CellEnd)
			if !ok || r.Status != tt.want {
				t.Errorf("status = %q (ended %v), want %q", r.Status, ok, tt.want)
			}
		})
	}
}

func TestWatcherConcurrentCellsOutOfOrder(t *testing.T) {
	h := startWatcher(t, nil)
	h.feed(t, execRequest(t, "a", "slow()", false, 0), execRequest(t, "b", "quick()", false, time.Millisecond))
	h.feed(t,
		execReply(t, "b", map[string]string{"status": "error", "ename": "E"}, 3*time.Millisecond),
		idle(t, "b", 4*time.Millisecond),
		execReply(t, "a", map[string]string{"status": "ok"}, 9*time.Millisecond),
		idle(t, "a", 10*time.Millisecond),
	)
	h.ev.mu.Lock()
	defer h.ev.mu.Unlock()
	var got []string
	for _, e := range h.ev.evs {
		got = append(got, e.Kind.String()+":"+e.Record.MsgID+":"+string(e.Record.Status))
	}
	want := []string{"start:a:running", "start:b:running", "end:b:error", "end:a:ok"}
	if !slices.Equal(got, want) {
		t.Errorf("events %v, want %v", got, want)
	}
}

func TestWatcherChildExited(t *testing.T) {
	h := startWatcher(t, nil)
	h.feed(t, execRequest(t, "m", "while True: pass", false, 0), iopub(t, "m", "execute_input", map[string]any{}, time.Millisecond))
	h.fs.update(func(f *fakeSampler) { delete(f.procs, 10) })
	h.w.ChildExited("SIGKILL", 137)
	r, ok := h.ev.last(CellEnd)
	if !ok || r.Status != StatusKernelDied || r.Signal != "SIGKILL" || r.MsgID != "m" {
		t.Fatalf("after ChildExited: ended %v, record %+v", ok, r)
	}
	h.w.ChildExited("SIGKILL", 137) // nothing runs any more: no second end
	if got := h.ev.kinds(); !slices.Equal(got, []EventKind{CellStart, CellEnd}) {
		t.Errorf("events %v", got)
	}
	h.stop(t)
	if recs, err := ReadHistory(h.hist, "", 0); err != nil || len(recs) != 1 || recs[0].Status != StatusKernelDied {
		t.Errorf("history: %v, %+v", err, recs)
	}
}

func TestWatcherPeakFallback(t *testing.T) {
	h := startWatcher(t, nil)
	h.fs.update(func(f *fakeSampler) { f.noReset = true })
	h.feed(t, execRequest(t, "m", "x = make()", false, 0), iopub(t, "m", "execute_input", map[string]any{}, time.Millisecond))
	h.fs.update(func(f *fakeSampler) {
		p := f.procs[10]
		p.RSS = 200 * mb // VmHWM still says 900 MB, from an earlier cell
		f.procs[10] = p
	})
	h.feed(t, idle(t, "m", time.Second))
	r, _ := h.ev.last(CellEnd)
	if r.PeakExact || r.PeakRSS != 200*mb {
		t.Errorf("without clear_refs: exact %v peak %d MB, want sampled 200 MB", r.PeakExact, r.PeakRSS/mb)
	}
}

func TestWatcherSilentAndAdvice(t *testing.T) {
	var h *harness
	h = startWatcher(t, func(w *Watcher) {
		w.Handlers = []Handler{func(ev Event) {
			h.ev.add(ev)
			if ev.Kind == CellEnd && !ev.Record.Silent {
				w.AddAdvice(ev.Record.MsgID, "long-training", "memory-pressure")
			}
		}}
	})
	h.feed(t, execRequest(t, "quiet", "get_vars()", true, 0), idle(t, "quiet", time.Millisecond))
	h.feed(t, execRequest(t, "loud", "train()", false, 0), idle(t, "loud", time.Millisecond))
	h.ev.mu.Lock()
	first := h.ev.evs[0].Record
	h.ev.mu.Unlock()
	if first.MsgID != "quiet" || !first.Silent {
		t.Errorf("first event's record: %+v, want the silent cell", first)
	}
	h.stop(t)
	recs, err := ReadHistory(h.hist, "", 0)
	if err != nil || len(recs) != 1 || recs[0].MsgID != "loud" {
		t.Fatalf("history holds %+v (%v), want only the non-silent cell", recs, err)
	}
	if !slices.Equal(recs[0].Advice, []string{"long-training", "memory-pressure"}) {
		t.Errorf("advice = %v", recs[0].Advice)
	}
}

func TestWatcherOtherBusy(t *testing.T) {
	ticks := make(chan Record, 1)
	h := startWatcher(t, func(w *Watcher) {
		w.SampleEvery = time.Millisecond
		w.Handlers = []Handler{func(ev Event) {
			if ev.Kind == CellTick {
				select {
				case ticks <- ev.Record:
				default:
				}
			}
		}}
	})
	busy := filepath.Join(h.dir, "busy")
	if err := os.MkdirAll(busy, 0o700); err != nil {
		t.Fatal(err)
	}
	// Another kernel is busy: our parent stands in for its cloudline (a
	// live pid), a process burning CPU for its kernel.
	burn := exec.Command("sh", "-c", "while :; do :; done")
	if err := burn.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = burn.Process.Kill(); _ = burn.Wait() }()
	if err := os.WriteFile(filepath.Join(busy, strconv.Itoa(os.Getppid())), []byte(strconv.Itoa(burn.Process.Pid)), 0o600); err != nil {
		t.Fatal(err)
	}
	own := filepath.Join(busy, strconv.Itoa(os.Getpid()))
	h.feed(t, execRequest(t, "m", "x", false, 0), iopub(t, "m", "execute_input", map[string]any{}, time.Millisecond))
	deadline := time.After(30 * time.Second)
	for seen := false; !seen; {
		select {
		case r := <-ticks:
			seen = r.OtherBusy == 1
			if _, err := os.Stat(own); err != nil {
				t.Fatalf("own marker while the cell runs: %v", err)
			}
		case <-deadline:
			t.Fatal("the other kernel was never counted busy")
		}
	}
	h.feed(t, idle(t, "m", time.Second))
	if _, err := os.Stat(own); !os.IsNotExist(err) {
		t.Errorf("own marker after the cell: %v", err)
	}
}

func TestObserveQueue(t *testing.T) {
	w := &Watcher{QueueSize: 2}
	if !w.Sync(time.Millisecond) {
		t.Error("Sync with nothing observed: false")
	}
	w.Observe(&kernel.Message{Channel: kernel.Shell, Direction: kernel.FromFrontend, MsgType: "kernel_info_request"})
	w.Observe(&kernel.Message{Channel: kernel.IOPub, Direction: kernel.FromKernel, MsgType: "status", ParentMsgType: "kernel_info_request"})
	if !w.Sync(time.Millisecond) {
		t.Error("messages cellwatch ignores are waited for")
	}
	for range 5 {
		w.Observe(iopub(t, "m", "stream", map[string]string{"text": "x"}, 0))
	}
	w.Observe(idle(t, "m", 0)) // never dropped
	if got := w.Dropped(); got != 3 {
		t.Errorf("dropped %d outputs, want 3", got)
	}
	w.mu.Lock()
	n, last := len(w.queue), w.queue[len(w.queue)-1].m.MsgType
	w.mu.Unlock()
	if n != 3 || last != "status" {
		t.Errorf("queue holds %d, last %q; want 2 outputs and the idle", n, last)
	}
}

func TestCellApplySaturation(t *testing.T) {
	c := &cell{lastAt: t0, base: baseline{pids: map[int]bool{1: true}, exact: map[int]bool{}, files: map[string]bool{}, seen: map[string]bool{}}}
	c.rec.Machine.Cores = 2
	m := Machine{TotalRAM: 1 << 30, Cores: 2}
	const ms = time.Millisecond
	steps := []struct {
		cpu, wait time.Duration // cumulative, as /proc has them
		at        time.Duration
		want      time.Duration
	}{
		{1900 * ms, 0, time.Second, time.Second},                 // 1.9 of 2 cores: saturated
		{2500 * ms, 0, 2 * time.Second, time.Second},             // 0.6: not
		{4300 * ms, 0, 3 * time.Second, 2 * time.Second},         // 1.8: saturated
		{5500 * ms, 700 * ms, 4 * time.Second, 3 * time.Second},  // 1.2 used + 0.7 waited: wanted both
		{6000 * ms, 1000 * ms, 5 * time.Second, 3 * time.Second}, // 0.5 + 0.3: not
		{7000 * ms, 200 * ms, 6 * time.Second, 3 * time.Second},  // a process left with its wait: 1.0 only
		{8900 * ms, 300 * ms, 7 * time.Second, 4 * time.Second},  // 1.9 + 0.1 since
	}
	for _, s := range steps {
		c.apply([]ProcSample{{PID: 1, CPU: s.cpu, Wait: s.wait}}, m, t0.Add(s.at))
		if c.rec.CPUSaturated != s.want {
			t.Errorf("at %v: saturated %v, want %v", s.at, c.rec.CPUSaturated, s.want)
		}
	}
}

func TestMergeGPU(t *testing.T) {
	w := &Watcher{run: &runState{cells: map[string]*cell{"m": {measured: true}, "queued": {}}}}
	samples := []struct {
		g    GPU
		at   time.Duration
		sat  time.Duration
		peak uint64
	}{
		{GPU{Devices: 1, MemUsed: 1 << 30, MemTotal: 8 << 30, UtilPercent: 95}, 0, 0, 1 << 30},
		{GPU{Devices: 1, MemUsed: 2 << 30, MemTotal: 8 << 30, UtilPercent: 99}, time.Second, time.Second, 2 << 30},
		{GPU{Devices: 1, MemUsed: 1 << 30, MemTotal: 8 << 30, UtilPercent: 10}, 2 * time.Second, time.Second, 2 << 30},
	}
	for _, s := range samples {
		w.mergeGPU(&s.g, t0.Add(s.at))
		r := w.run.cells["m"].rec
		if r.GPUSaturated != s.sat || r.GPU.MemUsed != s.peak || r.GPU.UtilPercent < s.g.UtilPercent {
			t.Errorf("at %v: saturated %v peak %d util %v", s.at, r.GPUSaturated, r.GPU.MemUsed, r.GPU.UtilPercent)
		}
		if w.run.cells["queued"].rec.GPU != nil {
			t.Error("a cell waiting in the kernel's queue got GPU samples")
		}
	}
}

// fixedGPU reports the same busy GPU every time.
type fixedGPU struct{}

func (fixedGPU) ReadGPU(context.Context) (*GPU, error) {
	return &GPU{Devices: 1, MemUsed: 3 << 30, MemTotal: 4 << 30, UtilPercent: 97}, nil
}

func TestWatcherTicks(t *testing.T) {
	ticks := make(chan Record, 64)
	h := startWatcher(t, func(w *Watcher) {
		w.SampleEvery, w.GPUEvery, w.GPU = time.Millisecond, time.Millisecond, fixedGPU{}
		w.Handlers = []Handler{func(ev Event) {
			if ev.Kind == CellTick {
				select {
				case ticks <- ev.Record:
				default: // the test reads slower than ticks come
				}
			}
		}}
	})
	h.feed(t, execRequest(t, "m", "train()", false, 0),
		iopub(t, "m", "execute_input", map[string]any{}, time.Millisecond),
		iopub(t, "m", "stream", map[string]string{"name": "stdout", "text": "Epoch 2/4 loss=0.5\n"}, time.Second))
	h.fs.update(func(f *fakeSampler) {
		p := f.procs[10]
		p.RSS = 300 * mb
		f.procs[10] = p
	})
	deadline := time.After(30 * time.Second)
	for {
		select {
		case r := <-ticks:
			if r.RSS == 300*mb && r.GPU != nil && r.Progress != nil {
				if r.Status != StatusRunning || r.Wall <= 0 || r.GPU.UtilPercent != 97 || r.Progress.Source != "epoch" || r.Metrics["loss"] != 0.5 {
					t.Errorf("tick record: %+v", r)
				}
				return
			}
		case <-deadline:
			t.Fatal("no CellTick with the new RSS, a GPU sample and progress")
		}
	}
}
