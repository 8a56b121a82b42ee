package advisor

import (
	"fmt"
	"time"

	"github.com/cloudline/cloudline/cellwatch"
	"github.com/cloudline/cloudline/kernelspec"
)

const (
	whyTraining = "Compute checkpoint: once a training run takes more than an hour or two on a local machine, cloud compute gets the team moving faster."
	whyMachine  = "Compute checkpoint: a large dataset or several models at once overwhelm even a GPU laptop; cloud compute is sized to the work."

	// saturatedFor is how long cores or GPU must stay saturated in a cell
	// (or half of training_time, when that is shorter: see saturation).
	saturatedFor = 2 * time.Minute
	// steadyAfter caps the cell time after which a progress projection counts
	// as steady (also steady at steadyFraction done, or TrainingTime/4).
	steadyAfter    = 30 * time.Second
	steadyFraction = 0.02
	// parallelAfter caps how long a cell must run (also TrainingTime/2)
	// before other busy kernels count as parallel load.
	parallelAfter = 10 * time.Minute
)

var longTrainingRule = rule{
	id:         RuleLongTraining,
	checkpoint: CheckpointCompute,
	phases:     []Phase{Live, CellEnd},
	why:        whyTraining,
	keys:       []string{"training_time"},
	service:    forTraining,
	todo: func(v vendor) string {
		return fmt.Sprintf("Run this training as %s, and keep the notebook for exploring a sample.", v.Training)
	},
	detect: func(in Input) (finding, bool) {
		rec, limit := in.Record, in.Config.TrainingTime
		d := elapsed(rec, in.Now)
		// A progress bar's projection already told this cell's story (a
		// forecast from the last run did not: this run is measured now).
		if limit <= 0 || d < limit || (posted(rec, RuleProjectedTraining) && rec.Progress != nil) {
			return finding{}, false
		}
		running := rec.Status == cellwatch.StatusRunning
		return finding{
			title: "Training has run for " + FormatDuration(d) + ", past the " + trainingLimit(in.Config) + " limit",
			measured: func(s style) string {
				verb := "has been running for"
				if !running {
					verb = "ran for"
				}
				return fmt.Sprintf("%s %s %s, past the training threshold of %s.",
					capital(s.cell(rec)), verb, s.strong(FormatDuration(d)), trainingLimit(in.Config))
			},
			evidence: map[string]any{"wall_s": seconds(d), "threshold_s": seconds(limit), "running": running},
		}, true
	},
}

var projectedTrainingRule = rule{
	id:         RuleProjectedTraining,
	checkpoint: CheckpointCompute,
	phases:     []Phase{CellStart, Live}, // CellStart: the last run as a forecast
	why:        whyTraining,
	keys:       []string{"training_time"},
	service:    forTraining,
	todo: func(v vendor) string {
		return fmt.Sprintf("Rather than tie up this machine for hours, consider running it as %s.", v.Training)
	},
	detect: func(in Input) (finding, bool) {
		if in.Phase == CellStart {
			return forecast(in)
		}
		rec, limit, p := in.Record, in.Config.TrainingTime, in.Record.Progress
		if limit <= 0 || p == nil || rec.Status != cellwatch.StatusRunning {
			return finding{}, false
		}
		d := elapsed(rec, in.Now)
		total := projection(p)
		if !steady(p, limit) || total <= limit || d >= limit {
			return finding{}, false
		}
		left := max(total-d, 0)
		return finding{
			title: "On course to take about " + FormatDuration(total) + ", past the " + trainingLimit(in.Config) + " limit",
			measured: func(s style) string {
				return fmt.Sprintf("%s is %s done after %s, which projects about %s in total (%s more), past the training threshold of %s.",
					capital(s.cell(rec)), FormatPercent(p.Fraction), FormatDuration(p.Elapsed),
					s.strong(FormatDuration(total)), FormatDuration(left), trainingLimit(in.Config))
			},
			details: func(s style) []string {
				if p.Line == "" {
					return nil
				}
				return []string{fmt.Sprintf("Progress from %s output: %s", p.Source, s.code(p.Line))}
			},
			evidence: map[string]any{
				"fraction": p.Fraction, "progress_elapsed_s": seconds(p.Elapsed), "projected_s": seconds(total),
				"wall_s": seconds(d), "threshold_s": seconds(limit), "source": p.Source,
			},
		}, true
	},
}

// steady reports whether a progress projection has settled: enough cell
// time behind it (30 s, or a quarter of the training threshold if less)
// or at least 2 % done.
func steady(p *cellwatch.Progress, limit time.Duration) bool {
	return p.Elapsed >= min(steadyAfter, limit/4) || p.Fraction >= steadyFraction
}

// projection is the projected total cell time of p.
func projection(p *cellwatch.Progress) time.Duration {
	switch {
	case p.Projected > 0:
		return p.Projected
	case p.Fraction > 0 && p.Elapsed > 0:
		return time.Duration(float64(p.Elapsed) / p.Fraction)
	}
	return 0
}

