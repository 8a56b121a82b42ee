package advisor

import (
	"math"
	"testing"
	"time"

	"github.com/cloudline/cloudline/cellwatch"
	"github.com/cloudline/cloudline/kernelspec"
)

func TestStableModel(t *testing.T) {
	cur := with(quick(), func(r *cellwatch.Record) { r.Metrics = map[string]float64{"accuracy": 0.915, "loss": 0.2} })
	setStatus := func(past []cellwatch.Record, i int, s cellwatch.Status) []cellwatch.Record {
		past[i].Status = s
		return past
	}
	runs := func(n int) kernelspec.Config { return config(func(c *kernelspec.Config) { c.StableRuns = n }) }
	fire := []string{RuleStableModel}
	runEvalCases(t, []evalCase{
		{name: "steady over three runs", phase: CellEnd, rec: cur, past: pastRuns(0.91, 0.912), want: fire},
		{name: "not enough runs", phase: CellEnd, rec: cur, past: pastRuns(0.91)},
		{name: "older unsteady runs do not count", phase: CellEnd, rec: cur, past: pastRuns(0.5, 0.91, 0.912), want: fire},
		{name: "drift over 2 %", phase: CellEnd, rec: cur, past: pastRuns(0.85, 0.912)},
		{name: "error in a run", phase: CellEnd, rec: cur, past: setStatus(pastRuns(0.91, 0.912), 0, cellwatch.StatusError)},
		{name: "interrupted run", phase: CellEnd, rec: cur, past: setStatus(pastRuns(0.91, 0.912), 1, cellwatch.StatusInterrupted)},
		{name: "current cell failed", phase: CellEnd, rec: with(cur, func(r *cellwatch.Record) { r.Status = cellwatch.StatusError }),
			past: pastRuns(0.91, 0.912)},
		{name: "stable_runs 2", phase: CellEnd, rec: cur, past: pastRuns(0.3, 0.912), cfg: runs(2), want: fire},
		{name: "stable_runs 1 still needs two runs", phase: CellEnd, rec: cur, cfg: runs(1)},
		{name: "only at cell end", phase: Live, rec: with(cur, func(r *cellwatch.Record) { r.Status = cellwatch.StatusRunning }),
			past: pastRuns(0.91, 0.912), after: time.Second},
		{name: "other notebook's runs ignored", phase: CellEnd, rec: cur, past: func() []cellwatch.Record {
			p := pastRuns(0.91, 0.912)
			p[0].Notebook = "other.ipynb"
			return p
		}()},
		{name: "no shared metric", phase: CellEnd, rec: with(cur, func(r *cellwatch.Record) {
			r.Metrics = map[string]float64{"f1": 0.8}
		}), past: pastRuns(0.91, 0.912)},
		{name: "run without metrics", phase: CellEnd, rec: cur, past: func() []cellwatch.Record {
			p := pastRuns(0.91, 0.912)
			p[1].Metrics = nil
			return p
		}()},
		{name: "error earlier in the current run", phase: CellEnd, rec: cur, past: append(pastRuns(0.91, 0.912),
			with(quick(), func(r *cellwatch.Record) { r.MsgID, r.Status = "m0", cellwatch.StatusError }))},
		{name: "extra metric earlier in the current run", phase: CellEnd, rec: cur, past: append(pastRuns(0.91, 0.912),
			with(quick(), func(r *cellwatch.Record) { r.MsgID, r.Metrics = "m0", map[string]float64{"auc": 0.7} })), want: fire},
		{name: "current record also in past", phase: CellEnd, rec: cur, past: append(pastRuns(0.91, 0.912), cur), want: fire},
	})
}

func TestJudgeStableLastValueWins(t *testing.T) {
	past := pastRuns(0.91, 0.912)
	// An earlier epoch of the newest past run printed a far lower accuracy.
	early := past[1]
	early.MsgID, early.Metrics = "early", map[string]float64{"accuracy": 0.2, "loss": 0.2}
	past = []cellwatch.Record{past[0], early, past[1]}
	cur := with(quick(), func(r *cellwatch.Record) { r.Metrics = map[string]float64{"accuracy": 0.915, "loss": 0.2} })
	st, ok := judgeStable(cur, past, 3)
	if !ok {
		t.Fatal("not judged stable")
	}
	if got := st.metrics[0].values; len(got) != 3 || got[1] != 0.912 {
		t.Errorf("accuracy values = %v, want the last value of each run", got)
	}
}

func TestSpreadOf(t *testing.T) {
	tests := []struct {
		name   string
		values []float64
		spread float64
		ok     bool
	}{
		{"equal", []float64{0.5, 0.5}, 0, true},
		{"zeros", []float64{0, 0, 0}, 0, true},
		{"around zero", []float64{-0.1, 0.1}, math.Inf(1), true},
		{"two percent", []float64{0.98, 1.02}, 0.02, true},
		{"negative mean", []float64{-1.02, -0.98}, 0.02, true},
		{"nan", []float64{1, math.NaN()}, 0, false},
		{"inf", []float64{1, math.Inf(1)}, 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, spread, ok := spreadOf(tt.values)
			if ok != tt.ok || (ok && math.Abs(spread-tt.spread) > 1e-9 && !(math.IsInf(spread, 1) && math.IsInf(tt.spread, 1))) {
				t.Errorf("spreadOf(%v) = %v, %v; want %v, %v", tt.values, spread, ok, tt.spread, tt.ok)
			}
		})
	}
}
