package cellwatch

import (
	"fmt"
	"os"
	"path"
	"runtime"
	"strconv"
	"syscall"
	"time"
)

// Machine reads RAM and swap from meminfo, the effective memory limit and
// cores from the process's cgroup, and the disk space of dir.
func (s *ProcSampler) Machine(pid int, dir string) (Machine, error) {
	b, err := os.ReadFile(s.proc("meminfo"))
	if err != nil {
		return Machine{}, fmt.Errorf("read meminfo: %w", err)
	}
	mi, err := parseMeminfo(b)
	if err != nil {
		return Machine{}, err
	}
	m := Machine{
		TotalRAM:     mi.Total,
		MemLimit:     mi.Total,
		MemAvailable: mi.Available,
		Cores:        runtime.NumCPU(),
	}
	if mi.SwapTotal > mi.SwapFree {
		m.SwapUsed = mi.SwapTotal - mi.SwapFree
	}
	memLimit, cores := s.cachedLimits(pid)
	m.MemLimit = min(m.MemLimit, memLimit)
	if cores > 0 && cores < m.Cores {
		m.Cores = cores
	}
	if dir != "" {
		var st syscall.Statfs_t
		if err := syscall.Statfs(dir, &st); err == nil {
			m.DiskFree = st.Bavail * uint64(st.Bsize)
			m.DiskTotal = st.Blocks * uint64(st.Bsize)
		}
	}
	return m, nil
}

// limitsTTL is how long cgroup limits are reused before being read again.
const limitsTTL = 10 * time.Second

// cachedLimits is cgroupLimits, read at most every limitsTTL: limits
// rarely change and their files are many (one pair per cgroup level).
func (s *ProcSampler) cachedLimits(pid int) (uint64, int) {
	s.mu.Lock()
	c := s.limits
	s.mu.Unlock()
	now := time.Now()
	if c.pid == pid && now.Sub(c.at) < limitsTTL {
		return c.mem, c.cores
	}
	mem, cores := s.cgroupLimits(pid)
	s.mu.Lock()
	s.limits = cgroupCache{pid: pid, at: now, mem: mem, cores: cores}
	s.mu.Unlock()
	return mem, cores
}

type cgroupCache struct {
	pid   int
	at    time.Time
	mem   uint64
	cores int
}

// cgroupLimits returns the smallest memory limit and CPU quota (in cores,
// 0 = none) on the way from pid's cgroup up to the root. cgroup v2 first
// (memory.max, cpu.max); v1 memory.limit_in_bytes and cpu.cfs_quota_us
// otherwise. Unreadable files mean no limit.
func (s *ProcSampler) cgroupLimits(pid int) (mem uint64, cores int) {
	mem = noLimit
	b, err := os.ReadFile(s.proc(strconv.Itoa(pid), "cgroup"))
	if err != nil {
		if b, err = os.ReadFile(s.proc("self", "cgroup")); err != nil {
			return mem, 0
		}
	}
	v2, memV1, cpuV1 := cgroupPaths(b)
	tighter := func(c int) {
		if c > 0 && (cores == 0 || c < cores) {
			cores = c
		}
	}
	if v2 != "" {
		for p := range ancestors(v2) {
			if b, err := os.ReadFile(s.sys("fs/cgroup", p, "memory.max")); err == nil {
				if n, err := parseMemoryMax(b); err == nil {
					mem = min(mem, n)
				}
			}
			if b, err := os.ReadFile(s.sys("fs/cgroup", p, "cpu.max")); err == nil {
				if c, err := parseCPUMax(b); err == nil {
					tighter(c)
				}
			}
		}
	}
	if memV1 != "" {
		for p := range ancestors(memV1) {
			if b, err := os.ReadFile(s.sys("fs/cgroup/memory", p, "memory.limit_in_bytes")); err == nil {
				if n, err := parseMemoryMax(b); err == nil {
					mem = min(mem, n)
				}
			}
		}
	}
	if cpuV1 != "" {
		for p := range ancestors(cpuV1) {
			q, err1 := os.ReadFile(s.sys("fs/cgroup/cpu", p, "cpu.cfs_quota_us"))
			per, err2 := os.ReadFile(s.sys("fs/cgroup/cpu", p, "cpu.cfs_period_us"))
			if err1 != nil || err2 != nil {
				continue
			}
			qn, err1 := strconv.ParseInt(string(trimNL(q)), 10, 64)
			pn, err2 := strconv.ParseInt(string(trimNL(per)), 10, 64)
			if err1 == nil && err2 == nil {
				tighter(quotaCores(qn, pn))
			}
		}
	}
	return mem, cores
}

// ancestors yields a cgroup path and each parent up to "/".
func ancestors(p string) func(func(string) bool) {
	return func(yield func(string) bool) {
		p = path.Clean("/" + p)
		for {
			if !yield(p) || p == "/" {
				return
			}
			p = path.Dir(p)
		}
	}
}

func trimNL(b []byte) []byte {
	for len(b) > 0 && (b[len(b)-1] == '\n' || b[len(b)-1] == ' ') {
		b = b[:len(b)-1]
	}
	return b
}
