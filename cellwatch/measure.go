package cellwatch

import (
	"errors"
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
func (w *Watcher) startMeasuring(c *cell, now time.Time) {
	rs := w.run
	alone := len(w.measuredCells()) == 0
	c.measured = true
	c.base = baseline{pids: map[int]bool{}, exact: map[int]bool{}, files: map[string]bool{}, seen: map[string]bool{}}
	if m, err := w.machine(now); err == nil {
		c.rec.Machine = m
		c.swapBase = m.SwapUsed
	} else {
		rs.log.Debug("cellwatch: machine facts", "err", err)
	}
	c.lastAt = now
	rs.fastTill = rs.now().Add(fastFor)
	if w.PID <= 0 {
		return
	}
	reset := func(pid int) {
		if !alone {
			return
		}
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
	procs := w.readProcs(true)
	rs.filesAt = now
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
		for _, f := range p.Files {
			c.base.files[f] = true
		}
		c.rec.RSS += p.RSS
		peak += p.RSS
	}
	c.rec.PeakRSS = peak
	c.rec.PeakExact = len(procs) > 0
	for _, p := range procs {
		c.rec.PeakExact = c.rec.PeakExact && c.base.exact[p.PID]
	}
}

// readProcs reads every process of the tree (their open files too when
// files is set); vanished ones leave it.
//
// The RSS and VmHWM of a forked worker count the parent's pages it still
// shares, so summing them would count a DataLoader's dataset once per
// worker. The returned samples count, for each process but the root, only
// its memory beyond what it shared at first sight (see sharedAtBirth).
func (w *Watcher) readProcs(files bool) []ProcSample {
	rs := w.run
	procs := make([]ProcSample, 0, len(rs.tree))
	alive := rs.tree[:0]
	for _, pid := range rs.tree {
		p, err := rs.proc.Proc(pid, files)
		if err != nil {
			if !errors.Is(err, ErrGone) {
				rs.log.Debug("cellwatch: read process", "pid", pid, "err", err)
			}
			continue
		}
		alive = append(alive, pid)
		procs = append(procs, p)
	}
	rs.tree = alive
	if len(procs) > 1 || len(rs.shared) > 0 {
		w.unshare(procs)
	}
	return procs
}

// unshare subtracts from each child's RSS and VmHWM what it shares with
// its parent, estimated once per process.
func (w *Watcher) unshare(procs []ProcSample) {
	rs := w.run
	if rs.shared == nil {
		rs.shared, rs.cmdlines = map[int]uint64{}, map[int]string{}
	}
	raw := make(map[int]uint64, len(procs)) // what a fork of each would inherit
	for _, p := range procs {
		raw[p.PID] = p.RSS
		if p.Anon > 0 {
			raw[p.PID] = p.Anon
		}
	}
	for i := range procs {
		p := &procs[i]
		if p.PID == w.PID {
			continue
		}
		sh, ok := rs.shared[p.PID]
		if !ok {
			sh = w.sharedAtBirth(p.PID, p.PPID, p.RSS, raw)
			rs.shared[p.PID] = sh
		}
		p.RSS, p.HWM = subSat(p.RSS, sh), subSat(p.HWM, sh)
	}
	for pid := range rs.shared {
		if _, ok := raw[pid]; !ok { // gone
			delete(rs.shared, pid)
			delete(rs.cmdlines, pid)
		}
	}
}

// sharedAtBirth estimates the memory a process shares with its parent: a
// fork without exec (same command line: multiprocessing's fork and
// forkserver workers, DataLoader workers) starts with its parent's
// anonymous pages mapped (file pages come back one fault at a time), so
// up to the parent's RssAnon is shared; anything that ran exec shares next
// to nothing. Seen soon after birth (cells are sampled
// fast for a second after a process appears) the estimate is close; pages
// the child copies on write later are not counted, so it errs low. Exact
// figures would need smaps_rollup, which costs ~20 ms per read for a large
// process.
func (w *Watcher) sharedAtBirth(pid, ppid int, rss uint64, inherit map[int]uint64) uint64 {
	parentRSS, ok := inherit[ppid]
	if !ok {
		return 0
	}
	cmd, pcmd := w.cmdline(pid), w.cmdline(ppid)
	if cmd == "" || cmd != pcmd {
		return 0
	}
	return min(rss, parentRSS)
}

func (w *Watcher) cmdline(pid int) string {
	rs := w.run
	if c, ok := rs.cmdlines[pid]; ok {
		return c
	}
	c, err := rs.proc.Cmdline(pid)
	if err != nil {
		return ""
	}
	rs.cmdlines[pid] = c
	return c
}

// sampleAll samples the tree and the machine once for all running cells;
// tick says whether a CellTick follows.
func (w *Watcher) sampleAll(now time.Time, tick bool) {
	rs := w.run
	cells := w.measuredCells()
	if len(cells) == 0 {
		return
	}
	var procs []ProcSample
	if w.PID > 0 {
		// The tree is rescanned every tick: children born since (a
		// multiprocessing worker) count from their first sample, with
		// their VmHWM since birth. The end of a quick cell reuses the scan
		// from its start.
		if now.Sub(rs.treeAt) < rs.fastEach && !tick {
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
		// at most every 200 ms, and at a cell's end.
		files := !tick || now.Sub(rs.filesAt) >= 200*time.Millisecond
		if files {
			rs.filesAt = now
		}
		procs = w.readProcs(files)
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
	if tick && now.Sub(rs.tickAt) >= rs.tickEach*9/10 {
		rs.tickAt = now
		for _, c := range cells {
			w.emit(CellTick, &c.rec)
		}
	}
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

// checkPorts refreshes the listening ports of the tree. It runs every
// PortsEvery while idle and at each cell's end. With own set, every port
// found is the kernel's own: ipykernel listens on a loopback port of its
// own (the IOPub event pipe) before any cell runs, and debugpy and its
// adapter listen once the debugger starts. Those are never reported.
func (w *Watcher) checkPorts(own bool) {
	rs := w.run
	if w.PID <= 0 {
		return
	}
	now := rs.now()
	if now.Sub(rs.treeAt) >= time.Second || len(rs.tree) == 0 {
		tree, err := rs.proc.Tree(w.PID)
		if err != nil {
			return
		}
		rs.tree, rs.treeAt = tree, now
	}
	rs.portsAt = now
	ports, err := rs.proc.ListenPorts(rs.tree)
	if err != nil {
		rs.log.Debug("cellwatch: listening ports", "err", err)
		return
	}
	if rs.ownPorts == nil {
		rs.ownPorts = map[int]bool{}
		for _, p := range w.IgnorePorts {
			rs.ownPorts[p] = true
		}
	}
	if own {
		for _, p := range ports {
			rs.ownPorts[p] = true
		}
	}
	rs.ports = slices.DeleteFunc(ports, func(p int) bool { return rs.ownPorts[p] })
}

// mergeGPU folds a GPU sample into the running cells: peak memory and
// utilisation, and the time spent saturated.
func (w *Watcher) mergeGPU(g *GPU, now time.Time) {
	for _, c := range w.measuredCells() {
		if c.rec.GPU == nil {
			cp := *g
			c.rec.GPU = &cp
		} else {
			c.rec.GPU.Devices, c.rec.GPU.MemTotal = g.Devices, g.MemTotal
			c.rec.GPU.MemUsed = max(c.rec.GPU.MemUsed, g.MemUsed)
			c.rec.GPU.UtilPercent = max(c.rec.GPU.UtilPercent, g.UtilPercent)
		}
		if g.saturated() && !c.gpuAt.IsZero() {
			c.rec.GPUSaturated += now.Sub(c.gpuAt)
		}
		c.gpuAt = now
	}
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
