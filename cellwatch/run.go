package cellwatch

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"os"
	"sync"
	"sync/atomic"
	"time"
)

// runState is the Watcher's state owned by the Run goroutine.
type runState struct {
	proc         Sampler
	last         *reading // at the kernel's last idle: the next cell's baseline (reading.go)
	cur          *reading // the reading of the message being handled
	now          func() time.Time
	log          *slog.Logger
	dir          string
	ctx          context.Context
	cells        map[string]*cell
	tree         []int           // the kernel's process tree, last scanned
	treeAt       time.Time       // when
	filesAt      time.Time       // open files last listed
	openFiles    map[string]bool // the tree's open files at that listing; nil = never listed
	ports        []int           // listening ports, last checked, the kernel's own left out
	ownPorts     map[int]bool    // the kernel's own ports (IgnorePorts and more)
	portsKnown   bool            // own ports taken before the first cell
	portsAt      time.Time       // last ports check
	shared       map[int]uint64  // pid -> memory shared with its parent (readProcs)
	cmdlines     map[int]string  // pid -> command line, for the tree's processes
	busy         busyMarker
	machineFacts Machine   // last read
	machineAt    time.Time // when
	scans        chan scanResult
	history      chan Record
	gpuWake      chan struct{}
	gpuOut       chan *GPU
	gpuOn        atomic.Bool // cells run: the GPU poller samples
	dropped      uint64      // last logged
	ticker       *time.Ticker
	interval     time.Duration // the ticker's
	tickEach     time.Duration // SampleEvery
	fastEach     time.Duration // FastEvery, <= 0 = off
	fastTill     time.Time     // sample every fastEach until then
	tickAt       time.Time     // last CellTick
	tickRestart  bool          // a cell started with none running: its ticks count from now
	life         life          // the cells' state machine (life.go)
	widgets      widgetBars    // the session's widget progress bars (widgets.go)
}

type scanResult struct {
	msgID string
	scan  CodeScan
}

// Run handles the observed messages and samples the process tree while
// cells run, until ctx is done. Then it writes the pending history, removes
// its busy marker and returns nil. Cells still running are not written.
// Run may be called once.
func (w *Watcher) Run(ctx context.Context) error {
	w.init()
	if !w.started.CompareAndSwap(false, true) {
		return errors.New("cellwatch: Run called twice")
	}
	defer close(w.runDone)
	defer w.stopped.Store(true)
	defer w.lazy.Stop()
	rs := w.newRunState(ctx)
	w.run = rs

	var wg sync.WaitGroup
	written := make(chan struct{}) // the history writer is done
	if path := w.historyPath(); path != "" {
		go func() { // historyWriter: waited for within historyFlush only
			defer close(written)
			w.writeHistory(path, rs.history, rs.log)
		}()
	} else {
		close(written)
	}
	gpu := w.GPU
	if gpu == nil {
		gpu = FindNvidiaSMI()
	}
	gpuCtx, stopGPU := context.WithCancel(ctx)
	if gpu != nil {
		wg.Go(func() { w.pollGPU(gpuCtx, gpu, &rs.gpuOn, rs.gpuWake, rs.gpuOut) })
	}
	var portC <-chan time.Time
	if every := w.portsEvery(); every > 0 && w.PID > 0 {
		t := time.NewTicker(every)
		defer t.Stop()
		portC = t.C
	}
	defer func() {
		w.releaseAll()
		stopGPU()
		close(rs.history)
		wg.Wait()
		w.finish(written)
	}()

	if w.PID > 0 {
		// Warm the process tree's cache: the first scan reads every
		// process's stat, which should not delay the first cell.
		if tree, err := rs.proc.Tree(w.PID); err == nil {
			rs.tree, rs.treeAt = tree, rs.now()
			w.publishTree()
		}
	}
	for {
		var tickC <-chan time.Time
		if rs.ticker != nil {
			tickC = rs.ticker.C
		}
		select {
		case <-ctx.Done():
			w.drain() // cells that ended just before are written too
			return nil
		case <-w.notify:
			w.drain()
		case <-tickC:
			w.drain() // what came since applies to this sample
			w.sampleAll(rs.now(), true, nil)
		case <-portC:
			if len(w.measuredCells()) == 0 { // else the ticks check them
				w.checkPorts(false)
				w.refreshReading()
			}
		case r := <-rs.scans:
			w.mergeScan(r)
		case g := <-rs.gpuOut:
			w.mergeGPU(g, rs.now())
		}
		w.schedule()
	}
}

