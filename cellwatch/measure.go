package cellwatch

import (
	"os"
	"runtime"
	"slices"
	"time"
)

// Measuring the kernel's process tree for the running cells.

// maxFiles bounds the files listed per cell.
const maxFiles = 256

// baseline is the tree as it was when a cell started.
type baseline struct {
	pids   map[int]bool // in the tree at the start
	exact  map[int]bool // their peak counter was reset
	cpu    time.Duration
	rchar  uint64
	rbytes uint64
	wchar  uint64
	wbytes uint64
	files  map[string]bool // already open at the start
	seen   map[string]bool // files listed in the record
}

// startMeasuring takes the baseline of a cell the kernel starts running.
// When no other cell is measured it resets the peak counters of the tree
// first, root before the scan for children, so the cell's allocations are
// caught from the start.
//
// The watcher wakes at most lazyWake after a request (watcher.go), so a
// baseline may be taken that late. A cell whose idle is already queued
// ran, start to end, while the watcher slept: it is not reset (that would
// only lose the peaks of the cells before it) and it shares one reading of
// the tree with the cells that ended in the same batch. Its CPU and memory
// are then right within lazyWake, and its peak is its end's RSS, marked
// not exact.
func (w *Watcher) startMeasuring(c *cell, now time.Time) {
	rs := w.run
	late := rs.endsQueued[c.rec.MsgID]
	alone := len(w.measuredCells()) == 0
	c.measured = true
	c.base = baseline{pids: map[int]bool{}, exact: map[int]bool{}, files: map[string]bool{}, seen: map[string]bool{}}
	c.lastAt = now
	rs.fastTill = rs.now().Add(fastFor)
	rs.tickRestart = rs.tickRestart || alone && !late
	defer func() {
		if m, err := w.machine(now); err == nil {
			c.rec.Machine = m
			c.swapBase = m.SwapUsed
		} else {
			rs.log.Debug("cellwatch: machine facts", "err", err)
		}
	}()
	if w.PID <= 0 {
		return
	}
	reset := func(pid int) {
		if !alone || late {
			return
		}
		rs.drainProcs = nil // read before the reset: its peaks are older
		if err := rs.proc.ResetPeak(pid); err != nil {
			rs.log.Debug("cellwatch: peak reset", "pid", pid, "err", err)
			return
		}
		c.base.exact[pid] = true
	}
	reset(w.PID)
	// A tree scanned within the last second (the previous cell of a run
	// all) is reused; a child born since counts as born in this cell.
	if d := now.Sub(rs.treeAt); d < 0 || d >= time.Second || len(rs.tree) == 0 {
		if tree, err := rs.proc.Tree(w.PID); err == nil {
			rs.tree, rs.treeAt = tree, now
		} else if len(rs.tree) == 0 {
			rs.tree = []int{w.PID}
		}
	}
	for _, pid := range rs.tree[1:] {
		reset(pid)
	}
	// Listing open files costs a readlink per descriptor, the largest part
	// of a trivial cell's measurement: the files open at the last listing
	// (the idle kernel opens none) stand in for the files open now.
	list := rs.openFiles == nil
	// In a run all, the previous cell's end sample, a few ms old, stands
	// in for reading the tree again.
	procs, reused := w.recallSample(now)
	if late && !reused && !list && rs.drainProcs != nil {
		procs, reused = rs.drainProcs, true
	}
	if list || !reused || !alone && !late {
		// A late cell's reading is taken after it ran: its peak comes
		// from its end, and the drain's other ends share the reading.
		procs, reused = w.readProcs(list), late
		if late {
			rs.drainProcs = procs
		}
	}
	if list {
		rs.filesAt = now
	}
	for f := range rs.openFiles {
		c.base.files[f] = true
	}
	var peak uint64
	for _, p := range procs {
		c.base.pids[p.PID] = true
		c.base.cpu += p.CPU
		if p.IO {
			c.base.rchar += p.RChar
			c.base.rbytes += p.ReadBytes
			c.base.wchar += p.WChar
			c.base.wbytes += p.WriteBytes
		}
		c.rec.RSS += p.RSS
		if !reused {
			// A reused sample predates the peak reset and may count
			// memory freed since: the peak comes from the cell's samples.
			peak += p.RSS
		}
	}
	c.rec.PeakRSS = peak
	c.rec.PeakExact = len(procs) > 0
	for _, p := range procs {
		c.rec.PeakExact = c.rec.PeakExact && c.base.exact[p.PID]
	}
}

