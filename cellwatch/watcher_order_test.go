package cellwatch

import (
	"testing"
	"time"
)

// The proxy observes a request after forwarding it: on a loaded machine
// the kernel's reply and idle may be observed first. Such a request must
// not open a cell that never ends; the next cells are recorded as usual.
func TestWatcherEndBeforeRequest(t *testing.T) {
	h := startWatcher(t, nil)
	h.feed(t,
		iopub(t, "late", "status", map[string]string{"execution_state": "busy"}, time.Millisecond),
		execReply(t, "late", map[string]string{"status": "ok"}, 2*time.Millisecond),
		idle(t, "late", 3*time.Millisecond),
		execRequest(t, "late", "pass", false, 0),
	)
	if kinds := h.ev.kinds(); len(kinds) != 0 {
		t.Fatalf("events %v for a request observed after its end, want none", kinds)
	}
	h.feed(t,
		execRequest(t, "next", "x = 1", false, 10*time.Millisecond),
		iopub(t, "next", "status", map[string]string{"execution_state": "busy"}, 11*time.Millisecond),
		execReply(t, "next", map[string]string{"status": "ok"}, 12*time.Millisecond),
		idle(t, "next", 13*time.Millisecond),
	)
	end, ok := h.ev.last(CellEnd)
	if !ok || end.MsgID != "next" || end.Status != StatusOK {
		t.Fatalf("after it, CellEnd %+v (found %v), want the next cell ended ok", end, ok)
	}
	if n := len(h.w.run.cells); n != 0 {
		t.Errorf("%d cells still open, want none", n)
	}
}

// A busy or an execute_input observed before the request does not hide it.
func TestWatcherStartBeforeRequest(t *testing.T) {
	h := startWatcher(t, nil)
	h.feed(t,
		iopub(t, "m", "status", map[string]string{"execution_state": "busy"}, time.Millisecond),
		iopub(t, "m", "execute_input", map[string]any{"code": "pass", "execution_count": 1}, 2*time.Millisecond),
		execRequest(t, "m", "pass", false, 0),
		execReply(t, "m", map[string]string{"status": "ok"}, 3*time.Millisecond),
		idle(t, "m", 4*time.Millisecond),
	)
	end, ok := h.ev.last(CellEnd)
	if !ok || end.MsgID != "m" || end.Status != StatusOK {
		t.Fatalf("CellEnd %+v (found %v), want cell m ended ok", end, ok)
	}
}
