package cellwatch

import (
	"slices"
	"time"
)

// Readings: the counters of the kernel's tree at a given point of the
// message stream, so that a cell's figures are whole however late the Run
// goroutine gets to its messages.
//
// A cell's work lies between two idles of the kernel. The reading that
// ends one cell is taken as its idle passes: in AfterIdle, just after the
// idle was forwarded, while the proxy keeps the frontend's requests from
// the kernel (kernel.Proxy.AfterIdle), or in HoldIdle before a held idle
// goes out. A frontend that waits for the idle cannot have asked for more
// work before it, so the next cell's request finds the counters as they
// are in that reading, which is its baseline. Queued cells (run all) start right after the idle
// whatever we do; their baseline is the same reading, so no work is lost,
// only shared with the cell before. Costs, measured on this 2-core VM: a
// reading is four preads per process (stat, status, io, schedstat: ~15 µs for
// ipykernel alone), a peak reset one pwrite (~2 µs), once per cell.

// reading is one read of the tree's counters.
type reading struct {
	at       time.Time
	procs    []ProcSample // raw; unshare runs once, on the Run goroutine
	exact    map[int]bool // pids whose VmHWM was reset just after: their next VmHWM is a peak since
	unshared bool
}

// takeReading reads the processes of the tree the Run goroutine last
// found (the kernel alone before its first scan) and, with reset, resets
// their peak counters after reading them. It may run on any goroutine.
func (w *Watcher) takeReading(at time.Time, reset bool) *reading {
	if w.PID <= 0 {
		return nil
	}
	tree := []int{w.PID}
	if t := w.tree.Load(); t != nil {
		tree = *t
	}
	r := &reading{at: at, procs: make([]ProcSample, 0, len(tree))}
	for _, pid := range tree {
		if p, err := w.proc.Proc(pid, false); err == nil {
			r.procs = append(r.procs, p)
		}
	}
	if len(r.procs) == 0 {
		return nil
	}
	if reset {
		r.exact = make(map[int]bool, len(r.procs))
		for _, p := range r.procs {
			if w.proc.ResetPeak(p.PID) == nil {
				r.exact[p.PID] = true
			}
		}
	}
	return r
}

// readingFor returns the reading AfterIdle took for the idle of msgID, or
// takes one (a proxy that does not hold idles). It runs in Observe.
func (w *Watcher) readingFor(msgID string, at time.Time) *reading {
	w.mu.Lock()
	r := w.idleRead
	if r.msgID == msgID {
		w.idleRead = idleReading{}
	}
	w.mu.Unlock()
	if r.msgID == msgID && r.r != nil {
		return r.r
	}
	return w.takeReading(at, true)
}

// idleReading is the reading AfterIdle took for one idle.
type idleReading struct {
	msgID string
	r     *reading
}

// publishTree lets takeReading see the tree the Run goroutine found.
func (w *Watcher) publishTree() {
	rs := w.run
	if t := w.tree.Load(); len(rs.tree) == 0 || t != nil && slices.Equal(*t, rs.tree) {
		return
	}
	t := slices.Clone(rs.tree)
	w.tree.Store(&t)
}

// useReading prepares r for the Run goroutine (once) and folds it into
// every cell being measured, so that a peak counter reset after it loses
// nothing of theirs. It returns r's processes.
func (w *Watcher) useReading(r *reading) []ProcSample {
	if !r.unshared {
		r.unshared = true
		if len(r.procs) > 1 || len(w.run.shared) > 0 {
			w.unshare(r.procs)
		}
	}
	for _, c := range w.measuredCells() {
		c.apply(r.procs, Machine{}, r.at)
	}
	return r.procs
}

// refreshReading replaces the idle kernel's last reading with a fresh one
// (a thread a cell left running keeps counting; the next cell should not
// be charged for it), unless a message came meanwhile: then the reading
// might hold the start of a cell.
func (w *Watcher) refreshReading() {
	rs := w.run
	if len(rs.cells) > 0 || rs.last == nil {
		return
	}
	w.mu.Lock()
	seq := w.observed
	w.mu.Unlock()
	r := w.takeReading(rs.now(), false)
	w.mu.Lock()
	quiet := w.observed == seq
	w.mu.Unlock()
	if r != nil && quiet {
		r.exact = rs.last.exact // peaks still count from the last reset
		rs.last = r
	}
}
