package livecomm

import (
	"context"
	"fmt"
	"time"

	"github.com/cloudline/cloudline/cellwatch"
)

// gpuTimeout bounds one nvidia-smi run.
const gpuTimeout = 2 * time.Second

// TreeReader reads the kernel's process tree for Hub.Kernel. Its own
// sampler keeps its own open files, apart from the watcher's.
type TreeReader struct {
	PID  func() int          // the wrapped kernel's pid (0 = not started)
	Proc cellwatch.Sampler   // nil = &cellwatch.ProcSampler{}
	GPU  cellwatch.GPUReader // nil = no GPU
}

// Read sums the tree's RSS and takes the effective limit and its source
// (cellwatch.Machine: cgroup, RAM, MEM_LIMIT, KERNEL_MEMORY...).
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
	m, err := r.Proc.Machine(pid, "") // no disk: the status bar shows memory
	if err != nil {
		return KernelStatus{}, fmt.Errorf("read machine: %w", err)
	}
	ks.MemLimit, ks.LimitSource = m.MemLimit, m.MemLimitSource
	if ks.LimitSource == "" {
		ks.LimitSource = cellwatch.LimitRAM
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
