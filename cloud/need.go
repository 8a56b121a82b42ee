package cloud

import (
	"math"
	"time"

	"github.com/cloudline/cloudline/cellwatch"
)

// DefaultMemoryFraction is kernelspec's default memory_fraction: the share
// of an instance's memory a run may use.
const DefaultMemoryFraction = 0.8

// minCoreSample is the shortest cell whose CPU/wall ratio counts: shorter
// cells are start-up noise (imports run on one core, then idle).
const minCoreSample = 5 * time.Second

// NeedOf sums up a notebook's records (as cellwatch.ReadHistory returns
// them, any order) into what its next machine needs. fraction is the
// kernelspec's memory_fraction (out of (0, 1]: DefaultMemoryFraction).
// No records: DefaultNeed.
func NeedOf(recs []cellwatch.Record, fraction float64) Need {
	if len(recs) == 0 {
		return DefaultNeed()
	}
	if !(fraction > 0 && fraction <= 1) {
		fraction = DefaultMemoryFraction
	}
	n := Need{Cells: len(recs), Cores: 1}
	runs := map[string]time.Duration{} // per kernel session
	var gpuPeak uint64
	for _, r := range recs {
		n.Peak = max(n.Peak, r.PeakRSS+r.SwapGrowth)
		n.Data = max(n.Data, r.ReadBytes, uint64(max(r.CodeBytes, 0)))
		wall := wallOf(r)
		if wall >= minCoreSample {
			busy := int(math.Ceil(cpuOf(r).Seconds() / wall.Seconds()))
			if r.Machine.Cores > 0 && float64(busy) >= 0.9*float64(r.Machine.Cores) {
				// Every core kept busy: the cell was bound by them and
				// twice as many would shorten it.
				busy = 2 * r.Machine.Cores
			}
			n.Cores = max(n.Cores, busy)
		}
		if r.GPU != nil && (r.GPU.MemUsed > 0 || r.GPU.UtilPercent > 0) {
			gpuPeak = max(gpuPeak, r.GPU.MemUsed)
			n.GPUs = max(n.GPUs, r.GPU.Devices, 1)
		}
		runs[r.Session] += max(wall, projectedOf(r))
	}
	for _, d := range runs {
		n.Run = max(n.Run, d)
	}
	n.Mem = uint64(math.Ceil(float64(n.Peak) / fraction))
	n.GPUMem = uint64(math.Ceil(float64(gpuPeak) / fraction))
	if n.GPUs > 0 && n.GPUMem == 0 {
		n.GPUMem = 1 // used, memory not reported: any GPU
	}
	return n
}

// wallOf is a record's wall time, in memory or as read from history.
func wallOf(r cellwatch.Record) time.Duration {
	return r.Wall
}

func cpuOf(r cellwatch.Record) time.Duration {
	return r.CPU
}

// projectedOf is the total a progress bar projected for a cell, 0 if none.
func projectedOf(r cellwatch.Record) time.Duration {
	if r.Progress == nil {
		return 0
	}
	return r.Progress.Projected
}
