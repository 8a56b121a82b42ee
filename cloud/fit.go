package cloud

import (
	"cmp"
	"fmt"
	"slices"
	"time"
)

// Need is what a notebook asked of its machine, headroom included: the
// smallest size with at least this much fits.
type Need struct {
	Mem    uint64        // memory: the measured peak / memory_fraction
	Cores  int           // vCPUs kept busy
	GPUs   int           // GPUs the runs had; 0 = no GPU used
	GPUMem uint64        // GPU memory over all of them: measured peak / memory_fraction
	Data   uint64        // the most data one cell read (sizes the job's disk)
	Run    time.Duration // the longest run of the notebook, measured or projected
	Peak   uint64        // the measured peak memory, before headroom
	Cells  int           // cells measured; 0 = no history (DefaultNeed)
}

// DefaultNeed is what a notebook with no history gets: a general purpose
// size with 4 vCPUs and 16 GiB, and a time limit of DefaultRun.
func DefaultNeed() Need { return Need{Mem: 16 * GiB, Cores: 4, Run: DefaultRun} }

// DefaultRun is the run time assumed without history: TimeLimit makes two
// hours of it.
const DefaultRun = time.Hour

// Measured reports whether the need comes from a history.
func (n Need) Measured() bool { return n.Cells > 0 }

// Vendors lists the clouds with a size table and a job format.
func Vendors() []string { return []string{"azure", "aws", "gcp"} }

// Fit returns the smallest size of cloud that has n's memory, cores and,
// when a GPU was used, GPU memory. When none is big enough it returns the
// biggest and false.
func Fit(cloud string, n Need) (Size, bool) {
	cands := sizesOf(cloud, n.GPUs > 0 || n.GPUMem > 0)
	if len(cands) == 0 {
		return Size{}, false
	}
	for _, s := range cands {
		if fits(s, n) {
			return s, true
		}
	}
	return cands[len(cands)-1], false
}

func fits(s Size, n Need) bool {
	if s.Mem < n.Mem || s.VCPU < n.Cores {
		return false
	}
	switch {
	case n.GPUs <= 1 && n.GPUMem > 0:
		return s.GPUMem >= n.GPUMem // one device held it all: one GPU must
	case n.GPUs > 1:
		return s.GPUs >= n.GPUs && uint64(s.GPUs)*s.GPUMem >= n.GPUMem
	}
	return true
}

// sizesOf returns cloud's CPU sizes by vCPUs then memory, or its GPU sizes
// in table order (cheapest first).
func sizesOf(cloud string, gpu bool) []Size {
	var out []Size
	table := cpuSizes
	if gpu {
		table = gpuSizes
	}
	for _, s := range table {
		if s.Cloud == cloud {
			out = append(out, s)
		}
	}
	if !gpu {
		slices.SortStableFunc(out, func(a, b Size) int {
			return cmp.Or(cmp.Compare(a.VCPU, b.VCPU), cmp.Compare(a.Mem, b.Mem))
		})
	}
	return out
}

// Lookup returns the size of cloud called name, if the table has it.
func Lookup(cloud, name string) (Size, bool) {
	for _, t := range [][]Size{cpuSizes, gpuSizes} {
		for _, s := range t {
			if s.Cloud == cloud && s.Name == name {
				return s, true
			}
		}
	}
	return Size{}, false
}

// String reads "Standard_E8s_v5, 64 GiB, 8 vCPU", with ", 1x NVIDIA T4
// 16 GiB" for a GPU size.
func (s Size) String() string {
	t := fmt.Sprintf("%s, %s, %d vCPU", s.Name, GiBText(s.Mem), s.VCPU)
	if s.GPUs > 0 {
		t += fmt.Sprintf(", %dx %s %s", s.GPUs, s.GPUModel, GiBText(s.GPUMem))
	}
	return t
}

// GiBText is a memory size in whole GiB ("64 GiB"), or MiB below 1 GiB.
func GiBText(b uint64) string {
	if b < GiB {
		return fmt.Sprintf("%d MiB", (b+(1<<20)-1)>>20)
	}
	return fmt.Sprintf("%d GiB", (b+GiB/2)/GiB)
}

// NeedText reads "about 48 GiB" (rounded up to whole GiB), with the
// vCPUs and GPU memory when they matter.
func (n Need) NeedText() string {
	t := fmt.Sprintf("about %d GiB", max(1, (n.Mem+GiB-1)/GiB))
	if n.Cores > 2 {
		t += fmt.Sprintf(" and %d vCPU", n.Cores)
	}
	if n.GPUMem > 0 {
		t += fmt.Sprintf(" and %d GiB of GPU memory", (n.GPUMem+GiB-1)/GiB)
	}
	return t
}

// TimeLimit is the job's time limit: twice the longest run, at least an
// hour, rounded up to whole hours. A run cut short (interrupted, or
// projected longer by its progress bar) counts with its projection.
func TimeLimit(n Need) time.Duration {
	run := n.Run
	if run <= 0 {
		run = DefaultRun
	}
	return max(time.Hour, (2*run + time.Hour - 1).Truncate(time.Hour))
}
