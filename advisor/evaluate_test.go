package advisor

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cloudline/cloudline/cellwatch"
	"github.com/cloudline/cloudline/kernelspec"
)

type evalCase struct {
	name  string
	phase Phase
	rec   cellwatch.Record
	past  []cellwatch.Record
	cfg   kernelspec.Config
	after time.Duration // Now = t0 + after
	want  []string
}

func runEvalCases(t *testing.T, cases []evalCase) {
	t.Helper()
	for _, tt := range cases {
		t.Run(tt.name, func(t *testing.T) {
			cfg := tt.cfg
			if cfg.TrainingTime == 0 { // no config given
				cfg = config(nil)
			}
			got := Evaluate(Input{Phase: tt.phase, Record: tt.rec, Past: tt.past, Config: cfg, Now: t0.Add(tt.after)})
			if ids := rulesOf(got); !slices.Equal(ids, tt.want) {
				t.Errorf("Evaluate = %q, want %q", ids, tt.want)
			}
		})
	}
}

// TestEvaluateSilent lists cases that must produce no advice at all.
func TestEvaluateSilent(t *testing.T) {
	mostlyFull := func(r *cellwatch.Record) { r.Machine.DiskFree = 20 * gib } // 3.9 % free
	runEvalCases(t, []evalCase{
		{name: "quick cell start", phase: CellStart, rec: quick()},
		{name: "quick cell end", phase: CellEnd, rec: quick(), after: time.Second},
		{name: "kernel start by default", phase: KernelStart, rec: quick()},
		{name: "five minutes of training", phase: Live, rec: running(), after: 5 * time.Minute},
		{name: "long cell ended under the threshold", phase: CellEnd, rec: ended(50 * time.Minute), after: 50 * time.Minute},
		{name: "small csv", phase: CellEnd, rec: with(quick(), func(r *cellwatch.Record) {
			r.CodePaths = []cellwatch.FileUse{{Path: "/srv/proj/data/iris.csv", Bytes: 5 * int64(kib)}}
			r.CodeBytes, r.ReadBytes = 5*int64(kib), 5*kib
		}), after: time.Second},
		{name: "quick cell on a nearly full disk", phase: CellEnd, rec: with(quick(), mostlyFull), after: time.Second},
		{name: "small write on a nearly full disk", phase: CellEnd, rec: with(quick(), func(r *cellwatch.Record) {
			mostlyFull(r)
			r.WriteBytes = 2 * mib
		}), after: time.Second},
		{name: "directory and a file in it count once", phase: CellEnd, rec: with(ended(time.Minute), func(r *cellwatch.Record) {
			r.CodePaths = []cellwatch.FileUse{{Path: "/d/train", Bytes: 10 * int64(gib)}}
			r.Files = []cellwatch.FileUse{{Path: "/d/train/part-0.parquet", Bytes: 10 * int64(gib)}}
			r.CodeBytes = 10 * int64(gib)
		}), after: time.Minute},
		{name: "memory at 75 %", phase: Live, rec: with(running(), func(r *cellwatch.Record) { r.PeakRSS = 12 * gib }), after: time.Minute},
		{name: "memory limit unknown", phase: Live, rec: with(running(), func(r *cellwatch.Record) {
			r.PeakRSS, r.Machine.MemLimit = 40*gib, 0
		}), after: time.Minute},
		{name: "a little swap", phase: CellEnd, rec: with(quick(), func(r *cellwatch.Record) { r.SwapGrowth = 10 * mib })},
		{name: "disk facts unknown", phase: CellEnd, rec: with(ended(time.Hour/2), func(r *cellwatch.Record) {
			r.Machine.DiskTotal, r.Machine.DiskFree, r.WriteBytes = 0, 0, 3*gib
		})},
		{name: "cores busy one minute", phase: Live, rec: with(running(), func(r *cellwatch.Record) { r.CPUSaturated = time.Minute }), after: 5 * time.Minute},
		{name: "gpu saturated without gpu facts", phase: Live, rec: with(running(), func(r *cellwatch.Record) { r.GPUSaturated = time.Hour / 2 }), after: 40 * time.Minute},
		{name: "other kernel busy early", phase: Live, rec: with(running(), func(r *cellwatch.Record) { r.OtherBusy = 2 }), after: 5 * time.Minute},
		{name: "long cell alone", phase: Live, rec: running(), after: 30 * time.Minute},
		{name: "path not sensitive", phase: CellStart, rec: with(quick(), func(r *cellwatch.Record) {
			r.CodePaths = []cellwatch.FileUse{{Path: "/srv/proj/data/public/x.csv", Bytes: 10}}
		}), cfg: config(func(c *kernelspec.Config) { c.SensitivePaths = []string{"data/pii/*", "*.ssn"} })},
		{name: "metrics without history", phase: CellEnd, rec: with(quick(), func(r *cellwatch.Record) {
			r.Metrics = map[string]float64{"accuracy": 0.91}
		})},
		{name: "no ports", phase: CellEnd, rec: quick()},
		{name: "silent request", phase: Live, rec: with(running(), func(r *cellwatch.Record) {
			r.Silent, r.PeakRSS, r.ListenPorts = true, 15*gib, []int{8000}
		}), after: 2 * time.Hour},
		{name: "zero phase", rec: with(running(), func(r *cellwatch.Record) { r.ListenPorts = []int{8000} }), after: 2 * time.Hour},
		{name: "projected under the threshold", phase: Live, rec: with(running(), func(r *cellwatch.Record) {
			r.Progress = &cellwatch.Progress{Fraction: 0.5, Elapsed: 10 * time.Minute, Projected: 20 * time.Minute}
		}), after: 10 * time.Minute},
		{name: "projection not steady yet", phase: Live, rec: with(running(), func(r *cellwatch.Record) {
			r.Progress = &cellwatch.Progress{Fraction: 0.01, Elapsed: 10 * time.Second, Projected: 1000 * time.Second * 2}
		}), after: 10 * time.Second},
		{name: "projection at cell end", phase: CellEnd, rec: with(ended(10*time.Minute), func(r *cellwatch.Record) {
			r.Status = cellwatch.StatusInterrupted
			r.Progress = &cellwatch.Progress{Fraction: 0.1, Elapsed: 10 * time.Minute, Projected: 100 * time.Minute}
		}), after: 10 * time.Minute},
	})
}

