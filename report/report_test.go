package report

import (
	"bytes"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/cloudline/cloudline/cellwatch"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

const gib = 1 << 30

// history is a small literal history: two runs of a training notebook that
// reach every checkpoint, and a quick notebook with no name and no advice.
func history() []cellwatch.Record {
	t0 := time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC)
	m := cellwatch.Machine{TotalRAM: 16 * gib, MemLimit: 8 * gib, DiskFree: 20 * gib, DiskTotal: 256 * gib, Cores: 8}
	rec := func(nb, session string, min int, first string, wall float64, peak, read uint64, advice ...string) cellwatch.Record {
		start := t0.Add(time.Duration(min) * time.Minute)
		return cellwatch.Record{
			Session: session, Notebook: nb, MsgID: first, FirstLine: first,
			Requested: start, Ended: start.Add(time.Duration(wall * float64(time.Second))),
			Status: cellwatch.StatusOK, Wall: time.Duration(wall * float64(time.Second)), PeakRSS: peak, ReadBytes: read,
			Machine: m, Advice: advice,
		}
	}
	recs := []cellwatch.Record{
		rec("projects/churn/train.ipynb", "s1", 0, "import pandas as pd", 1.2, 180<<20, 4<<20),
		rec("projects/churn/train.ipynb", "s1", 1, "df = pd.read_parquet('data/patients.parquet')", 42, 3*gib, 2*gib, "sensitive-data", "dataset-size"),
		rec("projects/churn/train.ipynb", "s1", 2, "for epoch in tqdm(range(50)):", 5400, 7*gib, 0, "long-training", "memory-pressure"),
		rec("projects/churn/train.ipynb", "s2", 600, "import pandas as pd", 1.1, 170<<20, 0),
		rec("projects/churn/train.ipynb", "s2", 601, "print(f'accuracy={acc:.3f}')", 0.4, 200<<20, 0, "stable-model"),
		rec("", "s3", 30, "x = '<script>alert(1)</script>'", 0.002, 90<<20, 0),
	}
	recs[5].Status = cellwatch.StatusError
	// A live snapshot is not a finished cell and must be left out.
	live := rec("projects/churn/train.ipynb", "s2", 602, "still running", 3, 1<<20, 0)
	live.Status = cellwatch.StatusRunning
	return append(recs, live)
}

func TestRenderGolden(t *testing.T) {
	var buf bytes.Buffer
	opt := Options{Generated: time.Date(2026, 11, 24, 1, 0, 0, 0, time.UTC), Source: "history.jsonl"}
	if err := Render(&buf, history(), opt); err != nil {
		t.Fatalf("Render: %v", err)
	}
	golden := filepath.Join("testdata", "report.golden.html")
	if *update {
		if err := os.WriteFile(golden, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("read golden (run go test ./report -update): %v", err)
	}
	if !bytes.Equal(buf.Bytes(), want) {
		t.Errorf("report differs from %s; run go test ./report -update and review the diff", golden)
	}
}

func TestRenderContent(t *testing.T) {
	var buf bytes.Buffer
	if err := Render(&buf, history(), Options{}); err != nil {
		t.Fatalf("Render: %v", err)
	}
	out := buf.String()
	tests := []struct {
		name string
		ok   bool
	}{
		{"cell source is escaped", !strings.Contains(out, "<script>") && strings.Contains(out, "&lt;script&gt;alert(1)&lt;/script&gt;")},
		{"one timeline per notebook", strings.Count(out, `<svg class="timeline"`) == 2},
		{"notebooks named, unnamed last", strings.Index(out, "<h2>train.ipynb</h2>") < strings.Index(out, "<h2>(unnamed notebook)</h2>")},
		{"path under the notebook's name", strings.Contains(out, "<code>projects/churn/train.ipynb</code>")},
		{"live snapshot left out", !strings.Contains(out, "still running")},
		{"memory limit drawn", strings.Contains(out, "limit 8 GiB")},
		{"two runs marked", strings.Contains(out, ">run 2</text>")},
		{"every checkpoint reached", strings.Count(out, `data-reached="true"`) == 4},
		{"advice marks on the timeline", strings.Count(out, `<g class="mark `) == 3},
		{"marker coloured by first rule", strings.Contains(out, `<g class="mark cp-compliance">`)},
		{"default title", strings.Contains(out, "<h1>cloudline report</h1>")},
		{"near-limit memory highlighted", strings.Contains(out, `class="bar-mem mem-high"`)},
		{"failed cell coloured", strings.Contains(out, `class="bar-dur status-error"`)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if !tt.ok {
				t.Error("not so in the rendered page")
			}
		})
	}
}

