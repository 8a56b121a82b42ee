package cellwatch

import "errors"

// Reading the tree's processes on the Run goroutine, and not counting
// twice the memory a forked worker shares with its parent.

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
	if files {
		rs.openFiles = make(map[string]bool, len(rs.openFiles))
		for _, p := range procs {
			for _, f := range p.Files {
				rs.openFiles[f] = true
			}
		}
	}
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
