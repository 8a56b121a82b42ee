package cellwatch

import (
	"bytes"
	"context"
	"fmt"
	"os/exec"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
)

// GPUReader samples the GPUs. The Watcher calls it from one goroutine at a
// time, at most once per GPUEvery while a cell runs.
type GPUReader interface {
	ReadGPU(ctx context.Context) (*GPU, error)
}

// NvidiaSMI reads GPUs with nvidia-smi's CSV query.
type NvidiaSMI struct {
	// Path is the nvidia-smi executable; "" means the one on PATH.
	Path string
}

// FindNvidiaSMI returns a reader for the nvidia-smi on PATH, or nil.
func FindNvidiaSMI() GPUReader {
	p, err := exec.LookPath("nvidia-smi")
	if err != nil {
		return nil
	}
	return &NvidiaSMI{Path: p}
}

// ReadGPU runs nvidia-smi once.
func (n *NvidiaSMI) ReadGPU(ctx context.Context) (*GPU, error) {
	p := n.Path
	if p == "" {
		p = "nvidia-smi"
	}
	out, err := exec.CommandContext(ctx, p,
		"--query-gpu=memory.used,memory.total,utilization.gpu",
		"--format=csv,noheader,nounits").Output()
	if err != nil {
		return nil, fmt.Errorf("run nvidia-smi: %w", err)
	}
	return parseNvidiaSMI(out)
}

// parseNvidiaSMI parses lines "used MiB, total MiB, util %" into a sum
// over devices; utilisation is the mean. Fields nvidia-smi cannot read
// ("[N/A]") count as zero.
func parseNvidiaSMI(b []byte) (*GPU, error) {
	var g GPU
	var util float64
	for line := range bytes.Lines(b) {
		s := strings.TrimSpace(string(line))
		if s == "" {
			continue
		}
		f := strings.Split(s, ",")
		if len(f) != 3 {
			return nil, fmt.Errorf("parse nvidia-smi line %q", s)
		}
		num := func(s string) float64 {
			v, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
			if err != nil {
				return 0
			}
			return v
		}
		g.Devices++
		g.MemUsed += uint64(num(f[0]) * (1 << 20))
		g.MemTotal += uint64(num(f[1]) * (1 << 20))
		util += num(f[2])
	}
	if g.Devices == 0 {
		return nil, fmt.Errorf("parse nvidia-smi: no devices")
	}
	g.UtilPercent = util / float64(g.Devices)
	return &g, nil
}

// saturated reports whether the GPU is at least 90% busy or 90% full.
func (g *GPU) saturated() bool {
	return g.UtilPercent >= 90 || (g.MemTotal > 0 && float64(g.MemUsed) >= 0.9*float64(g.MemTotal))
}

// pollGPU samples the GPU every GPUEvery while wake says cells run.
func (w *Watcher) pollGPU(ctx context.Context, gpu GPUReader, on *atomic.Bool, wake <-chan struct{}, out chan *GPU) {
	every := w.GPUEvery
	if every <= 0 {
		every = time.Second
	}
	active := false
	t := time.NewTimer(every)
	defer t.Stop()
	for {
		var tc <-chan time.Time
		if active {
			tc = t.C
		}
		select {
		case <-ctx.Done():
			return
		case <-wake:
		case <-tc:
		}
		if active = on.Load(); !active {
			continue
		}
		rctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		g, err := gpu.ReadGPU(rctx)
		cancel()
		if err == nil {
			select {
			case <-out: // replace an unread sample
			default:
			}
			out <- g
		}
		t.Reset(every)
	}
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
