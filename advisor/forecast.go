package advisor

import (
	"fmt"
	"time"

	"github.com/cloudline/cloudline/cellwatch"
)

// The last run as a forecast: a cell that starts again after a long run
// of the same cell (same cell id, or the same code) gets projected-training
// at once, before any progress bar has printed.

// lastRun returns the most recent finished run of in.Record's cell in
// in.Past: same notebook, and the same cell id when both have one, else
// the same code.
func lastRun(in Input) (cellwatch.Record, bool) {
	rec := in.Record
	for i := len(in.Past) - 1; i >= 0; i-- {
		p := in.Past[i]
		if p.MsgID == rec.MsgID || p.Notebook != rec.Notebook || p.Status == cellwatch.StatusRunning {
			continue
		}
		same := p.CodeHash != "" && p.CodeHash == rec.CodeHash
		if p.CellID != "" && rec.CellID != "" {
			same = same || p.CellID == rec.CellID
		}
		if same {
			return p, true
		}
	}
	return cellwatch.Record{}, false
}

// runTime is how long a past run took, or was on course to take when it
// was cut short (its progress bar's projection).
func runTime(r cellwatch.Record) time.Duration {
	d := r.Wall
	if r.Progress != nil && r.Status != cellwatch.StatusOK {
		d = max(d, projection(r.Progress))
	}
	return d
}

// forecast is projected-training at a cell's start, from its last run.
func forecast(in Input) (finding, bool) {
	rec, limit := in.Record, in.Config.TrainingTime
	last, ok := lastRun(in)
	if !ok || limit <= 0 {
		return finding{}, false
	}
	took := runTime(last)
	if took < limit {
		return finding{}, false
	}
	verb := "took"
	if last.Status != cellwatch.StatusOK {
		verb = "was on course to take"
	}
	when := last.Ended
	if when.IsZero() {
		when = last.Requested
	}
	ago := agoText(in.Now.Sub(when))
	return finding{
		title: fmt.Sprintf("This cell %s %s on its last run (%s), past the %s limit", verb, FormatDuration(took), ago, trainingLimit(in.Config)),
		measured: func(s style) string {
			return fmt.Sprintf("%s %s %s when it last ran (%s), past the training threshold of %s; it has started again.",
				capital(s.cell(rec)), verb, s.strong(FormatDuration(took)), ago, trainingLimit(in.Config))
		},
		evidence: map[string]any{
			"last_run_s": seconds(took), "last_run_status": string(last.Status), "last_run_ago_s": seconds(in.Now.Sub(when)),
			"threshold_s": seconds(limit), "source": "history",
		},
	}, true
}

// agoText is how long ago something was, in words: "just now",
// "5 minutes ago", "3 hours ago", "2 days ago".
func agoText(d time.Duration) string {
	unit := func(n int64, one string) string {
		if n == 1 {
			return "1 " + one + " ago"
		}
		return fmt.Sprintf("%d %ss ago", n, one)
	}
	switch {
	case d < time.Minute:
		return "just now"
	case d < time.Hour:
		return unit(int64(d/time.Minute), "minute")
	case d < 48*time.Hour:
		return unit(int64(d/time.Hour), "hour")
	}
	return unit(int64(d/(24*time.Hour)), "day")
}
