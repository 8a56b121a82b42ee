package advisor

import (
	"encoding/json"
	"path/filepath"
	"testing"
	"time"

	"github.com/cloudline/cloudline/cellwatch"
	"github.com/cloudline/cloudline/kernelspec"
)

// noteCase builds a note through the steps a cell goes through and
// returns the last display it produced.
type noteCase struct {
	name  string
	steps func(n *Note, cfg kernelspec.Config) Display
}

// trainingCell is cell [12] of a notebook: imports first, then the fit.
func trainingCell() cellwatch.Record {
	return with(running(), func(r *cellwatch.Record) {
		r.ExecutionCount = 12
		r.Code = "# train\nimport torch\nfrom tqdm import tqdm\nmodel.fit(X, y, epochs=50)\n"
	})
}

func evaluate(t *testing.T, phase Phase, rec cellwatch.Record, cfg kernelspec.Config, now time.Time) []Advice {
	t.Helper()
	as := Evaluate(Input{Phase: phase, Record: rec, Config: cfg, Now: now})
	if len(as) == 0 {
		t.Fatalf("no advice at %s", phase)
	}
	return as
}

func noteCases(t *testing.T) []noteCase {
	last := func(t *testing.T, ds ...Display) Display {
		t.Helper()
		if len(ds) == 0 {
			t.Fatal("no display")
		}
		return ds[len(ds)-1]
	}
	must := func(t *testing.T) func(Display, bool) Display {
		return func(d Display, ok bool) Display {
			t.Helper()
			if !ok {
				t.Fatal("the note sent nothing")
			}
			return d
		}
	}
	return []noteCase{
		{"note-one", func(n *Note, cfg kernelspec.Config) Display {
			now := t0.Add(65 * time.Minute)
			rec := trainingCell()
			n.StreamSeen() // a bar was printing: no status line of its own
			return must(t)(n.Add(rec, evaluate(t, Live, rec, cfg, now), now))
		}},
		{"note-three", func(n *Note, cfg kernelspec.Config) Display {
			now := t0.Add(3 * time.Hour)
			rec := with(trainingCell(), func(r *cellwatch.Record) {
				r.PeakRSS, r.RSS = 14*gib, 14*gib
				r.OtherBusy = 2
			})
			return must(t)(n.Add(rec, evaluate(t, Live, rec, cfg, now), now))
		}},
		{"note-status-then-finding", func(n *Note, cfg kernelspec.Config) Display {
			rec := trainingCell()
			first := must(t)(n.Tick(rec, t0.Add(90*time.Second)))
			if !first.Create {
				t.Error("the first status was not a display_data")
			}
			now := t0.Add(61 * time.Minute)
			d := must(t)(n.Add(rec, evaluate(t, Live, rec, cfg, now), now))
			if d.Create {
				t.Error("a finding after the status created a second display")
			}
			return last(t, first, d)
		}},
		{"note-finding-then-summary", func(n *Note, cfg kernelspec.Config) Display {
			rec := trainingCell()
			must(t)(n.Add(rec, evaluate(t, Live, rec, cfg, t0.Add(62*time.Minute)), t0.Add(62*time.Minute)))
			end := with(rec, func(r *cellwatch.Record) {
				r.Status, r.Ended, r.Wall = cellwatch.StatusOK, t0.Add(80*time.Minute), 80*time.Minute
				r.ReadBytes = 3 * gib
			})
			d := must(t)(n.End(end, Evaluate(Input{Phase: CellEnd, Record: end, Config: cfg, Now: end.Ended}), end.Ended))
			if d.Create {
				t.Error("the summary created a second display")
			}
			return d
		}},
	}
}

func TestGoldenNote(t *testing.T) {
	for _, nc := range noteCases(t) {
		for _, cloud := range Clouds() {
			t.Run(nc.name+"."+cloud, func(t *testing.T) {
				cfg := config(func(c *kernelspec.Config) { c.Cloud = cloud })
				n := &Note{ID: "cloudline-note-m1", Cfg: cfg}
				d := nc.steps(n, cfg)
				data := d.Content["data"].(map[string]any)
				stem := filepath.Join("testdata", "golden", nc.name+"."+cloud)
				checkGolden(t, stem+".md", data["text/markdown"].(string))
				checkGolden(t, stem+".txt", data["text/plain"].(string))
				if cloud == defaultCloud {
					b, err := json.MarshalIndent(d.Content, "", "  ")
					if err != nil {
						t.Fatalf("marshal: %v", err)
					}
					checkGolden(t, filepath.Join("testdata", "golden", nc.name+".json"), string(b)+"\n")
				}
			})
		}
	}
}
