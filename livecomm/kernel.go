package livecomm

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/cloudline/cloudline/cellwatch"
)

// Limit sources, as the status bar's tooltip names them.
const (
	LimitCgroup   = "cgroup"    // the kernel's cgroup memory.max
	LimitRAM      = "ram"       // the machine's RAM: no lower limit
	LimitMemLimit = "MEM_LIMIT" // JupyterHub's spawner limit in the environment
)

// gpuTimeout bounds one nvidia-smi run.
const gpuTimeout = 2 * time.Second

// TreeReader reads the kernel's process tree for Hub.Kernel. Its own
// sampler keeps its own open files, apart from the watcher's.
type TreeReader struct {
	PID    func() int          // the wrapped kernel's pid (0 = not started)
	Dir    string              // the kernel's working directory ("" = none)
	Proc   cellwatch.Sampler   // nil = &cellwatch.ProcSampler{}
	GPU    cellwatch.GPUReader // nil = no GPU
	Getenv func(string) string // nil = os.Getenv
}

// Read sums the tree's RSS and finds the effective limit and its source.
func (r *TreeReader) Read() (KernelStatus, error) {
	if r.Proc == nil {
		r.Proc = &cellwatch.ProcSampler{}
	}
	pid := 0
	if r.PID != nil {
		pid = r.PID()
	}
	if pid <= 0 {
		return KernelStatus{}, fmt.Errorf("read kernel tree: kernel not started")
	}
	tree, err := r.Proc.Tree(pid)
	if err != nil {
		return KernelStatus{}, fmt.Errorf("read kernel tree: %w", err)
	}
	var ks KernelStatus
	for _, p := range tree {
		if s, err := r.Proc.Proc(p, false); err == nil {
			ks.RSS += s.RSS
		}
	}
	m, err := r.Proc.Machine(pid, r.Dir)
	if err != nil {
		return KernelStatus{}, fmt.Errorf("read machine: %w", err)
	}
	ks.MemLimit, ks.LimitSource = m.MemLimit, LimitRAM
	if m.MemLimit < m.TotalRAM {
		ks.LimitSource = LimitCgroup
	}
	getenv := r.Getenv
	if getenv == nil {
		getenv = os.Getenv
	}
	if hub, ok := parseMemLimit(getenv("MEM_LIMIT")); ok && hub < ks.MemLimit {
		ks.MemLimit, ks.LimitSource = hub, LimitMemLimit
	}
	if r.GPU != nil {
		ctx, cancel := context.WithTimeout(context.Background(), gpuTimeout)
		g, err := r.GPU.ReadGPU(ctx)
		cancel()
		if err == nil {
			ks.GPU = g
		}
	}
	return ks, nil
}

// parseMemLimit reads JupyterHub's MEM_LIMIT: an integer number of bytes
// (the spawner's byte specification, already converted).
func parseMemLimit(s string) (uint64, bool) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, false
	}
	v, err := strconv.ParseUint(s, 10, 64)
	if err != nil || v == 0 {
		return 0, false
	}
	return v, true
}
