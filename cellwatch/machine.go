package cellwatch

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path"
	"runtime"
	"strconv"
	"time"

	"github.com/shirou/gopsutil/v4/common"
	"github.com/shirou/gopsutil/v4/cpu"
	"github.com/shirou/gopsutil/v4/disk"
	"github.com/shirou/gopsutil/v4/mem"
)

// Machine reads the machine's memory and swap, its logical CPUs and the
// disk usage of dir through gopsutil (which honours $HOST_PROC and
// $HOST_SYS; Root and SysRoot, when set, are passed to it the same way),
// and adds what gopsutil has no answer for: the limits of pid's cgroup
// (memory.max, cpu.max) and the limits the environment declares
// (JupyterHub's MEM_LIMIT, Enterprise Gateway's KERNEL_MEMORY and
// KERNEL_MEMORY_LIMIT). MemLimit is the smallest of them and of the RAM;
// MemLimitSource says which it is.
func (s *ProcSampler) Machine(pid int, dir string) (Machine, error) {
	ctx := s.hostContext()
	vm, err := mem.VirtualMemoryWithContext(ctx)
	if err != nil {
		return Machine{}, fmt.Errorf("read memory: %w", err)
	}
	if vm.Total == 0 {
		return Machine{}, errors.New("read memory: no total")
	}
	m := Machine{
		TotalRAM:     vm.Total,
		MemAvailable: vm.Available,
		Cores:        s.logicalCores(ctx),
	}
	if vm.SwapTotal > vm.SwapFree {
		m.SwapUsed = vm.SwapTotal - vm.SwapFree
	}
	memLimit, cores := s.cachedLimits(pid)
	m.MemLimit, m.MemLimitSource = effectiveLimit(vm.Total, memLimit, os.Getenv)
	if cores > 0 && cores < m.Cores {
		m.Cores = cores
	}
	if dir != "" {
		if u, err := disk.UsageWithContext(ctx, dir); err == nil {
			m.DiskFree, m.DiskTotal = u.Free, u.Total
		}
	}
	return m, nil
}

// hostContext tells gopsutil where proc and sys are mounted.
func (s *ProcSampler) hostContext() context.Context {
	ctx := context.Background()
	if s.Root == "" && s.SysRoot == "" {
		return ctx // gopsutil reads $HOST_PROC and $HOST_SYS itself
	}
	env := common.EnvMap{}
	if s.Root != "" {
		env[common.HostProcEnvKey] = s.Root
	}
	if s.SysRoot != "" {
		env[common.HostSysEnvKey] = s.SysRoot
	}
	return context.WithValue(ctx, common.EnvKey, env)
}

// logicalCores is the number of logical CPUs the kernel may run on: those
// the machine has (gopsutil, read once: it parses /proc/cpuinfo, which is
// slow to read on big machines), at most those this process may be
// scheduled on (affinity, cpusets).
func (s *ProcSampler) logicalCores(ctx context.Context) int {
	s.mu.Lock()
	n := s.limits.cpus
	s.mu.Unlock()
	if n == 0 {
		if c, err := cpu.CountsWithContext(ctx, true); err == nil && c > 0 {
			n = c
		} else {
			n = -1 // unknown: affinity alone
		}
		s.mu.Lock()
		s.limits.cpus = n
		s.mu.Unlock()
	}
	if affinity := runtime.NumCPU(); n <= 0 || affinity < n {
		return affinity
	}
	return n
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
	s.limits = cgroupCache{pid: pid, at: now, mem: mem, cores: cores, cpus: s.limits.cpus}
	s.mu.Unlock()
	return mem, cores
}

type cgroupCache struct {
	pid   int
	at    time.Time
	mem   uint64
	cores int
	cpus  int // logical CPUs from gopsutil, read once; -1 = unknown
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