// finish waits for the history writer (written closed when done) within
// historyFlush, closes the sampler's files, removes the busy marker and
// stops the ticker: what Run leaves behind.
func (w *Watcher) finish(written <-chan struct{}) {
	rs := w.run
	// A history on a hung file system must not keep the kernel from
	// exiting: what is not written within historyFlush is lost.
	t := time.NewTimer(historyFlush)
	select {
	case <-written:
	case <-t.C:
		rs.log.Warn("cellwatch: history not written in time; records lost", "bound", historyFlush.String())
	}
	t.Stop()
	if c, ok := rs.proc.(io.Closer); ok && w.Proc == nil {
		_ = c.Close() // the /proc files the sampler keeps open
	}
	if err := rs.busy.set(false); err != nil {
		rs.log.Warn("cellwatch: busy marker", "err", err)
	}
	if rs.ticker != nil {
		rs.ticker.Stop()
	}
	w.mu.Lock()
	w.waiters = nil
	w.mu.Unlock()
}

func (w *Watcher) newRunState(ctx context.Context) *runState {
	rs := &runState{
		proc:    w.proc,
		now:     w.Now,
		log:     w.Log,
		dir:     w.Dir,
		ctx:     ctx,
		cells:   map[string]*cell{},
		scans:   make(chan scanResult, 16),
		history: make(chan Record, historyQueue),
		gpuWake: make(chan struct{}, 1),
		gpuOut:  make(chan *GPU, 1),
	}
	if rs.now == nil {
		rs.now = time.Now
	}
	if rs.log == nil {
		rs.log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if rs.dir == "" {
		rs.dir, _ = os.Getwd()
	}
	switch w.BusyDir {
	case "off":
	case "":
		rs.busy = busyMarker{dir: DefaultBusyDir(), pid: os.Getpid(), child: w.PID}
	default:
		rs.busy = busyMarker{dir: w.BusyDir, pid: os.Getpid(), child: w.PID}
	}
	rs.tickEach = w.SampleEvery
	if rs.tickEach <= 0 {
		rs.tickEach = defaultSampleEvery
	}
	rs.fastEach = w.FastEvery
	if rs.fastEach == 0 {
		rs.fastEach = defaultFastEvery
	}
	return rs
}

// Sampling defaults (Watcher's SampleEvery, FastEvery, PortsEvery). A
// tick reads three /proc files per process (~15 µs in all here): four a
// second cost nothing a user sees; 50 ms in a cell's first second sees a
// DataLoader worker that lives a fraction of a second; listening ports
// (the TCP tables, ~20 ms with 500 connections) change when a server
// starts, which a few seconds' delay does not hide.
const (
	defaultSampleEvery = 250 * time.Millisecond
	defaultFastEvery   = 50 * time.Millisecond
	defaultPortsEvery  = 5 * time.Second
)

// historyQueue is the finished records waiting for the history writer:
// a run all of a long notebook, written in batches; beyond it records are
// dropped with a warning rather than the watcher waiting.
const historyQueue = 256

// historyFlush bounds the wait for the history at Run's end. Appends take
// microseconds on a working disk; a hung network home directory blocks
// them forever.
const historyFlush = time.Second

func (w *Watcher) historyPath() string {
	switch w.History {
	case "off":
		return ""
	case "":
		return DefaultHistoryPath()
	}
	return w.History
}

func (w *Watcher) portsEvery() time.Duration {
	if w.PortsEvery == 0 {
		return defaultPortsEvery
	}
	return w.PortsEvery
}

// fastFor is how long the tree is sampled every FastEvery after a cell
// starts or a new process joins the tree.
const fastFor = time.Second

// schedule starts the sampling ticker and the GPU poller while cells run
// and stops them when none does: an idle kernel costs nothing. For a
// second after a cell starts or a process joins the tree, the tree is
// sampled faster, so that short-lived workers are seen.
func (w *Watcher) schedule() {
	rs := w.run
	running := false
	for _, c := range rs.cells {
		running = running || c.measured
	}
	interval := rs.tickEach
	if running && rs.fastEach > 0 && rs.now().Before(rs.fastTill) {
		interval = min(interval, rs.fastEach)
	}
	switch {
	case running && rs.ticker == nil:
		rs.ticker = time.NewTicker(interval)
		rs.interval = interval
	case running && (interval != rs.interval || rs.tickRestart):
		// A cell that started alone is first sampled interval after its
		// start: in a run of quick cells, none lives to see a tick.
		rs.ticker.Reset(interval)
		rs.interval = interval
	case !running && rs.ticker != nil:
		rs.ticker.Stop()
		rs.ticker = nil
	}
	rs.tickRestart = false
	w.publishTree()
	if !running {
		if err := rs.busy.set(false); err != nil {
			rs.log.Warn("cellwatch: busy marker", "err", err)
		}
	}
	if running != rs.gpuOn.Load() {
		rs.gpuOn.Store(running)
		select {
		case rs.gpuWake <- struct{}{}:
		default:
		}
	}
}
