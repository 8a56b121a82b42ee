package cellwatch

import (
	"bytes"
	"sync/atomic"
	"time"

	"github.com/cloudline/cloudline/kernel"
)

// The hold protocol. nbclient and papermill stop collecting a cell's
// output at its status idle, so whatever the handlers post about a cell
// must reach iopub before that idle. The proxy asks HoldIdle when a cell's
// idle arrives; the answer comes from what Observe saw of the cell on the
// forwarding path (the Run goroutine handles messages lazily, so it cannot
// be asked), and a held idle is released once the cell's CellEnd handlers
// have returned.

// quickCell is how long a trivial cell may run and still have its idle
// forwarded at once: holding every cell would add the end-of-cell
// measurement to each round trip. A cell is trivial when it has no output
// or error (a metric line may make the model stable), no string literal in
// its code (one may name a dataset or sensitive data), does not start a
// server in the background (ports.go: awaitListener) and is not the
// first cell with HoldFirst. Advice for a trivial cell (rare) still shows,
// just after the idle.
const quickCell = 20 * time.Millisecond

// maxPending bounds the requests tracked for holding. Entries leave when
// their cell ends; a request observed after its own idle (the proxy
// observes after forwarding) never starts a cell, and its entry goes when
// it is pendingStale old and the table is full.
const (
	maxPending   = 1024
	pendingStale = time.Hour
)

// pending is what the forwarding path knows about one execute_request.
type pending struct {
	at       time.Time
	hold     bool        // held whatever its speed (see quickCell)
	output   atomic.Bool // the cell produced output or an error
	held     atomic.Bool // the proxy holds its idle: the watcher handles it at once
	released chan struct{}
}

// holds is the table of pending requests; Watcher.mu guards it.
type holds struct {
	m           map[string]*pending
	seenRequest bool // a non-silent execute_request was seen
}

// observe notes m for the hold protocol; mu is held. It reports whether
// the Run goroutine should handle m at once: a held idle waits for it.
func (h *holds) observe(m *kernel.Message, kind msgKind, holdFirst bool) bool {
	switch {
	case m.MsgType == "execute_request":
		if h.m == nil {
			h.m = map[string]*pending{}
		}
		if len(h.m) >= maxPending {
			for id, p := range h.m {
				if m.Time.Sub(p.at) > pendingStale {
					delete(h.m, id)
				}
			}
		}
		// A string literal in the code shows in the JSON as \" or '.
		literal := bytes.Contains(m.Content, []byte(`\"`)) || bytes.IndexByte(m.Content, '\'') >= 0
		silent := bytes.Contains(m.Content, []byte(`"silent": true`)) || bytes.Contains(m.Content, []byte(`"silent":true`))
		first := !h.seenRequest && !silent
		h.seenRequest = h.seenRequest || !silent
		if _, dup := h.m[m.MsgID]; !dup && m.MsgID != "" {
			hold := literal || first && holdFirst || servesInBackgroundJSON(m.Content)
			h.m[m.MsgID] = &pending{at: m.Time, hold: hold, released: make(chan struct{})}
		}
	case m.Channel == kernel.IOPub && (kind == msgOutput || m.MsgType == "error"):
		if p := h.m[m.ParentMsgID]; p != nil {
			p.output.Store(true)
		}
	case m.Channel == kernel.IOPub && m.MsgType == "status":
		if p := h.m[m.ParentMsgID]; p != nil && p.held.Load() {
			return m.Idle()
		}
	}
	return false
}

// HoldIdle fits kernel.Proxy.HoldIdle: it returns nil to have the idle of
// the cell msgID forwarded at once (a trivial cell, or one the watcher does
// not know), else a channel closed once the cell's CellEnd handlers have
// returned. Call it before forwarding and observing the idle. An idle it
// holds gets the reading that ends its cell now (reading.go); one it does
// not hold gets it in AfterIdle, off the idle's way. It never blocks; the
// proxy bounds the wait (a stuck handler delays that cell's idle, never
// the forwarding of anything else).
func (w *Watcher) HoldIdle(msgID string) <-chan struct{} {
	w.init()
	if w.stopped.Load() {
		return nil
	}
	w.mu.Lock()
	p := w.holds.m[msgID]
	closed := w.closed
	w.mu.Unlock()
	if p == nil || closed || w.now().Sub(p.at) < quickCell && !p.output.Load() && !p.hold {
		return nil
	}
	w.endReading(msgID)
	p.held.Store(true)
	return p.released
}

// AfterIdle fits kernel.Proxy.AfterIdle: it takes the reading that ends
// the cell msgID, just after its idle was forwarded and before the proxy
// lets the frontend's next request reach the kernel (reading.go).
func (w *Watcher) AfterIdle(msgID string) {
	w.init()
	if !w.stopped.Load() {
		w.endReading(msgID)
	}
}

// endReading takes the reading that ends the cell msgID and keeps it for
// the idle's Observe (readingFor).
func (w *Watcher) endReading(msgID string) {
	r := w.takeReading(w.now(), true)
	w.mu.Lock()
	w.idleRead = idleReading{msgID: msgID, r: r}
	w.mu.Unlock()
}

// now is the Watcher's clock.
func (w *Watcher) now() time.Time {
	if w.Now != nil {
		return w.Now()
	}
	return time.Now()
}

// release lets the proxy forward the idle of msgID, if held.
func (w *Watcher) release(msgID string) {
	w.mu.Lock()
	p := w.holds.m[msgID]
	delete(w.holds.m, msgID)
	w.mu.Unlock()
	if p != nil {
		close(p.released)
	}
}

// releaseAll ends the hold protocol when Run returns: nothing held waits
// for handlers that will not run, and nothing is held from now on.
func (w *Watcher) releaseAll() {
	w.mu.Lock()
	w.closed = true
	all := w.holds.m
	w.holds.m = nil
	w.mu.Unlock()
	for _, p := range all {
		close(p.released)
	}
}