// TestSelfContained checks that the page loads nothing: no scripts, no
// external stylesheets, fonts or images.
func TestSelfContained(t *testing.T) {
	var buf bytes.Buffer
	if err := Render(&buf, history(), Options{}); err != nil {
		t.Fatalf("Render: %v", err)
	}
	out := buf.String()
	// The SVG namespace is an identifier, not something fetched.
	out = strings.ReplaceAll(out, `xmlns="http://www.w3.org/2000/svg"`, "")
	for _, bad := range []string{"<script", "src=", "href=", "url(", "@import", "http:", "https:", "<link"} {
		t.Run(bad, func(t *testing.T) {
			if strings.Contains(out, bad) {
				t.Errorf("page contains %q", bad)
			}
		})
	}
}

func TestRenderNoCells(t *testing.T) {
	running := history()[6]
	tests := []struct {
		name string
		recs []cellwatch.Record
	}{
		{"empty", nil},
		{"only live snapshots", []cellwatch.Record{running}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			err := Render(&buf, tt.recs, Options{})
			if !errors.Is(err, ErrNoCells) {
				t.Fatalf("Render = %v, want ErrNoCells", err)
			}
			if buf.Len() != 0 {
				t.Errorf("wrote %d bytes on error", buf.Len())
			}
		})
	}
}

func TestMaxCells(t *testing.T) {
	var buf bytes.Buffer
	if err := Render(&buf, history(), Options{MaxCells: 2}); err != nil {
		t.Fatalf("Render: %v", err)
	}
	out := buf.String()
	if !strings.Contains(out, "The timeline shows the last 2 of 5 cells.") {
		t.Error("no note that the timeline is cut")
	}
	// The train notebook charts cells 4 and 5 only: 2 cells x 3 lanes, plus
	// the unnamed notebook's single cell.
	bars := regexp.MustCompile(`<rect class="bar-`).FindAllString(out, -1)
	if len(bars) != 3*3 {
		t.Errorf("%d bars, want 9", len(bars))
	}
	if !strings.Contains(out, ">cell 4</text>") || strings.Contains(out, ">cell 3</text>") {
		t.Error("timeline does not start at cell 4")
	}
}

func TestCheckpointOf(t *testing.T) {
	tests := map[string]string{
		"sensitive-data": "compliance", "dataset-size": "storage", "disk-space": "storage",
		"long-training": "compute", "kernel-died": "compute", "parallel-load": "compute",
		"stable-model": "stability", "local-serving": "stability", "no-such-rule": "",
	}
	for rule, want := range tests {
		t.Run(rule, func(t *testing.T) {
			if got := checkpointOf(rule); got != want {
				t.Errorf("checkpointOf(%q) = %q, want %q", rule, got, want)
			}
		})
	}
}

func TestRenderEscapesNames(t *testing.T) {
	rec := history()[0]
	rec.Notebook = `dir/<img src=x onerror=alert(1)>.ipynb`
	rec.FirstLine = `"><svg onload=alert(2)>`
	rec.Advice = []string{`x" onmouseover="alert(3)`}
	var buf bytes.Buffer
	if err := Render(&buf, []cellwatch.Record{rec}, Options{Source: "<b>h</b>"}); err != nil {
		t.Fatalf("Render: %v", err)
	}
	out := buf.String()
	for _, bad := range []string{"<img", "<svg onload", `" onmouseover="`, "<b>h</b>"} {
		t.Run(bad, func(t *testing.T) {
			if strings.Contains(out, bad) {
				t.Errorf("page contains unescaped %q", bad)
			}
		})
	}
}