func TestEvaluateFires(t *testing.T) {
	progress := func(frac float64, at, total time.Duration) func(*cellwatch.Record) {
		return func(r *cellwatch.Record) {
			r.Progress = &cellwatch.Progress{Fraction: frac, Elapsed: at, Projected: total, Source: "tqdm"}
		}
	}
	lowDisk := func(r *cellwatch.Record) { r.Machine.DiskFree = 20 * gib }
	runEvalCases(t, []evalCase{
		// long-training
		{name: "long live", phase: Live, rec: running(), after: time.Hour + time.Minute, want: []string{RuleLongTraining}},
		{name: "long at exactly the threshold", phase: Live, rec: running(), after: time.Hour, want: []string{RuleLongTraining}},
		{name: "long seen at end", phase: CellEnd, rec: ended(2 * time.Hour), after: 2 * time.Hour, want: []string{RuleLongTraining}},
		{name: "long already posted", phase: CellEnd, rec: with(ended(2*time.Hour), func(r *cellwatch.Record) {
			r.Advice = []string{RuleLongTraining}
		}), after: 2 * time.Hour},
		{name: "long after a projection", phase: Live, rec: with(running(), func(r *cellwatch.Record) {
			r.Advice = []string{RuleProjectedTraining}
			r.Progress = &cellwatch.Progress{Fraction: 0.5, Elapsed: time.Hour, Projected: 2 * time.Hour, Source: "tqdm"}
		}), after: 2 * time.Hour},
		{name: "long with lowered threshold", phase: Live, rec: running(), after: 5 * time.Second,
			cfg: config(func(c *kernelspec.Config) { c.TrainingTime = 2 * time.Second }), want: []string{RuleLongTraining}},
		{name: "live wall from snapshot", phase: Live, rec: with(running(), func(r *cellwatch.Record) {
			r.Started, r.Requested, r.Wall = time.Time{}, time.Time{}, 61*time.Minute
		}), want: []string{RuleLongTraining}},
		// projected-training
		{name: "projected", phase: Live, rec: with(running(), progress(0.05, 5*time.Minute, 100*time.Minute)),
			after: 5 * time.Minute, want: []string{RuleProjectedTraining}},
		{name: "projected from fraction", phase: Live, rec: with(running(), progress(0.1, 10*time.Minute, 0)),
			after: 10 * time.Minute, want: []string{RuleProjectedTraining}},
		{name: "projected steady by time", phase: Live, rec: with(running(), progress(0.001, 31*time.Second, 9*time.Hour)),
			after: 31 * time.Second, want: []string{RuleProjectedTraining}},
		{name: "projected past the threshold is long", phase: Live, rec: with(running(), progress(0.5, 70*time.Minute, 140*time.Minute)),
			after: 70 * time.Minute, want: []string{RuleLongTraining}},
		// dataset-size
		{name: "data in code over memory", phase: CellStart, rec: with(running(), func(r *cellwatch.Record) {
			r.CodePaths = []cellwatch.FileUse{{Path: "/data/train.parquet", Bytes: 20 * int64(gib)}}
			r.CodeBytes = 20 * int64(gib)
		}), want: []string{RuleDatasetSize}},
		{name: "data over dataset_size", phase: CellStart, rec: with(running(), func(r *cellwatch.Record) {
			r.CodePaths = []cellwatch.FileUse{{Path: "data/x.csv", Bytes: int64(gib)}}
			r.CodeBytes = int64(gib)
		}), cfg: config(func(c *kernelspec.Config) { c.DatasetSize = int64(512 * mib) }), want: []string{RuleDatasetSize}},
		{name: "bytes read over memory", phase: CellEnd, rec: with(ended(time.Minute), func(r *cellwatch.Record) {
			r.ReadBytes = 14 * gib
		}), after: time.Minute, want: []string{RuleDatasetSize}},
		// Files already on this disk need no free disk: not judged against it.
		{name: "files opened over free disk", phase: CellEnd, rec: with(ended(time.Minute), func(r *cellwatch.Record) {
			r.Machine.MemLimit, r.Machine.DiskFree, r.Machine.DiskTotal = 64*gib, 5*gib, 40*gib
			r.Files = []cellwatch.FileUse{{Path: "/d/a.bin", Bytes: 3 * int64(gib)}, {Path: "/d/b.bin", Bytes: 3 * int64(gib)}}
		}), after: time.Minute},
		// memory-pressure
		{name: "memory near limit", phase: Live, rec: with(running(), func(r *cellwatch.Record) { r.PeakRSS = 13 * gib }),
			after: time.Minute, want: []string{RuleMemoryPressure}},
		{name: "cgroup limit", phase: CellEnd, rec: with(quick(), func(r *cellwatch.Record) {
			r.PeakRSS, r.Machine.MemLimit = 1800*mib, 2*gib
		}), want: []string{RuleMemoryPressure}},
		{name: "latest sample above the peak", phase: Live, rec: with(running(), func(r *cellwatch.Record) {
			r.PeakRSS, r.RSS = 0, 13*gib
		}), after: time.Minute, want: []string{RuleMemoryPressure}},
		{name: "swap growth", phase: CellEnd, rec: with(quick(), func(r *cellwatch.Record) { r.SwapGrowth = 100 * mib }),
			want: []string{RuleMemoryPressure}},
		// kernel-died
		{name: "kernel died", phase: KernelDied, rec: with(running(), func(r *cellwatch.Record) {
			r.Status, r.PeakRSS, r.Signal = cellwatch.StatusKernelDied, 15*gib, "SIGKILL"
		}), after: 2 * time.Hour, want: []string{RuleKernelDied}},
		{name: "kernel died on a silent request", phase: KernelDied, rec: with(running(), func(r *cellwatch.Record) {
			r.Silent = true
		}), want: []string{RuleKernelDied}},
		// disk-space
		{name: "low disk, big write", phase: CellEnd, rec: with(ended(time.Minute), func(r *cellwatch.Record) {
			lowDisk(r)
			r.WriteBytes = gib
		}), after: time.Minute, want: []string{RuleDiskSpace}},
		{name: "low disk, long cell", phase: Live, rec: with(running(), lowDisk), after: 2 * time.Minute, want: []string{RuleDiskSpace}},
		{name: "wrote more than remains", phase: CellEnd, rec: with(ended(time.Minute), func(r *cellwatch.Record) {
			r.Machine.DiskTotal, r.Machine.DiskFree, r.WriteBytes = 1000*gib, 120*gib, 150*gib
		}), after: time.Minute, want: []string{RuleDiskSpace}},
		// compute-saturated, gpu-saturated, parallel-load
		{name: "cores saturated", phase: Live, rec: with(running(), func(r *cellwatch.Record) { r.CPUSaturated = 3 * time.Minute }),
			after: 5 * time.Minute, want: []string{RuleComputeSaturated}},
		{name: "gpu saturated", phase: CellEnd, rec: with(ended(10*time.Minute), func(r *cellwatch.Record) {
			r.GPU = &cellwatch.GPU{Devices: 1, MemUsed: 7 * gib, MemTotal: 8 * gib, UtilPercent: 99}
			r.GPUSaturated = 8 * time.Minute
		}), after: 10 * time.Minute, want: []string{RuleGPUSaturated}},
		{name: "parallel", phase: Live, rec: with(running(), func(r *cellwatch.Record) { r.OtherBusy = 2 }),
			after: 15 * time.Minute, want: []string{RuleParallelLoad}},
		{name: "parallel with short threshold", phase: Live, rec: with(running(), func(r *cellwatch.Record) { r.OtherBusy = 1 }),
			cfg: config(func(c *kernelspec.Config) { c.TrainingTime = 10 * time.Minute }), after: 6 * time.Minute,
			want: []string{RuleParallelLoad}},
		// sensitive-data
		{name: "sensitive kernel", phase: KernelStart, rec: quick(),
			cfg: config(func(c *kernelspec.Config) { c.Sensitive = true }), want: []string{RuleSensitiveData}},
		{name: "sensitive path in code", phase: CellStart, rec: with(quick(), func(r *cellwatch.Record) {
			r.CodePaths = []cellwatch.FileUse{{Path: "/srv/proj/data/pii/customers.csv", Bytes: 10}}
		}), cfg: config(func(c *kernelspec.Config) { c.SensitivePaths = []string{"data/pii/*"} }), want: []string{RuleSensitiveData}},
		{name: "sensitive file opened", phase: CellEnd, rec: with(quick(), func(r *cellwatch.Record) {
			r.Files = []cellwatch.FileUse{{Path: "/mnt/x/patients.ssn", Bytes: 10}}
		}), cfg: config(func(c *kernelspec.Config) { c.SensitivePaths = []string{"*.ssn"} }), want: []string{RuleSensitiveData}},
		// stable-model
		{name: "stable", phase: CellEnd, rec: with(quick(), func(r *cellwatch.Record) {
			r.Metrics = map[string]float64{"accuracy": 0.915, "loss": 0.2}
		}), past: pastRuns(0.91, 0.912), want: []string{RuleStableModel}},
		// local-serving
		{name: "serving", phase: CellEnd, rec: with(ended(10*time.Second), func(r *cellwatch.Record) { r.ListenPorts = []int{8000} }),
			after: 10 * time.Second, want: []string{RuleLocalServing}},
		// A listener is judged at the cell's end only (one stopped before it is no server).
		{name: "serving judged at the end", phase: Live, rec: with(running(), func(r *cellwatch.Record) { r.ListenPorts = []int{8000} }),
			after: 10 * time.Second},
		{name: "dask dashboard", phase: CellEnd, rec: with(ended(10*time.Second), func(r *cellwatch.Record) {
			r.Code, r.ListenPorts = "from dask.distributed import LocalCluster, Client\nclient = Client(LocalCluster())", []int{8787, 40211}
		}), after: 10 * time.Second},
		{name: "tensorboard default port", phase: CellEnd, rec: with(ended(10*time.Second), func(r *cellwatch.Record) {
			r.ListenPorts = []int{6006}
		}), after: 10 * time.Second},
		{name: "flask beside tensorboard", phase: CellEnd, rec: with(ended(10*time.Second), func(r *cellwatch.Record) {
			r.Code, r.ListenPorts = "from flask import Flask\n%tensorboard --logdir runs\napp.run(port=5000)", []int{5000, 6006}
		}), after: 10 * time.Second, want: []string{RuleLocalServing}},
		// several at once, in table order
		{name: "memory and long and serving", phase: CellEnd, rec: with(ended(3*time.Hour), func(r *cellwatch.Record) {
			r.PeakRSS, r.ListenPorts = 14*gib, []int{8000}
		}), after: 3 * time.Hour, want: []string{RuleMemoryPressure, RuleLongTraining, RuleLocalServing}},
	})
}

