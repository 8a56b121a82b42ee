package cellwatch

import (
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cloudline/cloudline/kernel"
)

// Watcher builds cell records from the messages the proxy observes and
// from samples of the kernel's process tree. Configure the exported fields
// before Run; their zero values work. Observe, Sync, ChildExited and
// AddAdvice are safe from any goroutine; everything else happens on the
// goroutine that calls Run.
type Watcher struct {
	Session  string // this kernel run's id, copied into every record
	Notebook string // the notebook's name (JPY_SESSION_NAME); "" = unknown
	Where    Where  // where the kernel runs, copied into every record; zero = not known
	PID      int    // the wrapped kernel's pid: root of the process tree measured; 0 = measure nothing
	Dir      string // the kernel's working directory: relative code paths and free disk; "" = os.Getwd

	// Proc reads processes and machine facts; nil = &ProcSampler{} (the
	// real /proc, or $HOST_PROC).
	Proc Sampler
	// GPU samples the GPUs; nil = nvidia-smi when on PATH, else none.
	GPU GPUReader
	// Now is the clock; nil = time.Now. Message times come from the
	// messages (kernel.Message.Time) when set.
	Now func() time.Time
	// Log receives warnings and debug lines; nil = discard.
	Log *slog.Logger
	// Handlers are called, in order, for every event (see Handler).
	Handlers []Handler
	// HoldFirst holds the first non-silent cell's idle whatever the cell
	// (a sensitive kernelspec's note belongs to it); see HoldIdle.
	HoldFirst bool

	// History is the history file; "off" = none; "" = DefaultHistoryPath().
	History string
	// HistoryMaxBytes rotates the history file; 0 = HistoryMaxBytes.
	HistoryMaxBytes int64
	// BusyDir holds the markers of busy kernels; "off" = none;
	// "" = DefaultBusyDir().
	BusyDir string

	SampleEvery time.Duration // while a cell runs; 0 = 250 ms
	FastEvery   time.Duration // during a cell's first second; 0 = 50 ms, < 0 = SampleEvery
	GPUEvery    time.Duration // GPU samples while a cell runs; 0 = 1 s
	PortsEvery  time.Duration // idle check of listening ports; 0 = 5 s, < 0 = never
	IgnorePorts []int         // ports never reported (the kernel's ZMQ ports); those listening before the first cell and after a debug_reply are added
	QueueSize   int           // outputs queued before they are dropped; 0 = 4096
	Scan        ScanLimits    // bounds of the code path scan

	initOnce sync.Once
	notify   chan struct{} // cap 1: the queue has items
	lazy     *time.Timer   // pokes Run lazyWake after an unhurried message
	lazySet  atomic.Bool   // lazy is armed
	runDone  chan struct{} // closed when Run returns
	started  atomic.Bool
	stopped  atomic.Bool // Run returned: Observe keeps nothing more

	mu        sync.Mutex // guards the fields below
	closed    bool       // Run is returning: nothing more is queued or held
	queue     []item
	spare     []item
	observed  uint64 // sequence number of the last message queued
	processed uint64 // sequence number of the last message handled
	dropped   uint64 // outputs dropped on a full queue
	waiters   []waiter
	advice    map[string][]string // msg_id -> rules (AddAdvice), taken into the cell's record at each event
	holds     holds               // the forwarding path's view of the cells (hold.go)

	run *runState // owned by the Run goroutine

	proc     Sampler               // Proc or the default: readings on any goroutine (reading.go)
	tree     atomic.Pointer[[]int] // the tree the Run goroutine last found
	idleRead idleReading           // guarded by mu: AfterIdle's reading, for Observe

	// queuedBytes (guarded by mu) is the content size of the queue: the
	// queue holds the proxy's frames, so a cell printing faster than
	// cellwatch parses would otherwise keep up to QueueSize large outputs
	// alive.
	queuedBytes int
}

// maxQueuedOutput bounds the bytes of outputs waiting in the queue.
const maxQueuedOutput = 32 << 20

// item is one queued message or a kernel-died notice.
type item struct {
	seq  uint64
	m    *kernel.Message
	r    *reading // the tree's counters at m (an idle, a kernel_info_reply)
	died *diedNotice
}

type diedNotice struct {
	signal string
	code   int
	done   chan struct{}
}

type waiter struct {
	seq  uint64
	done chan struct{}
}

func (w *Watcher) init() {
	w.initOnce.Do(func() {
		w.notify = make(chan struct{}, 1)
		w.runDone = make(chan struct{})
		w.queue = make([]item, 0, 256)
		w.spare = make([]item, 0, 256)
		w.lazy = time.AfterFunc(time.Hour, func() {
			w.lazySet.Store(false)
			w.poke()
		})
		w.lazy.Stop()
		w.proc = w.Proc
		if w.proc == nil {
			w.proc = &ProcSampler{}
		}
	})
}

