package advisor

import (
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cloudline/cloudline/cellwatch"
	"github.com/cloudline/cloudline/kernelspec"
)

var update = flag.Bool("update", false, "rewrite testdata/golden from the current rendering")

// goldenCase is an input that makes exactly one rule fire.
type goldenCase struct {
	name string // file stem: the rule id, or rule id + "-" + variant
	rule string
	in   Input
}

func goldenCases() []goldenCase {
	live := func(after time.Duration, r cellwatch.Record) Input {
		return Input{Phase: Live, Record: r, Config: config(nil), Now: t0.Add(after)}
	}
	end := func(r cellwatch.Record) Input {
		return Input{Phase: CellEnd, Record: r, Config: config(nil), Now: r.Ended}
	}
	died := func(sig string, peak uint64) Input {
		return Input{Phase: KernelDied, Config: config(nil), Now: t0.Add(47 * time.Minute),
			Record: with(running(), func(r *cellwatch.Record) {
				r.FirstLine = "features = pd.concat([pd.read_parquet(p) for p in parts])"
				r.Status, r.Signal, r.PeakRSS, r.RSS, r.Wall = cellwatch.StatusKernelDied, sig, peak, peak, 47*time.Minute
			})}
	}
	return []goldenCase{
		{RuleLongTraining, RuleLongTraining, live(65*time.Minute+12*time.Second, running())},
		{RuleProjectedTraining, RuleProjectedTraining, live(6*time.Minute, with(running(), func(r *cellwatch.Record) {
			r.Progress = &cellwatch.Progress{Fraction: 0.04, Elapsed: 6 * time.Minute, Projected: 150 * time.Minute,
				Source: "tqdm", Line: "Epoch 1/25:  4%|▍         | 240/6000 [06:00<2:24:00,  1.50s/it]"}
		}))},
		{RuleDatasetSize, RuleDatasetSize, Input{Phase: CellStart, Config: config(nil), Now: t0,
			Record: with(running(), func(r *cellwatch.Record) {
				r.FirstLine = `df = pd.read_parquet("data/clickstream/")`
				r.CodePaths = []cellwatch.FileUse{
					{Path: "/data/churn/data/clickstream", Bytes: 21 * int64(gib)},
					{Path: "/data/churn/data/users.csv", Bytes: 310 * int64(mib)},
				}
				r.CodeBytes = 21*int64(gib) + 310*int64(mib)
			})}},
		{RuleMemoryPressure, RuleMemoryPressure, live(9*time.Minute, with(running(), func(r *cellwatch.Record) {
			r.PeakRSS, r.RSS, r.PeakExact = 14*gib+300*mib, 14*gib, true
		}))},
		{RuleMemoryPressure + "-swap", RuleMemoryPressure, end(with(ended(3*time.Minute), func(r *cellwatch.Record) {
			r.PeakRSS, r.SwapGrowth = 6*gib, 1200*mib
		}))},
		{RuleKernelDied, RuleKernelDied, died("SIGKILL", 15*gib+600*mib)},
		{RuleKernelDied + "-crash", RuleKernelDied, died("11", 3*gib)},
		{RuleKernelDied + "-unknown", RuleKernelDied, died("SIGTERM", 0)},
		{RuleKernelDied + "-exit", RuleKernelDied, func() Input {
			in := died("", 0)
			in.Record.ExitCode = 3
			return in
		}()},
		{RuleDiskSpace, RuleDiskSpace, end(with(ended(4*time.Minute), func(r *cellwatch.Record) {
			r.FirstLine = `df.to_parquet("features/")`
			r.Machine.DiskFree, r.WriteBytes = 18*gib, 11*gib
		}))},
		{RuleComputeSaturated, RuleComputeSaturated, live(12*time.Minute, with(running(), func(r *cellwatch.Record) {
			r.FirstLine = "grid.fit(X_train, y_train)"
			r.CPUSaturated, r.CPU = 11*time.Minute, 90*time.Minute
		}))},
		{RuleGPUSaturated, RuleGPUSaturated, end(with(ended(25*time.Minute), func(r *cellwatch.Record) {
			r.FirstLine = "trainer.train()"
			r.GPU = &cellwatch.GPU{Devices: 1, MemUsed: 7800 * mib, MemTotal: 8 * gib, UtilPercent: 98}
			r.GPUSaturated = 22 * time.Minute
		}))},
		{RuleParallelLoad, RuleParallelLoad, live(14*time.Minute, with(running(), func(r *cellwatch.Record) {
			r.OtherBusy = 2
		}))},
		{RuleSensitiveData, RuleSensitiveData, Input{Phase: CellStart, Now: t0,
			Config: config(func(c *kernelspec.Config) { c.SensitivePaths = []string{"data/pii/*", "*.ssn.csv"} }),
			Record: with(running(), func(r *cellwatch.Record) {
				r.FirstLine = `patients = pd.read_csv("data/pii/patients.csv")`
				r.CodePaths = []cellwatch.FileUse{
					{Path: "/data/clinic/data/pii/patients.csv", Bytes: 80 * int64(mib)},
					{Path: "/data/clinic/data/pii/visits.csv", Bytes: 20 * int64(mib)},
				}
			})}},
		{RuleSensitiveData + "-kernel", RuleSensitiveData, Input{Phase: KernelStart, Record: quick(), Now: t0,
			Config: config(func(c *kernelspec.Config) { c.Sensitive = true })}},
		{RuleStableModel, RuleStableModel, Input{Phase: CellEnd, Now: t0.Add(time.Minute), Past: pastRuns(0.912, 0.918),
			Config: config(nil),
			Record: with(ended(40*time.Second), func(r *cellwatch.Record) {
				r.FirstLine = `print(f"accuracy={acc:.3f} loss={loss:.3f}")`
				r.Metrics = map[string]float64{"accuracy": 0.915, "loss": 0.203}
			})}},
		{RuleLocalServing, RuleLocalServing, end(with(ended(20*time.Second), func(r *cellwatch.Record) {
			r.FirstLine, r.ExecutionCount = `uvicorn.run(app, port=8000)`, 7
			r.ListenPorts = []int{8000}
		}))},
	}
}

