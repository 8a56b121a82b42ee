// Package report renders cloudline's cell history as one self-contained HTML
// page: per notebook, a timeline of its cells (duration, peak memory against
// the limit, data read) with the advice marked on it, and a summary of which
// of the article's checkpoints the work has reached.
//
// It owns the layout and the wording of the page; reading the history file
// is left to cellwatch and choosing what to render to the caller. The output
// has no scripts and loads nothing: styles and charts (SVG) are inline.
package report

import (
	"cmp"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"time"

	"github.com/cloudline/cloudline/cellwatch"
	"github.com/cloudline/cloudline/human"
)

// ErrNoCells is returned by Render when no finished cell is left to show.
var ErrNoCells = errors.New("no finished cells in the history")

// DefaultMaxCells is how many of a notebook's most recent cells are charted
// when Options.MaxCells is zero.
const DefaultMaxCells = 300

// Options configures a page. The zero value works.
type Options struct {
	Title     string    // page heading; "" means "cloudline report"
	Generated time.Time // shown in the header; zero leaves it out
	Source    string    // where the records came from, shown as given; "" leaves it out
	MaxCells  int       // per notebook, the most recent cells charted; 0 means DefaultMaxCells
}

// Render writes the page for records to w. Records still running (live
// snapshots) are skipped. It returns ErrNoCells when nothing is left.
func Render(w io.Writer, records []cellwatch.Record, opt Options) error {
	p, err := buildPage(records, opt)
	if err != nil {
		return err
	}
	if err := pageTemplate.Execute(w, p); err != nil {
		return fmt.Errorf("render report: %w", err)
	}
	return nil
}

// page is everything the template shows.
type page struct {
	Title       string
	Generated   string
	Source      string
	Cells       int
	Notebooks   []notebook
	Checkpoints []checkpointView
}

// notebook is one notebook's section.
type notebook struct {
	Name        string // base name of the notebook's path
	Path        string // the full name, when it is more than Name
	Anchor      string
	Cells       int // all finished cells in the history
	Shown       int // cells charted (the most recent Shown)
	Runs        int
	From, To    string
	TotalWall   string
	PeakMemory  string
	MemLimit    string
	DataRead    string
	Reached     []checkpointView // checkpoints this notebook reached, in article order
	Chart       chart
	AdviceCells []cellView // charted cells that got advice
}

// cellView is one cell as the table and tooltips show it.
type cellView struct {
	N         int // 1-based position in the notebook's history
	Run       int
	FirstLine string
	Status    string
	When      string
	Wall      string
	Peak      string
	Read      string
	Advice    []ruleView
}

type ruleView struct {
	ID         string
	Checkpoint string // "" when the rule is not one of ours
}

func buildPage(records []cellwatch.Record, opt Options) (page, error) {
	maxCells := opt.MaxCells
	if maxCells <= 0 {
		maxCells = DefaultMaxCells
	}
	byNotebook := map[string][]cellwatch.Record{}
	total := 0
	for _, r := range records {
		if r.Status == cellwatch.StatusRunning {
			continue
		}
		byNotebook[r.Notebook] = append(byNotebook[r.Notebook], r)
		total++
	}
	if total == 0 {
		return page{}, ErrNoCells
	}
	names := make([]string, 0, len(byNotebook))
	for name := range byNotebook {
		names = append(names, name)
	}
	slices.SortFunc(names, func(a, b string) int {
		// Named notebooks first, by name; the unnamed one last.
		if (a == "") != (b == "") {
			if a == "" {
				return 1
			}
			return -1
		}
		return cmp.Compare(a, b)
	})

	p := page{
		Title:  cmp.Or(opt.Title, "cloudline report"),
		Source: opt.Source,
		Cells:  total,
	}
	if !opt.Generated.IsZero() {
		p.Generated = opt.Generated.UTC().Format("2006-01-02 15:04 MST")
	}
	reachedBy := map[string][]string{} // checkpoint id -> notebook names
	rulesSeen := map[string]map[string]int{}
	for i, name := range names {
		nb := buildNotebook(name, i, byNotebook[name], maxCells)
		for _, c := range nb.Reached {
			if !slices.Contains(reachedBy[c.ID], nb.Name) {
				reachedBy[c.ID] = append(reachedBy[c.ID], nb.Name)
			}
		}
		for _, r := range byNotebook[name] {
			for _, id := range r.Advice {
				cp := checkpointOf(id)
				if rulesSeen[cp] == nil {
					rulesSeen[cp] = map[string]int{}
				}
				rulesSeen[cp][id]++
			}
		}
		p.Notebooks = append(p.Notebooks, nb)
	}
	for _, c := range checkpoints {
		p.Checkpoints = append(p.Checkpoints, summarize(c, reachedBy[c.ID], rulesSeen[c.ID]))
	}
	return p, nil
}