// Each wake of the Run goroutine takes a thread, and on a small machine a
// core, from the wrapped kernel and the frontend, at the moments they
// hurry: a cell's request and its idle. So no message wakes it at once.
// Messages wait for the next wake: a Wake (the proxy holds the idle of a
// cell worth advice), a Sync, a sample tick, a full queue, or lazyWake at
// the latest. A cell that starts and ends between two wakes is handled in
// one batch with the cells around it (measure.go says what that costs in
// precision).
const (
	lazyWake    = 25 * time.Millisecond
	lazyMaxMsgs = 64      // queued messages that wake Run at once
	lazyMaxSize = 1 << 20 // queued content bytes that wake Run at once
)

// poke wakes the Run goroutine if it sleeps.
func (w *Watcher) poke() {
	select {
	case w.notify <- struct{}{}:
	default:
	}
}

// Observe takes one message from the proxy's forwarding path (it fits
// kernel.Proxy.Observe). It never blocks: it filters, notes what the hold
// protocol needs, queues a pointer and returns; the message is handled
// within lazyWake (see Wake). Outputs (stream, display data) are dropped
// when the queue is full, and counted; the messages that drive a cell's
// life are always queued. m must not be modified afterwards
// (kernel.Message's contract).
func (w *Watcher) Observe(m *kernel.Message) {
	if m == nil {
		return
	}
	kind, ok := interesting(m)
	if !ok || w.stopped.Load() {
		return
	}
	w.init()
	limit := w.QueueSize
	if limit <= 0 {
		limit = defaultQueueSize
	}
	var r *reading
	switch {
	case m.MsgType == "status" && m.Idle():
		r = w.readingFor(m.ParentMsgID, m.Time)
	case m.MsgType == "kernel_info_reply":
		// The kernel is up and, with no cell pending, idle.
		w.mu.Lock()
		idle := len(w.holds.m) == 0
		w.mu.Unlock()
		r = w.takeReading(m.Time, idle)
	}
	w.mu.Lock()
	if w.closed {
		w.mu.Unlock()
		return
	}
	wake := w.holds.observe(m, kind, w.HoldFirst)
	if kind != msgLife && (len(w.queue) >= limit || w.queuedBytes > 0 && w.queuedBytes+len(m.Content) > maxQueuedOutput) {
		w.dropped++
		w.mu.Unlock()
		return
	}
	w.observed++
	w.queue = append(w.queue, item{seq: w.observed, m: m, r: r})
	w.queuedBytes += len(m.Content)
	now := wake || len(w.queue) >= lazyMaxMsgs || w.queuedBytes >= lazyMaxSize
	w.mu.Unlock()
	if now {
		w.poke()
	} else if w.lazySet.CompareAndSwap(false, true) {
		w.lazy.Reset(lazyWake)
	}
}

// defaultQueueSize is QueueSize's default: outputs queued before they are
// dropped (a cell printing faster than the watcher parses).
const defaultQueueSize = 4096

// Wake has the Run goroutine handle what was observed now rather than
// within lazyWake. It never blocks. Use it when something waits for the
// outcome (the proxy holding a cell's idle until its advice is posted).
func (w *Watcher) Wake() {
	w.init()
	w.poke()
}

// msgKind sorts the messages cellwatch uses.
type msgKind uint8

const (
	msgLife   msgKind = iota + 1 // drives a cell's life: always queued
	msgOutput                    // an output: may be dropped under load
	msgWidget                    // a widget's comm traffic (widgets.go): may be dropped, is no output
)

// interesting reports whether cellwatch uses m, and how.
func interesting(m *kernel.Message) (msgKind, bool) {
	switch m.Channel {
	case kernel.Shell:
		if m.Direction == kernel.FromFrontend {
			return msgLife, m.MsgType == "execute_request"
		}
		return msgLife, m.MsgType == "execute_reply" || m.MsgType == "kernel_info_reply"
	case kernel.Control:
		return msgLife, m.Direction == kernel.FromKernel && m.MsgType == "debug_reply"
	case kernel.IOPub:
		if m.Direction != kernel.FromKernel || m.ParentMsgType != "execute_request" {
			return 0, false
		}
		switch m.MsgType {
		case "status", "execute_input", "error":
			return msgLife, true
		case "stream", "display_data", "update_display_data", "execute_result":
			return msgOutput, true
		case "comm_open", "comm_msg", "comm_close":
			return msgWidget, true
		}
	}
	return 0, false
}