func TestGolden(t *testing.T) {
	for _, gc := range goldenCases() {
		for _, cloud := range Clouds() {
			t.Run(gc.name+"."+cloud, func(t *testing.T) {
				in := gc.in
				in.Config.Cloud = cloud
				got := Evaluate(in)
				if len(got) != 1 || got[0].Rule != gc.rule {
					t.Fatalf("Evaluate fired %v, want exactly %s", rulesOf(got), gc.rule)
				}
				a := got[0]
				stem := filepath.Join("testdata", "golden", gc.name+"."+cloud)
				checkGolden(t, stem+".md", a.Markdown)
				checkGolden(t, stem+".txt", a.Text)
				if cloud == defaultCloud {
					meta, err := json.MarshalIndent(map[string]any{
						"rule": a.Rule, "checkpoint": a.Checkpoint, "title": a.Title, "evidence": a.Evidence,
					}, "", "  ")
					if err != nil {
						t.Fatalf("marshal evidence: %v", err)
					}
					checkGolden(t, filepath.Join("testdata", "golden", gc.name+".json"), string(meta)+"\n")
				}
			})
		}
	}
}

func checkGolden(t *testing.T, path, got string) {
	t.Helper()
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatalf("update golden: %v", err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read golden (run go test ./advisor -update to create it): %v", err)
	}
	if got != string(want) {
		t.Errorf("%s differs (run go test ./advisor -update to accept):\n--- got\n%s\n--- want\n%s", path, got, want)
	}
}

// rulesOf lists the rules of as, in order.
func rulesOf(as []Advice) []string {
	var ids []string
	for _, a := range as {
		ids = append(ids, a.Rule)
	}
	return ids
}

// TestGoldenCoversEveryRule keeps the golden cases in step with the table.
func TestGoldenCoversEveryRule(t *testing.T) {
	var covered []string
	for _, gc := range goldenCases() {
		covered = append(covered, gc.rule)
	}
	for _, id := range RuleIDs() {
		if !slices.Contains(covered, id) {
			t.Errorf("rule %s has no golden case", id)
		}
	}
}

// TestAdviceShape checks the layout every advice shares, for every vendor.
func TestAdviceShape(t *testing.T) {
	checkpoints := []string{CheckpointCompliance, CheckpointStorage, CheckpointCompute, CheckpointStability}
	for _, gc := range goldenCases() {
		for _, cloud := range Clouds() {
			t.Run(gc.name+"."+cloud, func(t *testing.T) {
				in := gc.in
				in.Config.Cloud = cloud
				for _, a := range Evaluate(in) {
					if a.Title == "" || strings.Contains(a.Title, "\n") {
						t.Errorf("title %q is not one line", a.Title)
					}
					if !slices.Contains(checkpoints, a.Checkpoint) {
						t.Errorf("checkpoint %q unknown", a.Checkpoint)
					}
					if !strings.HasPrefix(a.Markdown, "**cloudline: "+a.Title+"**\n") {
						t.Errorf("markdown does not open with the title: %q", a.Markdown)
					}
					main := strings.Split(strings.TrimSpace(strings.SplitN(a.Text, "  - ", 2)[0]), "\n")
					if len(main) < 5 || !strings.HasPrefix(main[len(main)-1], "Silence with `rules_off="+a.Rule+"`") {
						t.Errorf("text is not heading, measured, why, next[, docs], silence:\n%s", a.Text)
					}
					if !strings.Contains(a.Text, "checkpoint:") {
						t.Errorf("text does not name the checkpoint:\n%s", a.Text)
					}
					if len(a.Evidence) == 0 {
						t.Error("no evidence")
					}
				}
			})
		}
	}
}