func buildNotebook(name string, index int, recs []cellwatch.Record, maxCells int) notebook {
	slices.SortStableFunc(recs, func(a, b cellwatch.Record) int {
		return cmp.Or(a.Requested.Compare(b.Requested), cmp.Compare(a.Session, b.Session), cmp.Compare(a.MsgID, b.MsgID))
	})
	runOf := map[string]int{}
	var wall float64
	var peak, limit, read uint64
	reached := map[string]bool{}
	for _, r := range recs {
		if _, ok := runOf[r.Session]; !ok {
			runOf[r.Session] = len(runOf) + 1
		}
		wall += wallSeconds(r)
		peak = max(peak, r.Peak())
		limit = max(limit, r.Machine.MemLimit)
		read += r.ReadBytes
		for _, id := range r.Advice {
			reached[checkpointOf(id)] = true
		}
	}
	nb := notebook{
		Name:       "(unnamed notebook)",
		Anchor:     fmt.Sprintf("nb%d", index+1),
		Cells:      len(recs),
		Runs:       len(runOf),
		From:       stamp(recs[0].Requested),
		To:         stamp(recs[len(recs)-1].Requested),
		TotalWall:  human.Seconds(wall),
		PeakMemory: human.Bytes(peak),
		MemLimit:   human.Bytes(limit),
		DataRead:   human.Bytes(read),
	}
	if name != "" {
		nb.Name = filepath.Base(name)
		if nb.Name != name {
			nb.Path = name
		}
	}
	for _, c := range checkpoints {
		if reached[c.ID] {
			nb.Reached = append(nb.Reached, checkpointView{ID: c.ID, Name: c.Name})
		}
	}
	first := max(0, len(recs)-maxCells)
	cells := make([]cellView, 0, len(recs)-first)
	for i := first; i < len(recs); i++ {
		r := recs[i]
		cv := cellView{
			N:         i + 1,
			Run:       runOf[r.Session],
			FirstLine: r.FirstLine,
			Status:    string(r.Status),
			When:      stamp(r.Requested),
			Wall:      human.Seconds(wallSeconds(r)),
			Peak:      human.Bytes(r.Peak()),
			Read:      human.Bytes(r.ReadBytes),
		}
		for _, id := range r.Advice {
			cv.Advice = append(cv.Advice, ruleView{ID: id, Checkpoint: checkpointOf(id)})
		}
		cells = append(cells, cv)
		if len(cv.Advice) > 0 {
			nb.AdviceCells = append(nb.AdviceCells, cv)
		}
	}
	nb.Shown = len(cells)
	nb.Chart = buildChart(recs[first:], cells, limit)
	return nb
}

// wallSeconds is the cell's wall time, from the record or its timestamps.
func wallSeconds(r cellwatch.Record) float64 {
	if r.Wall > 0 {
		return r.Wall.Seconds()
	}
	if !r.Ended.IsZero() && r.Ended.After(r.Requested) {
		return r.Ended.Sub(r.Requested).Seconds()
	}
	return 0
}

func stamp(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format("2006-01-02 15:04")
}
