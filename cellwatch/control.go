package cellwatch

import (
	"slices"
	"time"
)

// The calls other goroutines make into a running Watcher, besides Observe
// and HoldIdle.

// Sync waits until every message observed before the call has been
// handled (events for it emitted), or timeout. It reports whether that
// happened. Typical use: Observe(idle); Sync(...) before forwarding the
// idle, so advice for the cell can be sent first.
func (w *Watcher) Sync(timeout time.Duration) bool {
	w.init()
	w.mu.Lock()
	target := w.observed
	if w.processed >= target {
		w.mu.Unlock()
		return true
	}
	done := make(chan struct{})
	w.waiters = append(w.waiters, waiter{seq: target, done: done})
	w.mu.Unlock()
	w.poke()
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case <-done:
		return true
	case <-t.C:
		return false
	case <-w.runDone:
		return false
	}
}

// childExitedWait bounds ChildExited: the kernel-died note for the running
// cell is posted within it, or not at all (cloudline exits regardless).
const childExitedWait = 5 * time.Second

// ChildExited reports that the wrapped kernel died (sig: the signal name,
// "" for a plain exit, whose status is code). Messages observed before are handled first; then
// every running cell ends with StatusKernelDied, its CellEnd emitted before
// ChildExited returns. Without a running Run it returns at once.
func (w *Watcher) ChildExited(sig string, code int) {
	w.init()
	if !w.started.Load() {
		return
	}
	n := &diedNotice{signal: sig, code: code, done: make(chan struct{})}
	w.mu.Lock()
	w.observed++
	w.queue = append(w.queue, item{seq: w.observed, died: n})
	w.mu.Unlock()
	w.poke()
	t := time.NewTimer(childExitedWait)
	defer t.Stop()
	select {
	case <-n.done:
	case <-w.runDone:
	case <-t.C:
	}
}

// AddAdvice records the rule ids of advice posted for the cell msgID: the
// cell's next event carries them in Record.Advice (so rules see what was
// posted while the cell runs), and so does its history line. Call it
// before the cell's CellEnd handlers return; later calls are ignored.
func (w *Watcher) AddAdvice(msgID string, rules ...string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.advice == nil {
		w.advice = map[string][]string{}
	}
	if len(w.advice) >= maxAdvised {
		clear(w.advice) // a caller adding advice for cells that never end
	}
	w.advice[msgID] = append(w.advice[msgID], rules...)
}

// maxAdvised bounds the cells AddAdvice keeps rules for: more than this
// many cells with advice and no event since means a caller names cells
// that never run.
const maxAdvised = 1024

// takeAdvice moves the advice recorded for c into its record, once each.
func (w *Watcher) takeAdvice(c *cell) {
	w.mu.Lock()
	a := w.advice[c.rec.MsgID]
	delete(w.advice, c.rec.MsgID)
	w.mu.Unlock()
	for _, r := range a {
		if !slices.Contains(c.rec.Advice, r) {
			c.rec.Advice = append(c.rec.Advice, r)
		}
	}
}

// Dropped returns how many outputs were dropped because the queue was full.
func (w *Watcher) Dropped() uint64 {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.dropped
}