func TestEvaluateRulesOff(t *testing.T) {
	rec := with(ended(3*time.Hour), func(r *cellwatch.Record) { r.PeakRSS, r.ListenPorts = 14*gib, []int{8000} })
	off := func(ids ...string) kernelspec.Config {
		return config(func(c *kernelspec.Config) { c.RulesOff = ids })
	}
	runEvalCases(t, []evalCase{
		{name: "one off", phase: CellEnd, rec: rec, after: 3 * time.Hour, cfg: off(RuleLongTraining),
			want: []string{RuleMemoryPressure, RuleLocalServing}},
		{name: "all off", phase: CellEnd, rec: rec, after: 3 * time.Hour, cfg: off(RuleIDs()...)},
		{name: "kernel-died off", phase: KernelDied, rec: rec, cfg: off(RuleKernelDied)},
		{name: "unknown id is harmless", phase: CellEnd, rec: with(rec, func(r *cellwatch.Record) { r.Wall = time.Minute }), after: time.Minute, cfg: off("no-such-rule"),
			want: []string{RuleMemoryPressure, RuleLocalServing}},
	})
}

// TestEvaluateRepeatable checks that evaluating the same input twice gives
// the same advice, and that recording it in Record.Advice silences it.
func TestEvaluateRepeatable(t *testing.T) {
	in := Input{Phase: CellStart, Config: config(nil), Now: t0, Record: with(running(), func(r *cellwatch.Record) {
		r.CodePaths = []cellwatch.FileUse{{Path: "/data/train.parquet", Bytes: 20 * int64(gib)}}
	})}
	first, second := Evaluate(in), Evaluate(in)
	if len(first) != 1 || len(second) != 1 || first[0].Markdown != second[0].Markdown {
		t.Fatalf("repeated evaluation differs: %d vs %d advice", len(first), len(second))
	}
	in.Record.Advice = append(in.Record.Advice, first[0].Rule)
	if again := Evaluate(in); len(again) != 0 {
		t.Errorf("advice already posted for the cell came back: %v", again[0].Rule)
	}
}