// quickFiles: cells ending sooner do not list open files at their end.
const quickFiles = 100 * time.Millisecond

// sampleAll samples the tree and the machine once for all running cells;
// tick says whether a CellTick follows.
func (w *Watcher) sampleAll(now time.Time, tick bool) {
	rs := w.run
	cells := w.measuredCells()
	if len(cells) == 0 {
		return
	}
	var procs []ProcSample
	if w.PID > 0 && !tick && rs.drainProcs != nil && !listFilesAtEnd(cells, now) {
		// Cells that ended in the batch being drained: one reading of the
		// tree, taken after all their ends, stands for each.
		procs = rs.drainProcs
		w.rememberSample(procs, now, true)
	} else if w.PID > 0 {
		// The tree is rescanned every tick: children born since (a
		// multiprocessing worker) count from their first sample, with
		// their VmHWM since birth. The end of a cell that ran less than
		// fastEach reuses the scan its start used.
		if d := now.Sub(rs.treeAt); !tick && d >= 0 && d < time.Second && ranUnder(cells, now, rs.fastEach) {
			// fresh enough
		} else if tree, err := rs.proc.Tree(w.PID); err == nil {
			for _, pid := range tree {
				if !slices.Contains(rs.tree, pid) {
					rs.fastTill = rs.now().Add(fastFor) // a new worker: watch it closely
					break
				}
			}
			rs.tree, rs.treeAt = tree, now
		}
		// Open files change slowly and cost a readlink per fd: list them
		// at most every 200 ms, and at the end of a cell that ran 100 ms
		// or more (a quick cell has closed what it opened, and its code
		// paths were scanned at its start).
		d := now.Sub(rs.filesAt)
		files := tick && (d < 0 || d >= 200*time.Millisecond) || !tick && listFilesAtEnd(cells, now)
		if files {
			rs.filesAt = now
		}
		procs = w.readProcs(files)
		w.rememberSample(procs, now, !tick)
		if !tick {
			rs.drainProcs = procs
		}
	}
	m, err := w.machine(now)
	if err != nil {
		rs.log.Debug("cellwatch: machine facts", "err", err)
	}
	// Busy markers are for cells that run a while: a quick cell is over
	// before its first tick and leaves no trace.
	others := 0
	if tick {
		if err := rs.busy.set(true); err != nil {
			rs.log.Warn("cellwatch: busy marker", "err", err)
		}
		others = rs.busy.others()
	}
	if tick && w.portsEvery() > 0 && rs.now().Sub(rs.portsAt) >= w.portsEvery() {
		w.checkPorts(false) // a cell serving a model runs until interrupted
	}
	for _, c := range cells {
		c.apply(procs, m, now)
		c.rec.ListenPorts = union(c.rec.ListenPorts, rs.ports)
		c.rec.OtherBusy = max(c.rec.OtherBusy, others)
		c.rec.Progress = c.out.progress()
		c.rec.Metrics = c.out.metrics
		if start := c.startTime(); now.After(start) {
			c.rec.Wall = now.Sub(start) // so far; the end sets it for good
		}
	}
	// Fast samples are not all reported: CellTick comes every SampleEvery
	// (a little early is fine: tickers drift).
	if d := now.Sub(rs.tickAt); tick && (d < 0 || d >= rs.tickEach*9/10) {
		rs.tickAt = now
		for _, c := range cells {
			w.emit(CellTick, c)
		}
	}
}

// ranUnder says whether every cell in cells started less than d before now.
func ranUnder(cells []*cell, now time.Time, d time.Duration) bool {
	for _, c := range cells {
		if now.Sub(c.startTime()) >= d {
			return false
		}
	}
	return true
}

