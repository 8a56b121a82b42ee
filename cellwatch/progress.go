package cellwatch

import (
	"math"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Progress and metric parsing of a cell's output text. Pure: the caller
// passes the cell's elapsed time with each chunk.

var (
	// 45%|████▌     | 450/1000 [01:02<01:15,  7.20it/s]
	tqdmRE = regexp.MustCompile(`(\d{1,3})%\|[^|]*\|\s*([\d.]+[kMGT]?)/([\d.]+[kMGT]?)\s*\[([\d:]+)<(\?|[\d:]+)`)
	// Epoch 3/100 (Keras prints it alone on a line when an epoch starts).
	kerasEpochRE = regexp.MustCompile(`^Epoch (\d+)/(\d+)$`)
	// Keras step bars: " 50/1875 [=>...] - ETA: 1:23" or " 50/1875 ━━━━ 1:23 45ms/step".
	kerasStepRE = regexp.MustCompile(`^(\d+)/(\d+) +(?:\[[=>.]*\]|[━─]+)`)
	// epoch 3/10, Epoch [3/10], step 40 of 100, iteration 5/100, batch: 7/50
	plainRE = regexp.MustCompile(`(?i)\b(epoch|step|iter|iteration|batch)s?\b\s*[:#]?\s*[\[(]?\s*(\d+)\s*(?:/|of)\s*(\d+)`)
	// accuracy=0.93, loss: 0.12, val_acc 0.88, test f1 = 0.7
	metricRE = regexp.MustCompile(`(?i)\b((?:val|valid|train|test|eval)[_ ])?(loss|acc|accuracy|f1|f1_score|auc|roc_auc|rmse|mse|mae|r2|precision|recall)\b\s*[:=]?\s*(-?\d+(?:\.\d*)?(?:[eE][-+]?\d+)?)`)
)

// maxSegments bounds the work per output chunk: only its last segments
// (lines and \r-separated updates) are parsed.
const maxSegments = 200

// maxTail bounds the text parsed per output chunk: its last 64 kB.
const maxTail = 64 << 10

// outputParser follows one cell's output. Not safe for concurrent use.
type outputParser struct {
	epoch, epochs int // from a Keras "Epoch N/M" line; 0 = none yet
	bars          map[string]Progress
	best          *Progress
	metrics       map[string]float64
}

// feed parses one chunk of output text seen at cell time elapsed. It
// reports whether the progress or the metrics changed.
func (p *outputParser) feed(text string, elapsed time.Duration) bool {
	if len(text) > maxTail {
		text = text[len(text)-maxTail:] // a flood of output: its end says most
	}
	segs := splitSegments(text)
	if len(segs) > maxSegments {
		segs = segs[len(segs)-maxSegments:]
	}
	changed := false
	for _, s := range segs {
		if pr, key, ok := p.parseLine(s, elapsed); ok {
			p.note(key, pr)
			changed = true
		}
		if p.parseMetrics(s) {
			changed = true
		}
	}
	return changed
}

// ansiRE matches terminal escape sequences (Keras 3 colours its bars).
var ansiRE = regexp.MustCompile(`\x1b\[[0-9;?]*[A-Za-z]`)

// splitSegments splits on \n, \r and \b (Keras 2 rewinds with
// backspaces), drops colour codes and trims; empty segments are dropped.
func splitSegments(text string) []string {
	if strings.IndexByte(text, 0x1b) >= 0 {
		text = ansiRE.ReplaceAllString(text, "")
	}
	f := strings.FieldsFunc(text, func(r rune) bool { return r == '\n' || r == '\r' || r == '\b' })
	out := f[:0]
	for _, s := range f {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}

// parseLine recognises one progress line. key tells bars apart so nested
// tqdm bars (epochs outside, batches inside) do not overwrite each other.
func (p *outputParser) parseLine(s string, elapsed time.Duration) (Progress, string, bool) {
	// Every progress form has a "N/M", "N of M" or a tqdm "%|": most output
	// lines have none and skip the regular expressions.
	if strings.IndexByte(s, '/') < 0 && !strings.Contains(s, "%|") && !containsFold(s, " of ") {
		return Progress{}, "", false
	}
	line := s
	if len(line) > 200 {
		line = line[:200]
	}
	if m := tqdmRE.FindStringSubmatch(s); m != nil {
		n, okN := unitNumber(m[2])
		total, okT := unitNumber(m[3])
		var frac float64
		if okN && okT && total > 0 {
			frac = n / total
		} else {
			pct, _ := strconv.Atoi(m[1])
			frac = float64(pct) / 100
		}
		pr := Progress{Fraction: clamp01(frac), Elapsed: elapsed, Source: "tqdm", Line: line}
		if rem, ok := parseClock(m[5]); ok {
			pr.Projected = elapsed + rem
		} else {
			pr.Projected = project(elapsed, pr.Fraction)
		}
		return pr, "tqdm/" + m[3], true
	}
	if m := kerasEpochRE.FindStringSubmatch(s); m != nil {
		p.epoch, _ = strconv.Atoi(m[1])
		p.epochs, _ = strconv.Atoi(m[2])
		if p.epochs <= 0 {
			return Progress{}, "", false
		}
		return p.keras(float64(p.epoch-1)/float64(p.epochs), elapsed, line), "keras", true
	}
	if m := kerasStepRE.FindStringSubmatch(s); m != nil && p.epochs > 0 {
		step, _ := strconv.Atoi(m[1])
		steps, _ := strconv.Atoi(m[2])
		if steps <= 0 {
			return Progress{}, "", false
		}
		frac := (float64(p.epoch-1) + float64(step)/float64(steps)) / float64(p.epochs)
		return p.keras(frac, elapsed, line), "keras", true
	}
	if m := plainRE.FindStringSubmatch(s); m != nil {
		n, _ := strconv.Atoi(m[2])
		total, _ := strconv.Atoi(m[3])
		if total <= 0 || n > total {
			return Progress{}, "", false
		}
		src := "step"
		if strings.EqualFold(m[1], "epoch") {
			src = "epoch"
		}
		frac := float64(n) / float64(total)
		return Progress{Fraction: frac, Elapsed: elapsed, Projected: project(elapsed, frac), Source: src, Line: line}, src, true
	}
	return Progress{}, "", false
}

func (p *outputParser) keras(frac float64, elapsed time.Duration, line string) Progress {
	frac = clamp01(frac)
	return Progress{Fraction: frac, Elapsed: elapsed, Projected: project(elapsed, frac), Source: "keras", Line: line}
}

// note keeps the latest progress of each bar and reports the one that
// projects the longest run: with nested bars that is the outer one.
func (p *outputParser) note(key string, pr Progress) {
	if p.bars == nil {
		p.bars = map[string]Progress{}
	}
	if _, ok := p.bars[key]; !ok && len(p.bars) >= 16 {
		return
	}
	p.bars[key] = pr
	var best Progress
	for _, b := range p.bars {
		if b.Projected > best.Projected || best.Source == "" {
			best = b
		}
	}
	p.best = &best
}

// progress returns the current progress, or nil.
func (p *outputParser) progress() *Progress {
	if p.best == nil {
		return nil
	}
	c := *p.best
	return &c
}

// parseMetrics records every name=value metric in s.
func (p *outputParser) parseMetrics(s string) bool {
	if !maybeMetric(s) {
		return false
	}
	ms := metricRE.FindAllStringSubmatch(s, -1)
	for _, m := range ms {
		v, err := strconv.ParseFloat(m[3], 64)
		if err != nil {
			continue
		}
		name := strings.ToLower(strings.ReplaceAll(m[1], " ", "_") + m[2])
		if p.metrics == nil {
			p.metrics = map[string]float64{}
		}
		p.metrics[name] = v
	}
	return len(ms) > 0
}

// project is elapsed / fraction, or 0 when nothing is done yet.
func project(elapsed time.Duration, frac float64) time.Duration {
	if frac <= 0 {
		return 0
	}
	if p := float64(elapsed) / frac; p < math.MaxInt64 {
		return time.Duration(p)
	}
	return math.MaxInt64 // a bar at 1e-300 %: saturate, never wrap negative
}

func clamp01(f float64) float64 { return max(0, min(1, f)) }

// unitNumber parses tqdm's unit-scaled counts: "450", "4.50k", "1.2M".
func unitNumber(s string) (float64, bool) {
	mult := 1.0
	if n := len(s); n > 0 {
		switch s[n-1] {
		case 'k':
			mult = 1e3
		case 'M':
			mult = 1e6
		case 'G':
			mult = 1e9
		case 'T':
			mult = 1e12
		}
		if mult != 1 {
			s = s[:n-1]
		}
	}
	v, err := strconv.ParseFloat(s, 64)
	return v * mult, err == nil
}

// parseClock parses tqdm's intervals "MM:SS" and "H:MM:SS".
func parseClock(s string) (time.Duration, bool) {
	parts := strings.Split(s, ":")
	if len(parts) < 2 || len(parts) > 3 {
		return 0, false
	}
	var secs int
	for _, p := range parts {
		n, err := strconv.Atoi(p)
		if err != nil || n < 0 || n > maxClockPart {
			return 0, false
		}
		secs = secs*60 + n
	}
	return time.Duration(secs) * time.Second, true
}

// maxClockPart bounds each part of a clock, so "H:MM:SS" cannot overflow
// a Duration (tqdm writes hours beyond 99 as they come: 1000 hours fit).
const maxClockPart = 1_000_000

// secs converts float seconds to a Duration.
func secs(s float64) time.Duration { return time.Duration(s * float64(time.Second)) }

// metricWords are substrings every metric name matched by metricRE holds.
var metricWords = []string{"loss", "acc", "f1", "auc", "mse", "mae", "r2", "precision", "recall"}

// maybeMetric is a cheap filter before metricRE: a digit and a metric word.
func maybeMetric(s string) bool {
	if strings.IndexAny(s, "0123456789") < 0 {
		return false
	}
	for _, w := range metricWords {
		if containsFold(s, w) {
			return true
		}
	}
	return false
}

// containsFold is a case-insensitive strings.Contains for an ASCII needle.
func containsFold(s, needle string) bool {
	for i := 0; i+len(needle) <= len(s); i++ {
		if strings.EqualFold(s[i:i+len(needle)], needle) {
			return true
		}
	}
	return false
}
