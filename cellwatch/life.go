package cellwatch

import (
	"slices"
	"time"
)

// The cell state machine: which message opens, runs and ends a cell, and
// how it ended. It is pure (facts of messages in, steps out; no I/O, no
// clock, no goroutines) and table-tested on message sequences
// (life_test.go). The Run goroutine feeds it and measures what its steps
// say (cell.go, measure.go).
//
// Facts it relies on: a request waits in the kernel's queue until the
// kernel sends its execute_input (a silent one sends none); ipykernel 7
// runs subshells concurrently, so cells end out of order and are keyed by
// msg_id, never FIFO; execute_reply (shell) and the idle (iopub) travel on
// different sockets, so either may come first; the proxy observes a
// request after forwarding it, so its reply or idle may be observed before
// it.

// lifeKind is the kind of message the machine takes.
type lifeKind uint8

const (
	lifeRequest lifeKind = iota + 1 // execute_request
	lifeInput                       // execute_input: the kernel runs the cell
	lifeReply                       // execute_reply
	lifeError                       // an error output
	lifeIdle                        // status idle of the cell
	lifeDied                        // the wrapped kernel died
)

// lifeMsg is what the machine needs of one message.
type lifeMsg struct {
	kind   lifeKind
	id     string // the cell's msg_id (the request's own, or the parent's)
	at     time.Time
	silent bool   // lifeRequest
	status Status // lifeReply: replyStatus of its content
	ename  string // lifeError
	signal string // lifeDied: the signal that killed the kernel, if any
}

// stepKind is what the machine tells the watcher to do.
type stepKind uint8

const (
	stepOpen stepKind = iota + 1 // a cell opens: make its record
	stepRun                      // the kernel runs it from at: take its baseline
	stepEnd                      // it ended at at with status (and signal)
	stepDrop                     // a request seen after its own end: forget it
)

// step is one instruction for the watcher.
type step struct {
	kind   stepKind
	id     string
	at     time.Time
	status Status
	signal string
}

// lifeCell is the machine's state of one open cell.
type lifeCell struct {
	started bool // execute_input seen
	silent  bool
	running bool   // stepRun given
	reply   Status // "" until execute_reply
	errName string // ename of an error output
}

// life is the machine: the open cells, oldest first.
type life struct {
	cells  map[string]*lifeCell
	order  []string
	unseen endedUnseen
}

// step takes one message and returns what follows from it, in order.
func (l *life) step(m lifeMsg) []step {
	if l.cells == nil {
		l.cells = map[string]*lifeCell{}
	}
	if m.kind == lifeDied {
		var out []step
		for _, id := range slices.Clone(l.order) {
			out = append(out, l.end(id, m.at, StatusKernelDied, m.signal))
		}
		return out
	}
	if m.id == "" {
		return nil
	}
	if m.kind == lifeRequest {
		return l.request(m)
	}
	c := l.cells[m.id]
	if c == nil {
		// A cell not seen open, or one already ended: remember its end,
		// so its request, observed late, does not open a cell forever.
		if m.kind == lifeReply || m.kind == lifeIdle {
			l.unseen.add(m.id)
		}
		return nil
	}
	switch m.kind {
	case lifeInput:
		c.started = true
		// Cells that got their reply but whose idle never came (lost on
		// the way) end when another starts: else they run forever.
		var out []step
		for _, id := range slices.Clone(l.order) {
			if o := l.cells[id]; id != m.id && o.running && o.reply != "" {
				out = append(out, l.end(id, m.at, "", ""))
			}
		}
		if !c.running {
			c.running = true
			out = append(out, step{kind: stepRun, id: m.id, at: m.at})
		}
		return out
	case lifeReply:
		c.reply = m.status
	case lifeError:
		c.errName = m.ename
	case lifeIdle:
		return []step{l.end(m.id, m.at, "", "")}
	}
	return nil
}

// request opens a cell. The kernel is idle when no other cell is open, so
// it runs this one next, within a millisecond: it runs from its request
// (a silent one too: it sends no execute_input). A request queued behind
// others runs from its execute_input.
func (l *life) request(m lifeMsg) []step {
	if l.cells[m.id] != nil {
		return nil
	}
	if l.unseen.has(m.id) {
		return []step{{kind: stepDrop, id: m.id}}
	}
	alone := len(l.order) == 0
	c := &lifeCell{silent: m.silent}
	l.cells[m.id] = c
	l.order = append(l.order, m.id)
	out := []step{{kind: stepOpen, id: m.id, at: m.at}}
	if alone || m.silent {
		c.running = true
		out = append(out, step{kind: stepRun, id: m.id, at: m.at})
	}
	return out
}

// end closes a cell; status "" is found from what the cell saw.
func (l *life) end(id string, at time.Time, status Status, signal string) step {
	c := l.cells[id]
	if status == "" {
		status = c.status()
	}
	delete(l.cells, id)
	l.order = slices.DeleteFunc(l.order, func(o string) bool { return o == id })
	return step{kind: stepEnd, id: id, at: at, status: status, signal: signal}
}

// status is how a cell ended, from its reply, or, when the idle overtook
// the reply, from its error output and whether it ever ran.
func (c *lifeCell) status() Status {
	switch {
	case c.reply != "":
		return c.reply
	case c.errName == "KeyboardInterrupt":
		return StatusInterrupted
	case c.errName != "":
		return StatusError
	case !c.started && !c.silent:
		return StatusAborted
	}
	return StatusOK
}

// replyStatus is the status an execute_reply's content gives.
func replyStatus(status, ename string) Status {
	switch status {
	case "ok":
		return StatusOK
	case "aborted":
		return StatusAborted
	case "error":
		if ename == "KeyboardInterrupt" {
			return StatusInterrupted
		}
		return StatusError
	}
	return StatusError
}

// endedUnseen remembers the last few msg_ids whose reply or idle came
// with no cell open for them.
type endedUnseen struct {
	ids  [32]string
	next int
}

func (e *endedUnseen) add(id string) {
	if id == "" || e.has(id) {
		return
	}
	e.ids[e.next] = id
	e.next = (e.next + 1) % len(e.ids)
}

func (e *endedUnseen) has(id string) bool {
	return id != "" && slices.Contains(e.ids[:], id)
}
