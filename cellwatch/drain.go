package cellwatch

import "slices"

// Handling the queue on the Run goroutine, and emitting events.

// drain handles everything queued so far, in order, then wakes the Sync
// callers it satisfied.
func (w *Watcher) drain() {
	w.mu.Lock()
	batch := w.queue
	if len(batch) > 0 {
		// Swap only a non-empty queue: the early return below would
		// otherwise leave queue and spare sharing one array.
		w.queue = w.spare[:0]
		w.queuedBytes = 0
	}
	dropped := w.dropped
	w.mu.Unlock()
	if dropped != w.run.dropped {
		w.run.log.Warn("cellwatch: queue full, outputs dropped", "total", dropped)
		w.run.dropped = dropped
	}
	if len(batch) == 0 {
		return
	}
	rs := w.run
	for i := range batch {
		it := batch[i]
		switch {
		case it.died != nil:
			w.kernelDied(it.died.signal, it.died.code)
			close(it.died.done)
		case it.r != nil:
			w.useReading(it.r)
			rs.cur = it.r
			w.handle(it.m)
			rs.cur = nil
			if it.m.MsgType == "status" || len(rs.cells) == 0 {
				rs.last = it.r // the kernel is idle as of it.r
			}
		default:
			w.handle(it.m)
		}
		batch[i] = item{}
	}
	for _, c := range w.sortedCells() {
		w.flushOutput(c)
	}
	w.mu.Lock()
	w.processed = max(w.processed, w.observed-uint64(len(w.queue)))
	w.spare = batch[:0]
	kept := w.waiters[:0]
	for _, wt := range w.waiters {
		if wt.seq <= w.processed {
			close(wt.done)
		} else {
			kept = append(kept, wt)
		}
	}
	w.waiters = kept
	w.mu.Unlock()
}

// emit calls the handlers with a copy of c's record, which first takes in
// the advice posted for it so far.
func (w *Watcher) emit(kind EventKind, c *cell) {
	w.takeAdvice(c)
	if len(w.Handlers) == 0 {
		return
	}
	ev := Event{Kind: kind, Record: cloneRecord(&c.rec), Parent: slices.Clone(c.parent)}
	if kind == CellOutput {
		ev.Output = c.seen
	}
	for _, h := range w.Handlers {
		h(ev)
	}
}

// flushOutput emits CellOutput for what c printed since its last event.
func (w *Watcher) flushOutput(c *cell) {
	if !c.seen.any() {
		return
	}
	w.emit(CellOutput, c)
	c.seen = Output{}
}
