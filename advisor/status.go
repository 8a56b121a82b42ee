package advisor

import (
	"strings"
	"time"

	"github.com/cloudline/cloudline/cellwatch"
	"github.com/cloudline/cloudline/kernelspec"
)

// endWords says how a cell ended, for the final status line.
var endWords = map[cellwatch.Status]string{
	cellwatch.StatusOK:          "finished in",
	cellwatch.StatusError:       "failed after",
	cellwatch.StatusAborted:     "aborted after",
	cellwatch.StatusInterrupted: "interrupted after",
	cellwatch.StatusKernelDied:  "kernel died after",
}

// Status renders the live status line of a running cell (elapsed time,
// peak memory against the limit, data read, GPU memory, projected finish
// when progress is known), or its final form once rec.Status is no longer
// running. It is one line in both forms. The caller decides when to show
// it (cells past Config.LiveAfter) and how often to update it.
func Status(rec cellwatch.Record, cfg kernelspec.Config, now time.Time) (markdown, text string) {
	md, tx := statusBody(rec, cfg, now)
	return "**cloudline** · " + md, "cloudline · " + tx
}

// statusBody is the status line without its "cloudline" prefix: the last
// line of a note.
func statusBody(rec cellwatch.Record, cfg kernelspec.Config, now time.Time) (markdown, text string) {
	var md, tx []string
	add := func(m, t string) { md, tx = append(md, m), append(tx, t) }

	d := elapsed(rec, now)
	if rec.Status == cellwatch.StatusRunning {
		add("running for **"+FormatDuration(d)+"**", "running for "+FormatDuration(d))
	} else {
		word, ok := endWords[rec.Status]
		if !ok {
			word = "ended after"
		}
		add(word+" **"+FormatDuration(d)+"**", word+" "+FormatDuration(d))
	}
	if peak := rec.Peak(); peak > 0 {
		s := "peak memory " + formatShare(peak, rec.Machine.MemLimit)
		add(s, s)
	}
	if rec.ReadBytes > 0 {
		s := "read " + FormatBytes(rec.ReadBytes)
		add(s, s)
	}
	if g := rec.GPU; g != nil && g.MemTotal > 0 {
		s := "GPU memory " + formatShare(g.MemUsed, g.MemTotal)
		add(s, s)
	}
	if p := rec.Progress; p != nil && rec.Status == cellwatch.StatusRunning {
		if s := progressPhrase(p, d, cfg); s != "" {
			add(s, s)
		}
	}
	return strings.Join(md, " · "), strings.Join(tx, " · ")
}

// progressPhrase is "about 1h 10m left (1h 22m in total)" once the
// projection is steady, "15 % done" before.
func progressPhrase(p *cellwatch.Progress, d time.Duration, cfg kernelspec.Config) string {
	total := projection(p)
	switch {
	case total > 0 && steady(p, cfg.TrainingTime):
		return "about " + FormatDuration(max(total-d, 0)) + " left (" + FormatDuration(total) + " in total)"
	case p.Fraction > 0:
		return FormatPercent(p.Fraction) + " done"
	}
	return ""
}
