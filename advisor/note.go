package advisor

import (
	"time"

	"github.com/cloudline/cloudline/cellwatch"
	"github.com/cloudline/cloudline/kernelspec"
)

// StatusEvery is how often a note's live status line is refreshed.
const StatusEvery = 2 * time.Second

// Note is the state of one cell's note: at most one display per cell,
// created when the cell first has something to say and updated in place
// after that, so the cell's own output is split at most once (a tqdm text
// bar cannot overwrite across another output, and JupyterLab merges only
// consecutive stream outputs).
//
// It is pure: the caller feeds it what happened (findings, status ticks,
// stream output seen, the cell's end) and sends the Display it returns,
// as display_data when Display.Create is set and as update_display_data
// otherwise, both with transient.display_id = ID. nbclient and papermill
// apply the updates to the saved display. A Note is not safe for
// concurrent use.
type Note struct {
	ID  string // the display id; must be unique per cell
	Cfg kernelspec.Config

	findings []Advice
	status   *statusView
	shown    bool      // the display exists
	streamed bool      // the cell's stream output has begun
	statusAt time.Time // last status refresh
	ended    bool
	fresh    int      // findings before this one were returned by Fresh
	final    []Advice // Restate's findings, for End
}

// Display is one message to send for a note.
type Display struct {
	Create  bool           // display_data; else update_display_data
	Content map[string]any // data, metadata, transient
}

// MsgType is the iopub message type of d.
func (d Display) MsgType() string {
	if d.Create {
		return "display_data"
	}
	return "update_display_data"
}

// Shown reports whether the note's display exists.
func (n *Note) Shown() bool { return n.shown }

// Rules lists the rules of the note's findings, in order.
func (n *Note) Rules() []string {
	ids := make([]string, len(n.findings))
	for i, a := range n.findings {
		ids[i] = a.Rule
	}
	return ids
}

// Fresh returns the rules added since its last call: what a caller
// records as posted once a display is sent.
func (n *Note) Fresh() []string {
	ids := n.Rules()[n.fresh:]
	n.fresh = len(n.findings)
	return ids
}

// StreamSeen records that the cell printed: from then on a status line
// alone no longer creates the display (it would split the output), though
// an existing display keeps being updated.
func (n *Note) StreamSeen() { n.streamed = true }

// Add adds findings to the note at now (rules it holds already are
// skipped) and returns the display that shows them, its status line
// refreshed.
func (n *Note) Add(rec cellwatch.Record, as []Advice, now time.Time) (Display, bool) {
	if n.ended || !n.add(as) {
		return Display{}, false
	}
	if n.status != nil {
		n.setStatus(rec, now)
	}
	return n.display(rec), true
}

// Tick refreshes the live status line of a running cell at now: it creates
// the display once the cell has run past live_after, unless its stream
// output has begun, and updates it at most every StatusEvery.
func (n *Note) Tick(rec cellwatch.Record, now time.Time) (Display, bool) {
	switch {
	case n.ended, elapsed(rec, now) < n.Cfg.LiveAfter:
		return Display{}, false
	case !n.shown && n.streamed:
		return Display{}, false
	case n.status != nil && now.Sub(n.statusAt) >= 0 && now.Sub(n.statusAt) < StatusEvery:
		return Display{}, false
	}
	n.setStatus(rec, now)
	return n.display(rec), true
}

// End adds the findings of the cell's end and turns the status line into
// the closing summary. A note never shown is created only when there are
// findings; its summary then appears only for a cell that ran past
// live_after.
func (n *Note) End(rec cellwatch.Record, as []Advice, now time.Time) (Display, bool) {
	if n.ended {
		return Display{}, false
	}
	n.ended = true
	added := n.add(as)
	n.restate()
	if !n.shown && !added {
		return Display{}, false
	}
	if n.status != nil || elapsed(rec, now) >= n.Cfg.LiveAfter {
		n.setStatus(rec, now)
	}
	return n.display(rec), true
}

// Restate gives the note, before End, the findings of the cell's final
// record (advisor.Restate): End puts each in place of the note's finding
// of the same rule, so a finding made while the cell ran carries the
// figures of its end, as the summary does. A rule the note does not hold
// is not added.
func (n *Note) Restate(as []Advice) { n.final = as }

// restate applies what Restate gave.
func (n *Note) restate() {
	for _, a := range n.final {
		for i := range n.findings {
			if n.findings[i].Rule == a.Rule {
				n.findings[i] = a
			}
		}
	}
	n.final = nil
}

func (n *Note) add(as []Advice) bool {
	added := false
	for _, a := range as {
		dup := false
		for _, f := range n.findings {
			dup = dup || f.Rule == a.Rule
		}
		if !dup {
			n.findings = append(n.findings, a)
			added = true
		}
	}
	return added
}

func (n *Note) setStatus(rec cellwatch.Record, now time.Time) {
	md, text := statusBody(rec, n.Cfg, now)
	n.status = &statusView{md: md, text: text, json: NoteStatus{
		State: string(rec.Status), Text: text, ElapsedS: seconds(elapsed(rec, now))}}
	n.statusAt = now
}

func (n *Note) display(rec cellwatch.Record) Display {
	data, meta := composeNote(rec, n.findings, n.status)
	d := Display{Create: !n.shown, Content: map[string]any{
		"data": data, "metadata": meta, "transient": map[string]any{"display_id": n.ID},
	}}
	n.shown = true
	return d
}
