package report

import (
	"fmt"
	"strings"

	"github.com/cloudline/cloudline/cellwatch"
	"github.com/cloudline/cloudline/human"
)

// Chart geometry, in SVG user units. The chart scales to the page width.
const (
	chartWidth = 960
	plotLeft   = 128
	plotRight  = 16
	plotWidth  = chartWidth - plotLeft - plotRight
)

// lane is one horizontal band of the timeline.
type lane struct {
	Label  string
	Max    string // value at the top of the band
	Y, H   float64
	Bottom float64 // Y + H, the baseline
}

// bar is one rectangle with its tooltip.
type bar struct {
	X, Y, W, H string
	Class      string
	Title      string
}

// mark is the advice marker of one cell: a diamond in the advice lane and a
// guide line down through the other lanes.
type mark struct {
	Path   string // the diamond
	X      string
	Y1, Y2 string
	Class  string
	Title  string
}

// runLine marks where a new kernel run (session) of the notebook starts.
type runLine struct {
	X     string
	Label string
	Y1    string
	Y2    string
}

// chart is the SVG timeline of one notebook's cells.
type chart struct {
	Width, Height int
	Left, Right   int
	PlotWidth     int
	Lanes         []lane
	Bars          []bar
	Marks         []mark
	Runs          []runLine
	HasLimit      bool
	LimitY        string
	LimitLabel    string
	FirstCell     string
	LastCell      string
	AxisY         float64
	Summary       string // text alternative for screen readers
}

func buildChart(recs []cellwatch.Record, cells []cellView, limit uint64) chart {
	advice := lane{Label: "advice", Y: 8, H: 22}
	dur := lane{Label: "duration", Y: 40, H: 96}
	mem := lane{Label: "peak memory", Y: 148, H: 72}
	read := lane{Label: "data read", Y: 232, H: 56}
	c := chart{Width: chartWidth, Left: plotLeft, Right: chartWidth - plotRight, PlotWidth: plotWidth, AxisY: 304, Height: 312}

	var maxWall float64
	var maxPeak, maxRead uint64
	for _, r := range recs {
		maxWall = max(maxWall, wallSeconds(r))
		maxPeak = max(maxPeak, r.Peak())
		maxRead = max(maxRead, r.ReadBytes)
	}
	memTop := max(maxPeak, limit)
	dur.Max = human.Seconds(maxWall)
	mem.Max = human.Bytes(memTop)
	read.Max = human.Bytes(maxRead)

	n := len(recs)
	step := float64(plotWidth) / float64(max(n, 1))
	width := max(step*0.75, 1)
	if step > 40 {
		width = 30 // a few cells: keep the bars slim
	}
	for i, r := range recs {
		cv := cells[i]
		x := float64(plotLeft) + float64(i)*step + (step-width)/2
		tip := cellTitle(cv)
		c.Bars = append(c.Bars,
			barIn(dur, x, width, ratio(wallSeconds(r), maxWall), "bar-dur status-"+cv.Status, tip),
			barIn(mem, x, width, ratio(float64(r.Peak()), float64(memTop)), memClass(r.Peak(), limit), tip),
			barIn(read, x, width, ratio(float64(r.ReadBytes), float64(maxRead)), "bar-read", tip),
		)
		if i == 0 || cv.Run != cells[i-1].Run {
			c.Runs = append(c.Runs, runLine{
				X: num(float64(plotLeft) + float64(i)*step), Label: fmt.Sprintf("run %d", cv.Run),
				Y1: num(dur.Y - 4), Y2: num(read.Y + read.H),
			})
		}
		if len(cv.Advice) == 0 {
			continue
		}
		cx := x + width/2
		cy := advice.Y + advice.H/2
		ids := make([]string, len(cv.Advice))
		for j, a := range cv.Advice {
			ids[j] = a.ID
		}
		c.Marks = append(c.Marks, mark{
			Path:  fmt.Sprintf("M%s %sL%s %sL%s %sL%s %sZ", num(cx), num(cy-8), num(cx+7), num(cy), num(cx), num(cy+8), num(cx-7), num(cy)),
			X:     num(cx),
			Y1:    num(advice.Y + advice.H),
			Y2:    num(read.Y + read.H),
			Class: "cp-" + markCheckpoint(cv.Advice),
			Title: fmt.Sprintf("cell %d: %s", cv.N, strings.Join(ids, ", ")),
		})
	}
	if limit > 0 {
		c.HasLimit = true
		c.LimitY = num(mem.Y + mem.H*(1-ratio(float64(limit), float64(memTop))))
		c.LimitLabel = "limit " + human.Bytes(limit)
	}
	if n > 0 {
		c.FirstCell = fmt.Sprintf("cell %d", cells[0].N)
		c.LastCell = fmt.Sprintf("cell %d", cells[n-1].N)
	}
	for _, l := range []*lane{&advice, &dur, &mem, &read} {
		l.Bottom = l.Y + l.H
		c.Lanes = append(c.Lanes, *l)
	}
	c.Summary = fmt.Sprintf("Timeline of %d cells: longest %s, highest peak memory %s of %s limit, most data read %s, %d with advice.",
		n, dur.Max, human.Bytes(maxPeak), human.Bytes(limit), read.Max, len(c.Marks))
	return c
}

// barIn places a bar of the given height ratio on the lane's baseline. A
// non-zero value gets at least one unit of height so it stays visible.
func barIn(l lane, x, w, r float64, class, title string) bar {
	h := l.H * r
	if r > 0 && h < 1 {
		h = 1
	}
	return bar{X: num(x), Y: num(l.Y + l.H - h), W: num(w), H: num(h), Class: class, Title: title}
}

func ratio(v, top float64) float64 {
	if top <= 0 || v <= 0 {
		return 0
	}
	return min(v/top, 1)
}

func memClass(peak, limit uint64) string {
	switch r := ratio(float64(peak), float64(limit)); {
	case r >= 0.8:
		return "bar-mem mem-high"
	case r >= 0.5:
		return "bar-mem mem-warn"
	default:
		return "bar-mem"
	}
}

// markCheckpoint picks the checkpoint that colours a cell's marker: the
// first of the cell's advice that belongs to a known checkpoint.
func markCheckpoint(advice []ruleView) string {
	for _, a := range advice {
		if a.Checkpoint != "" {
			return a.Checkpoint
		}
	}
	return "other"
}

func cellTitle(cv cellView) string {
	t := fmt.Sprintf("cell %d (run %d, %s): %s\n%s, peak %s, read %s", cv.N, cv.Run, cv.Status, cv.FirstLine, cv.Wall, cv.Peak, cv.Read)
	if len(cv.Advice) > 0 {
		ids := make([]string, len(cv.Advice))
		for i, a := range cv.Advice {
			ids[i] = a.ID
		}
		t += "\nadvice: " + strings.Join(ids, ", ")
	}
	return t
}

// num formats a coordinate compactly.
func num(v float64) string {
	s := fmt.Sprintf("%.1f", v)
	return strings.TrimSuffix(s, ".0")
}