// TestMemoryPressureNamesTheGatewayRequest: a kernel whose limit is the
// gateway's KERNEL_MEMORY is told to restart with a bigger request.
func TestMemoryPressureNamesTheGatewayRequest(t *testing.T) {
	for source, want := range map[string]string{
		cellwatch.LimitKernelMemory:      "restart it with **KERNEL_MEMORY=4Gi**",
		cellwatch.LimitKernelMemoryLimit: "restart it with **KERNEL_MEMORY_LIMIT=4Gi**",
		cellwatch.LimitCgroup:            "",
	} {
		rec := with(quick(), func(r *cellwatch.Record) {
			r.PeakRSS, r.Machine.MemLimit, r.Machine.MemLimitSource = 1800*mib, 2*gib, source
		})
		out := Evaluate(Input{Phase: CellEnd, Record: rec, Config: config(nil), Now: rec.Ended})
		if len(out) != 1 || out[0].Rule != RuleMemoryPressure {
			t.Fatalf("%s: advice %v, want memory-pressure", source, out)
		}
		md := out[0].Markdown
		if want == "" {
			if strings.Contains(md, "restart it with") {
				t.Errorf("%s: %q offers a gateway restart", source, md)
			}
			continue
		}
		if !strings.Contains(md, want) || !strings.Contains(out[0].Text, strings.ReplaceAll(want, "**", "")) {
			t.Errorf("%s: advice %q lacks %q", source, md, want)
		}
	}
}