var computeSaturatedRule = rule{
	id:         RuleComputeSaturated,
	checkpoint: CheckpointCompute,
	phases:     []Phase{Live, CellEnd},
	why:        whyMachine,
	keys:       []string{"training_time"},
	service:    forScale,
	todo: func(v vendor) string {
		return fmt.Sprintf("Move this step to %s.", v.Scale)
	},
	detect: func(in Input) (finding, bool) {
		rec := in.Record
		if rec.CPUSaturated < saturation(in.Config) {
			return finding{}, false
		}
		d, cores := elapsed(rec, in.Now), rec.Machine.Cores
		what := "all CPU cores"
		if cores > 0 {
			what = fmt.Sprintf("all %d CPU cores", cores)
		}
		return finding{
			title: capital(what) + " were busy for " + FormatDuration(rec.CPUSaturated) + " (limit " + FormatDuration(saturation(in.Config)) + ")",
			measured: func(s style) string {
				return fmt.Sprintf("%s kept %s busy for %s of its %s.",
					capital(s.cell(rec)), what, s.strong(FormatDuration(rec.CPUSaturated)), FormatDuration(d))
			},
			evidence: map[string]any{
				"cpu_saturated_s": seconds(rec.CPUSaturated), "wall_s": seconds(d),
				"cpu_s": seconds(rec.CPU), "cores": cores,
			},
		}, true
	},
}

var gpuSaturatedRule = rule{
	id:         RuleGPUSaturated,
	checkpoint: CheckpointCompute,
	phases:     []Phase{Live, CellEnd},
	why:        whyMachine,
	keys:       []string{"training_time"},
	service:    forGPU,
	todo: func(v vendor) string {
		return fmt.Sprintf("Train on %s, where bigger or more GPUs are a setting.", v.GPU)
	},
	detect: func(in Input) (finding, bool) {
		rec, g := in.Record, in.Record.GPU
		if g == nil || rec.GPUSaturated < saturation(in.Config) {
			return finding{}, false
		}
		return finding{
			title: "The GPU was saturated for " + FormatDuration(rec.GPUSaturated) + " (limit " + FormatDuration(saturation(in.Config)) + ")",
			measured: func(s style) string {
				return fmt.Sprintf("%s kept the GPU saturated for %s (GPU memory peaked at %s, utilisation %s).",
					capital(s.cell(rec)), s.strong(FormatDuration(rec.GPUSaturated)),
					formatShare(g.MemUsed, g.MemTotal), FormatPercent(g.UtilPercent/100))
			},
			evidence: map[string]any{
				"gpu_saturated_s": seconds(rec.GPUSaturated), "gpu_devices": g.Devices,
				"gpu_mem_used_bytes": g.MemUsed, "gpu_mem_total_bytes": g.MemTotal, "gpu_util_percent": g.UtilPercent,
			},
		}, true
	},
}

var parallelLoadRule = rule{
	id:         RuleParallelLoad,
	checkpoint: CheckpointCompute,
	phases:     []Phase{Live, CellEnd},
	why:        whyMachine,
	keys:       []string{"training_time"},
	service:    forParallel,
	todo: func(v vendor) string {
		return fmt.Sprintf("Run these trainings side by side as %s.", v.Parallel)
	},
	detect: func(in Input) (finding, bool) {
		rec := in.Record
		after := min(in.Config.TrainingTime/2, parallelAfter)
		d := elapsed(rec, in.Now)
		if rec.OtherBusy < 1 || after <= 0 || d < after {
			return finding{}, false
		}
		others, verb := "1 other cloudline kernel", "was"
		if rec.OtherBusy > 1 {
			others, verb = fmt.Sprintf("%d other cloudline kernels", rec.OtherBusy), "were"
		}
		return finding{
			title: fmt.Sprintf("%s %s busy on this machine while this cell ran for %s", capital(others), verb, FormatDuration(d)),
			measured: func(s style) string {
				return fmt.Sprintf("%s has run for %s while %s %s busy on the same machine.",
					capital(s.cell(rec)), FormatDuration(d), s.strong(others), verb)
			},
			evidence: map[string]any{"other_busy": rec.OtherBusy, "wall_s": seconds(d), "threshold_s": seconds(after)},
		}, true
	},
}

// trainingLimit is training_time as the user wrote it.
func trainingLimit(cfg kernelspec.Config) string {
	return limitOf(cfg, "training_time", kernelspec.FormatDuration(cfg.TrainingTime))
}

func capital(s string) string {
	if s == "" || s[0] < 'a' || s[0] > 'z' {
		return s
	}
	return string(s[0]-'a'+'A') + s[1:]
}

// saturation is how long the cores or the GPU must stay saturated in one
// cell: two minutes, or half of training_time when a team's threshold is
// shorter than four minutes.
func saturation(cfg kernelspec.Config) time.Duration {
	if half := cfg.TrainingTime / 2; half > 0 && half < saturatedFor {
		return half
	}
	return saturatedFor
}
