package advisor

import (
	"strings"
	"testing"
	"time"

	"github.com/cloudline/cloudline/cellwatch"
)

// TestNote drives a note through event sequences and checks which
// messages come out: at most one display_data per cell, then updates.
func TestNote(t *testing.T) {
	cfg := config(nil) // live_after 60 s
	long := Evaluate(Input{Phase: Live, Record: running(), Config: cfg, Now: t0.Add(2 * time.Hour)})
	done := with(ended(90*time.Second), func(r *cellwatch.Record) {})
	type step struct {
		do   func(n *Note) (Display, bool)
		want string // "create", "update" or "" for nothing
	}
	at := func(d time.Duration) time.Time { return t0.Add(d) }
	tick := func(d time.Duration) func(n *Note) (Display, bool) {
		return func(n *Note) (Display, bool) { return n.Tick(running(), at(d)) }
	}
	add := func(as []Advice, d time.Duration) func(n *Note) (Display, bool) {
		return func(n *Note) (Display, bool) { return n.Add(running(), as, at(d)) }
	}
	end := func(rec cellwatch.Record, as []Advice) func(n *Note) (Display, bool) {
		return func(n *Note) (Display, bool) { return n.End(rec, as, rec.Ended) }
	}
	stream := func(n *Note) (Display, bool) { n.StreamSeen(); return Display{}, false }
	tests := []struct {
		name  string
		steps []step
	}{
		{"quick cell: nothing", []step{{tick(time.Second), ""}, {end(quick(), nil), ""}}},
		{"status after live_after, refreshed every 2 s, summary", []step{
			{tick(59 * time.Second), ""}, {tick(60 * time.Second), "create"}, {tick(61 * time.Second), ""},
			{tick(62 * time.Second), "update"}, {end(done, nil), "update"}}},
		{"no status once the cell printed", []step{
			{stream, ""}, {tick(2 * time.Minute), ""}, {end(done, nil), ""}}},
		{"a finding after printing creates it, then the status joins", []step{
			{stream, ""}, {add(long, 2*time.Hour), "create"}, {tick(2*time.Hour + time.Second), "update"},
			{tick(2*time.Hour + 2*time.Second), ""}, {end(done, nil), "update"}}},
		{"the same rule twice is one finding", []step{
			{add(long, time.Hour), "create"}, {add(long, time.Hour+time.Minute), ""}}},
		{"a finding at the end of a quick cell", []step{{end(quick(), long), "create"}}},
		{"nothing after the end", []step{{end(quick(), long), "create"}, {add(long, time.Hour), ""}, {tick(time.Hour), ""}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n := &Note{ID: "note-1", Cfg: cfg}
			creates := 0
			for i, s := range tt.steps {
				d, ok := s.do(n)
				got := ""
				if ok {
					got = "update"
					if d.Create {
						got = "create"
						creates++
					}
					if id := d.Content["transient"].(map[string]any)["display_id"]; id != "note-1" {
						t.Errorf("step %d: display_id %v", i, id)
					}
				}
				if got != s.want {
					t.Errorf("step %d: got %q, want %q", i, got, s.want)
				}
			}
			if creates > 1 {
				t.Errorf("%d displays created for one cell", creates)
			}
		})
	}
}

// TestNoteRestated: a memory-pressure finding made while the buffer filled
// carries the cell's final peak once it ends, as the summary does; a rule
// the note does not hold is not added by restating.
func TestNoteRestated(t *testing.T) {
	cfg := config(nil)
	filling := with(running(), func(r *cellwatch.Record) { r.PeakRSS, r.RSS = 13*gib, 13*gib })
	n := &Note{ID: "note-1", Cfg: cfg}
	if _, ok := n.Add(filling, Evaluate(Input{Phase: Live, Record: filling, Config: cfg, Now: t0.Add(time.Minute)}), t0.Add(time.Minute)); !ok {
		t.Fatal("no memory-pressure at 13 GiB of 16 GiB")
	}
	final := with(ended(2*time.Minute), func(r *cellwatch.Record) {
		r.PeakRSS, r.RSS, r.Advice = 15*gib, 15*gib, []string{RuleMemoryPressure}
	})
	again := Restate(Input{Phase: CellEnd, Record: final, Config: cfg, Now: final.Ended})
	if len(again) != 1 || again[0].Rule != RuleMemoryPressure {
		t.Fatalf("Restate = %v, want memory-pressure evaluated again although posted", again)
	}
	n.Restate(again)
	d, ok := n.End(final, nil, final.Ended)
	if !ok {
		t.Fatal("no display at the end")
	}
	doc := d.Content["data"].(map[string]any)[NoteMIME].(NoteJSON)
	if len(doc.Findings) != 1 || !strings.Contains(doc.Findings[0].Headline, "15 GiB of 16 GiB") {
		t.Errorf("findings at the end: %+v, want the final peak of 15 GiB", doc.Findings)
	}
	if doc.Status == nil || !strings.Contains(doc.Status.Text, "peak memory 15 GiB of 16 GiB") {
		t.Errorf("summary %+v, want the same peak", doc.Status)
	}
	if got := Restate(Input{Phase: Live, Record: final, Config: cfg, Now: final.Ended}); got != nil {
		t.Errorf("Restate outside the cell's end = %v", got)
	}
}