// listFilesAtEnd says whether the end of cells lists open files: when one
// ran quickFiles or more.
func listFilesAtEnd(cells []*cell, now time.Time) bool {
	for _, c := range cells {
		if now.Sub(c.startTime()) >= quickFiles {
			return true
		}
	}
	return false
}

// machine reads the machine facts, reusing a reading younger than 50 ms
// (a quick cell's request, start and end come within a few ms).
func (w *Watcher) machine(now time.Time) (Machine, error) {
	rs := w.run
	if d := now.Sub(rs.machineAt); d >= 0 && d < 50*time.Millisecond && rs.machineFacts.TotalRAM > 0 {
		return rs.machineFacts, nil
	}
	m, err := rs.proc.Machine(w.PID, rs.dir)
	if err != nil {
		return m, err
	}
	rs.machineFacts, rs.machineAt = m, now
	return m, nil
}

// apply folds one sample of the tree into the cell.
func (c *cell) apply(procs []ProcSample, m Machine, now time.Time) {
	var cpu time.Duration
	var rss, peak, rchar, rbytes, wchar, wbytes uint64
	for _, p := range procs {
		cpu += p.CPU
		rss += p.RSS
		if c.base.exact[p.PID] || !c.base.pids[p.PID] {
			// Reset at the start, or born since: VmHWM is this cell's peak.
			peak += max(p.HWM, p.RSS)
		} else {
			peak += p.RSS
		}
		if p.IO {
			rchar += p.RChar
			rbytes += p.ReadBytes
			wchar += p.WChar
			wbytes += p.WriteBytes
		}
		for _, f := range p.Files {
			c.noteFile(f)
		}
	}
	if len(procs) > 0 {
		c.rec.RSS = rss
		c.rec.PeakRSS = max(c.rec.PeakRSS, peak)
		c.rec.CPU = max(c.rec.CPU, cpu-c.base.cpu)
		// Counters of reaped children move to their parent, so the sums
		// keep growing; max() guards against a process leaving the tree.
		c.rec.ReadBytes = max(c.rec.ReadBytes, subSat(rchar, c.base.rchar), subSat(rbytes, c.base.rbytes))
		c.rec.WriteBytes = max(c.rec.WriteBytes, subSat(wchar, c.base.wchar), subSat(wbytes, c.base.wbytes))
	}
	if m.TotalRAM > 0 {
		c.rec.Machine = m
		c.rec.SwapGrowth = max(c.rec.SwapGrowth, subSat(m.SwapUsed, c.swapBase))
	}
	if dt := now.Sub(c.lastAt); dt > 0 {
		cores := c.rec.Machine.Cores
		if cores <= 0 {
			cores = runtime.NumCPU()
		}
		if float64(c.rec.CPU-c.lastCPU) >= 0.9*float64(cores)*float64(dt) {
			c.rec.CPUSaturated += dt
		}
		c.lastAt, c.lastCPU = now, c.rec.CPU
	}
}

// noteFile lists a data file the kernel has open, once, with its size.
func (c *cell) noteFile(path string) {
	if c.base.files[path] || c.base.seen[path] || len(c.rec.Files) >= maxFiles {
		return
	}
	c.base.seen[path] = true
	info, err := os.Stat(path)
	if err != nil || !info.Mode().IsRegular() {
		return
	}
	c.rec.Files = append(c.rec.Files, FileUse{Path: path, Bytes: info.Size()})
}

func subSat(a, b uint64) uint64 {
	if a > b {
		return a - b
	}
	return 0
}

// sortedCells returns the cells, oldest first.
func (w *Watcher) sortedCells() []*cell {
	cells := make([]*cell, 0, len(w.run.cells))
	for _, c := range w.run.cells {
		cells = append(cells, c)
	}
	slices.SortFunc(cells, func(a, b *cell) int { return a.rec.Requested.Compare(b.rec.Requested) })
	return cells
}

// measuredCells returns the cells the kernel is running, oldest first.
func (w *Watcher) measuredCells() []*cell {
	return slices.DeleteFunc(w.sortedCells(), func(c *cell) bool { return !c.measured })
}
