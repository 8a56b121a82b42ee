package advisor

import (
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"

	"github.com/cloudline/cloudline/cellwatch"
)

const (
	// stableSpread is how far (relative to their mean) a metric's values
	// over the last runs may stray and still count as steady.
	stableSpread = 0.02
	// minStableRuns is the fewest runs stability can be judged on.
	minStableRuns = 2
	// listedMetrics bounds how many metrics the advice names.
	listedMetrics = 4
)

var stableModelRule = rule{
	id:         RuleStableModel,
	checkpoint: CheckpointStability,
	phases:     []Phase{CellEnd},
	keys:       []string{"stable_runs"},
	service:    forServing,
	why:        "Stability checkpoint: consistent model quality and a pipeline that runs smoothly mark the point to move training and serving to the cloud.",
	todo: func(v vendor) string {
		return fmt.Sprintf("Move training to %s and serve the model from %s.", v.Training, v.Serving)
	},
	detect: func(in Input) (finding, bool) {
		rec := in.Record
		if len(rec.Metrics) == 0 || rec.Status != cellwatch.StatusOK {
			return finding{}, false
		}
		n := max(in.Config.StableRuns, minStableRuns)
		st, ok := judgeStable(rec, sameNotebook(rec, in.Past), n)
		if !ok {
			return finding{}, false
		}
		return finding{
			title: fmt.Sprintf("The model's metrics have been steady for the last %d runs (stable_runs=%s)", n, limitOf(in.Config, "stable_runs", strconv.Itoa(n))),
			measured: func(s style) string {
				var parts []string
				for i, m := range st.metrics {
					if i == listedMetrics {
						break
					}
					parts = append(parts, fmt.Sprintf("%s %s to %s (within %s)",
						s.code(m.name), formatValue(m.low), formatValue(m.high), FormatPercent(m.spread)))
				}
				return fmt.Sprintf("The last %s of this notebook finished without errors and reported steady metrics: %s.",
					s.strong(strconv.Itoa(n)+" runs"), strings.Join(parts, ", "))
			},
			evidence: st.evidence(n),
		}, true
	},
}

// steadyMetric is one metric's values over the judged runs.
type steadyMetric struct {
	name      string
	values    []float64 // oldest run first
	low, high float64
	spread    float64 // largest distance from the mean, relative to it
}

type stability struct{ metrics []steadyMetric }

func (st stability) evidence(runs int) map[string]any {
	values := map[string][]float64{}
	spread := 0.0
	for _, m := range st.metrics {
		values[m.name] = m.values
		spread = max(spread, m.spread)
	}
	return map[string]any{"runs": runs, "metrics": values, "max_spread": spread, "threshold": stableSpread}
}

// run is one kernel run (Session) of the notebook.
type run struct {
	metrics map[string]float64 // last value of each metric in the run
	failed  bool
}

// judgeStable groups the notebook's records by Session (the current
// record's run last) and reports whether the last n runs all reported
// metrics, none failed, and every metric they share stayed within
// stableSpread of its mean.
func judgeStable(cur cellwatch.Record, past []cellwatch.Record, n int) (stability, bool) {
	var order []string
	runs := map[string]*run{}
	add := func(r cellwatch.Record) {
		g, ok := runs[r.Session]
		if !ok {
			g = &run{metrics: map[string]float64{}}
			runs[r.Session] = g
			order = append(order, r.Session)
		}
		switch r.Status {
		case cellwatch.StatusError, cellwatch.StatusAborted, cellwatch.StatusInterrupted, cellwatch.StatusKernelDied:
			g.failed = true
		}
		for k, v := range r.Metrics {
			g.metrics[k] = v
		}
	}
	for _, r := range past {
		if r.Notebook != cur.Notebook || (r.Session == cur.Session && r.MsgID == cur.MsgID) {
			continue
		}
		add(r)
	}
	add(cur)
	// The current run is the newest, wherever its first record sits.
	for i, s := range order {
		if s == cur.Session {
			order = append(append(order[:i:i], order[i+1:]...), s)
			break
		}
	}
	if len(order) < n {
		return stability{}, false
	}
	last := order[len(order)-n:]
	shared := map[string]bool{}
	for k := range runs[cur.Session].metrics {
		shared[k] = true
	}
	for _, s := range last {
		g := runs[s]
		if g.failed || len(g.metrics) == 0 {
			return stability{}, false
		}
		for k := range shared {
			if _, ok := g.metrics[k]; !ok {
				delete(shared, k)
			}
		}
	}
	if len(shared) == 0 {
		return stability{}, false
	}
	var st stability
	for k := range shared {
		m := steadyMetric{name: k}
		for _, s := range last {
			m.values = append(m.values, runs[s].metrics[k])
		}
		var ok bool
		if m.low, m.high, m.spread, ok = spreadOf(m.values); !ok || m.spread > stableSpread {
			return stability{}, false
		}
		st.metrics = append(st.metrics, m)
	}
	sort.Slice(st.metrics, func(i, j int) bool { return st.metrics[i].name < st.metrics[j].name })
	return st, true
}

// spreadOf returns the range of values and the largest distance from their
// mean relative to the mean; ok is false for NaN or infinite values.
func spreadOf(values []float64) (low, high, spread float64, ok bool) {
	low, high = math.Inf(1), math.Inf(-1)
	sum := 0.0
	for _, v := range values {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return 0, 0, 0, false
		}
		low, high, sum = min(low, v), max(high, v), sum+v
	}
	mean := sum / float64(len(values))
	dev := max(high-mean, mean-low)
	switch {
	case dev == 0:
		return low, high, 0, true
	case mean == 0:
		return low, high, math.Inf(1), true
	}
	return low, high, dev / math.Abs(mean), true
}

func formatValue(v float64) string { return strconv.FormatFloat(v, 'g', 4, 64) }

var localServingRule = rule{
	id:         RuleLocalServing,
	checkpoint: CheckpointStability,
	phases:     []Phase{CellEnd},
	service:    forServing,
	why:        "Stability checkpoint: a model served from localhost reaches no one but this machine; serving users needs production infrastructure.",
	todo: func(v vendor) string {
		return fmt.Sprintf("Deploy the model to %s.", v.Serving)
	},
	detect: func(in Input) (finding, bool) {
		rec := in.Record
		ports := uniquePorts(rec.ListenPorts)
		if len(ports) == 0 || !servesModels(rec.Code, ports) {
			return finding{}, false
		}
		list := make([]string, len(ports))
		subjects := make([]string, len(ports))
		for i, p := range ports {
			list[i] = strconv.Itoa(p)
			subjects[i] = "port:" + list[i]
		}
		what := "port " + list[0]
		if len(list) > 1 {
			what = "ports " + strings.Join(list, ", ")
		}
		return finding{
			title:    "A model server is listening on localhost " + what,
			subjects: subjects,
			measured: func(s style) string {
				return fmt.Sprintf("A process of this kernel listens on TCP %s (still listening when %s ended).",
					s.strong(what), s.cell(rec))
			},
			evidence: map[string]any{"ports": ports},
		}, true
	},
}

func uniquePorts(ports []int) []int {
	var out []int
	for _, p := range ports {
		if p > 0 {
			out = append(out, p)
		}
	}
	sort.Ints(out)
	k := 0
	for i, p := range out {
		if i == 0 || p != out[k-1] {
			out[k] = p
			k++
		}
	}
	return out[:k]
}
