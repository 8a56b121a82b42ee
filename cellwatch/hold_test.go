package cellwatch

import (
	"sync/atomic"
	"testing"
	"time"
)

// frozen is a clock standing at t0 + at: the hold decision sees a cell as
// old as the test says, whatever the machine's speed.
func frozen(at time.Duration) func() time.Time {
	return func() time.Time { return t0.Add(at) }
}

func TestHoldIdleDecision(t *testing.T) {
	stream := map[string]string{"name": "stdout", "text": "hi\n"}
	cases := []struct {
		name      string
		code      string
		output    bool
		age       time.Duration // of the cell when its idle comes
		holdFirst bool
		want      bool
	}{
		{name: "trivial", code: "x = 1", age: time.Millisecond},
		{name: "ran a while", code: "x = 1", age: quickCell, want: true},
		{name: "printed", code: "print(x)", output: true, age: time.Millisecond, want: true},
		{name: "string literal", code: "open('data.csv')", age: time.Millisecond, want: true},
		{name: "first cell of a sensitive kernelspec", code: "x = 1", age: time.Millisecond, holdFirst: true, want: true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h := startWatcher(t, func(w *Watcher) { w.Now, w.HoldFirst = frozen(c.age), c.holdFirst })
			h.w.Observe(execRequest(t, "m", c.code, false, 0))
			if c.output {
				h.w.Observe(iopub(t, "m", "stream", stream, 0))
			}
			held := h.w.HoldIdle("m")
			if (held != nil) != c.want {
				t.Fatalf("held %v, want %v", held != nil, c.want)
			}
			if h.w.HoldIdle("unknown") != nil {
				t.Error("the idle of a request never observed is held")
			}
		})
	}
}

// A held idle is released once the CellEnd handlers have returned, so
// what they post comes before it.
func TestHoldReleasedAfterCellEndHandlers(t *testing.T) {
	var posted atomic.Bool
	var h *harness
	h = startWatcher(t, func(w *Watcher) {
		w.Handlers = []Handler{func(ev Event) { h.ev.add(ev) }, func(ev Event) {
			if ev.Kind == CellEnd {
				posted.Store(true)
			}
		}}
	})
	h.w.Observe(execRequest(t, "m", "print(1)", false, 0))
	h.w.Observe(iopub(t, "m", "stream", map[string]string{"name": "stdout", "text": "1\n"}, time.Millisecond))
	held := h.w.HoldIdle("m")
	if held == nil {
		t.Fatal("a cell with output is not held")
	}
	select {
	case <-held:
		t.Fatal("released before its idle was observed")
	default:
	}
	// No Sync: a held idle wakes the watcher by itself.
	h.w.Observe(idle(t, "m", 2*time.Millisecond))
	select {
	case <-held:
	case <-time.After(30 * time.Second):
		t.Fatal("the held idle was never released")
	}
	if !posted.Load() {
		t.Error("released before the CellEnd handlers returned")
	}
	if h.w.HoldIdle("m") != nil {
		t.Error("an ended cell is held again")
	}
}

// A handler that never returns stalls the watcher, never the forwarding
// path: Observe and HoldIdle return, and Run's end releases what is held.
func TestStuckHandlerNeverStallsForwarding(t *testing.T) {
	stuck := make(chan struct{})
	defer close(stuck)
	h := startWatcher(t, func(w *Watcher) {
		w.Handlers = []Handler{func(ev Event) {
			if ev.Kind == CellStart {
				<-stuck
			}
		}}
	})
	h.w.Observe(execRequest(t, "m", "print(1)", false, 0))
	h.w.Wake()
	for i := range 3 * defaultQueueSize {
		h.w.Observe(iopub(t, "m", "stream", map[string]string{"name": "stdout", "text": "x\n"}, time.Duration(i)))
	}
	held := h.w.HoldIdle("m")
	if held == nil {
		t.Fatal("not held")
	}
	h.w.Observe(idle(t, "m", time.Second))
	if h.w.Dropped() == 0 {
		t.Error("outputs beyond the queue were kept, not dropped")
	}
	h.cancel()
	h.cancel = nil
	stuck <- struct{}{} // Run returns once its handler does
	<-h.done
	select {
	case <-held:
	default:
		t.Error("Run returned and left an idle held")
	}
	if h.w.HoldIdle("m2") != nil {
		t.Error("held after Run returned")
	}
}

// A trivial cell's idle goes out at once and its reading is taken in
// AfterIdle, just after: what the kernel does later (the next cell) is not
// charged to it, however late the watcher handles the idle.
func TestAfterIdleReadingEndsTheCell(t *testing.T) {
	h := startWatcher(t, func(w *Watcher) { w.Now = frozen(time.Millisecond) })
	setWrite := func(n uint64) {
		h.fs.update(func(f *fakeSampler) {
			p := f.procs[10]
			p.WriteBytes = n
			f.procs[10] = p
		})
	}
	h.feed(t, execRequest(t, "m", "x = 1", false, 0))
	setWrite(8 * mb) // the cell's work
	resets := len(h.fs.resets)
	if h.w.HoldIdle("m") != nil {
		t.Fatal("a trivial cell is held")
	}
	if got := len(h.fs.resets); got != resets {
		t.Errorf("HoldIdle took a reading (peak resets %d -> %d) for an idle it does not hold", resets, got)
	}
	h.w.AfterIdle("m")
	setWrite(100 * mb) // after the reading: the next cell's
	h.feed(t, idle(t, "m", time.Millisecond))
	end, ok := h.ev.last(CellEnd)
	if !ok {
		t.Fatal("no CellEnd")
	}
	if end.WriteBytes != 8*mb {
		t.Errorf("write bytes %d MB, want 8 (read in AfterIdle)", end.WriteBytes/mb)
	}
}
