package cellwatch

import (
	"runtime"
	"slices"
	"time"
)

// Measuring the kernel's process tree for the running cells.

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

// startMeasuring takes the baseline of a cell the kernel starts running:
// the reading at the kernel's last idle (reading.go), or, before any, the
// tree now. Only the first cell of a kernel lists the open files here
// (a readlink per descriptor): the idle kernel opens none, so the files
// open at the last listing stand in for those open now.
func (w *Watcher) startMeasuring(c *cell, now time.Time) {
	rs := w.run
	alone := len(w.measuredCells()) == 0
	c.measured = true
	c.base = baseline{pids: map[int]bool{}, exact: map[int]bool{}, files: map[string]bool{}, seen: map[string]bool{}}
	c.lastAt = now
	rs.fastTill = rs.now().Add(fastFor)
	rs.tickRestart = rs.tickRestart || alone
	if m, err := w.machine(now); err == nil {
		c.rec.Machine = m
		c.swapBase = m.SwapUsed
	} else {
		rs.log.Debug("cellwatch: machine facts", "err", err)
	}
	if w.PID <= 0 {
		return
	}
	r := rs.last
	if r == nil {
		// No idle seen yet: read now (late by up to lazyWake), resetting
		// the peaks if nothing else runs.
		if r = w.takeReading(now, alone); r == nil {
			return
		}
		w.useReading(r)
		rs.last = r
	}
	if rs.openFiles == nil {
		w.listFiles(now)
	}
	for f := range rs.openFiles {
		c.base.files[f] = true
	}
	var rss uint64
	c.rec.PeakExact = true
	for _, p := range r.procs {
		c.base.pids[p.PID] = true
		c.base.exact[p.PID] = r.exact[p.PID]
		c.rec.PeakExact = c.rec.PeakExact && r.exact[p.PID]
		c.base.cpu += p.CPU
		c.lastWait += p.Wait
		if p.IO {
			c.base.rchar += p.RChar
			c.base.rbytes += p.ReadBytes
			c.base.wchar += p.WChar
			c.base.wbytes += p.WriteBytes
		}
		rss += p.RSS
	}
	c.rec.RSS, c.rec.PeakRSS = rss, rss
}

// listFiles lists the open files of the tree.
func (w *Watcher) listFiles(now time.Time) {
	w.run.filesAt = now
	w.readProcs(true)
}

// quickFiles: cells ending sooner do not list open files at their end.
const quickFiles = 100 * time.Millisecond

// filesEvery: open files are listed at most this often while cells run;
// they change slowly and cost a readlink per descriptor.
const filesEvery = 200 * time.Millisecond

// treeFresh: a tree scanned this recently stands for the tree at the end
// of a cell that ran under fastEach (a quick cell starts no worker that
// outlives it unseen).
const treeFresh = time.Second

// sampleAll samples the tree and the machine once for all running cells;
// tick says whether a CellTick follows. At a cell's end, end is the
// reading its idle carried (nil when it ended otherwise): the tree's
// counters then come from it, and only processes it missed are read now.
func (w *Watcher) sampleAll(now time.Time, tick bool, end *reading) {
	rs := w.run
	cells := w.measuredCells()
	if len(cells) == 0 {
		return
	}
	var procs []ProcSample
	files := false
	if w.PID > 0 {
		// The tree is rescanned every tick: children born since (a
		// multiprocessing worker) count from their first sample, with
		// their VmHWM since birth.
		if d := now.Sub(rs.treeAt); !tick && d >= 0 && d < treeFresh && ranUnder(cells, now, rs.fastEach) {
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
		// Files: at most every filesEvery on ticks, and at the end of a
		// cell that ran quickFiles or more (a quick cell has closed what
		// it opened, and its code paths were scanned at its start).
		d := now.Sub(rs.filesAt)
		files = tick && (d < 0 || d >= filesEvery) || !tick && listFilesAtEnd(cells, now)
		if files {
			rs.filesAt = now
		}
		if end == nil {
			procs = w.readProcs(files)
		} else {
			procs = w.completeReading(end, files)
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
		if files {
			c.resize(rs.dir)
		}
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

// completeReading returns the end reading's processes plus those of the
// tree it missed (born since the tree was last published), read now, and,
// with files, the open files of all, listed now (only the paths are used:
// the counters stay the reading's).
func (w *Watcher) completeReading(end *reading, files bool) []ProcSample {
	procs := slices.Clone(end.procs)
	var missed []int
	for _, pid := range w.run.tree {
		if !slices.ContainsFunc(procs, func(p ProcSample) bool { return p.PID == pid }) {
			missed = append(missed, pid)
		}
	}
	if len(missed) == 0 && !files {
		return procs
	}
	now := w.readProcs(files)
	for _, p := range now {
		if slices.Contains(missed, p.PID) {
			procs = append(procs, p)
			continue
		}
		for i := range procs {
			if procs[i].PID == p.PID {
				procs[i].Files = p.Files
			}
		}
	}
	return procs
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

// machineFresh: machine facts read this recently are reused (a quick
// cell's request, start and end come within a few ms).
const machineFresh = 50 * time.Millisecond

// machine reads the machine facts, reusing a reading younger than
// machineFresh.
func (w *Watcher) machine(now time.Time) (Machine, error) {
	rs := w.run
	if d := now.Sub(rs.machineAt); d >= 0 && d < machineFresh && rs.machineFacts.TotalRAM > 0 {
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
	var cpu, wait time.Duration
	var rss, peak, rchar, rbytes, wchar, wbytes uint64
	for _, p := range procs {
		cpu += p.CPU
		wait += p.Wait
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
		if c.wantedAllCores(dt, wait) {
			c.rec.CPUSaturated += dt
		}
		c.lastAt, c.lastCPU = now, c.rec.CPU
		if len(procs) > 0 {
			c.lastWait = wait
		}
	}
}

// wantedAllCores says whether the tree wanted every core over the dt
// since the last sample: the CPU time it got plus the time its processes
// waited for a core (another program taking its share must not hide a
// cell that would keep all cores busy). A process that left takes its wait
// along: the sum may shrink, and then only the CPU time counts.
func (c *cell) wantedAllCores(dt, wait time.Duration) bool {
	cores := c.rec.Machine.Cores
	if cores <= 0 {
		cores = runtime.NumCPU()
	}
	demand := c.rec.CPU - c.lastCPU
	if wait > c.lastWait {
		demand += wait - c.lastWait
	}
	return float64(demand) >= saturatedShare*float64(cores)*float64(dt)
}

// saturatedShare of every core, used or waited for, counts as saturated.
const saturatedShare = 0.9

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
