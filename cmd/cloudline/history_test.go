package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cloudline/cloudline/cellwatch"
)

// histFile writes records to a history file the way the kernel does.
func histFile(t *testing.T, recs ...cellwatch.Record) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "history.jsonl")
	for _, r := range recs {
		if err := cellwatch.AppendHistory(path, r, 0); err != nil {
			t.Fatal(err)
		}
	}
	return path
}

func histRec(id, notebook, first string, wall time.Duration, advice ...string) cellwatch.Record {
	return cellwatch.Record{
		MsgID: id, Notebook: notebook, FirstLine: first, Status: cellwatch.StatusOK,
		Requested: time.Date(2026, 5, 6, 7, 8, 9, 0, time.UTC), Wall: wall,
		PeakRSS: 620 << 20, ReadBytes: 100 << 20, Machine: cellwatch.Machine{MemLimit: 8 << 30},
		Advice: advice,
	}
}

func runHist(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = runHistory(context.Background(), args, &out, &errb)
	return code, out.String(), errb.String()
}

func TestHistoryTable(t *testing.T) {
	train := histRec("m1", "train.ipynb", "model.fit(x, y, epochs=100)", 2*time.Hour+3*time.Minute, "long-training", "memory-pressure")
	train.ExecutionCount = 3
	path := histFile(t, train, histRec("m2", "eda.ipynb", "df = pd.read_csv('data/train.csv')", 1500*time.Millisecond))
	code, out, errOut := runHist(t, "--file", path)
	if code != 0 || errOut != "" {
		t.Fatalf("exit %d, stderr %q", code, errOut)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 3 || !strings.HasPrefix(lines[0], "WHEN") {
		t.Fatalf("table:\n%s", out)
	}
	// The figures and the cell's name as its note writes them (human, advisor.CellLine).
	for _, want := range []string{"train.ipynb", "[3] model.fit(x, y, epochs=100)", "2h 03m", "620 MiB of 8 GiB (7.6 %)", "100 MiB", "long-training,memory-pressure"} {
		if !strings.Contains(lines[1], want) {
			t.Errorf("row 1 lacks %q:\n%s", want, lines[1])
		}
	}
	if !strings.Contains(lines[2], " 1s ") || !strings.HasSuffix(lines[2], " -") {
		t.Errorf("row 2: %q", lines[2])
	}
}

func TestHistoryJSONAndFilters(t *testing.T) {
	path := histFile(t,
		histRec("m1", "a.ipynb", "one", time.Second),
		histRec("m2", "b.ipynb", "two", time.Second),
		histRec("m3", "a.ipynb", "three", 3*time.Second),
	)
	tests := []struct {
		args []string
		want []string
	}{
		{[]string{"--json"}, []string{"m1", "m2", "m3"}},
		{[]string{"--json", "--notebook", "a.ipynb"}, []string{"m1", "m3"}},
		{[]string{"--json", "--last", "1"}, []string{"m3"}},
		{[]string{"--json", "--notebook", "nope"}, nil},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			code, out, errOut := runHist(t, append(tt.args, "--file", path)...)
			if code != 0 || errOut != "" {
				t.Fatalf("exit %d, stderr %q", code, errOut)
			}
			var ids []string
			for line := range strings.Lines(out) {
				var r map[string]any
				if err := json.Unmarshal([]byte(line), &r); err != nil {
					t.Fatalf("line %q: %v", line, err)
				}
				if _, ok := r["wall_s"]; !ok {
					t.Errorf("no wall_s in %q", line)
				}
				ids = append(ids, r["msg_id"].(string))
			}
			if strings.Join(ids, ",") != strings.Join(tt.want, ",") {
				t.Errorf("ids %v, want %v", ids, tt.want)
			}
		})
	}
}

func TestHistoryDefaultLast(t *testing.T) {
	var recs []cellwatch.Record
	for i := range 25 {
		recs = append(recs, histRec(fmt.Sprintf("m%d", i), "a.ipynb", "x", time.Second))
	}
	path := histFile(t, recs...)
	if _, out, _ := runHist(t, "--file", path); strings.Count(out, "\n") != 21 {
		t.Errorf("table: %d lines, want a header and the last 20 cells", strings.Count(out, "\n"))
	}
	if _, out, _ := runHist(t, "--json", "--file", path); strings.Count(out, "\n") != 25 {
		t.Errorf("--json: %d lines, want all 25 cells", strings.Count(out, "\n"))
	}
}

func TestHistoryBadInput(t *testing.T) {
	tests := [][]string{
		{"--bogus"},
		{"--last", "-1"},
		{"--last", "x"},
		{"extra"},
	}
	for _, args := range tests {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			code, out, errOut := runHist(t, args...)
			if code != 2 || out != "" || strings.Count(errOut, "\n") != 1 || !strings.HasPrefix(errOut, "cloudline history: ") {
				t.Errorf("exit %d, stdout %q, stderr %q; want 2 and one line on stderr", code, out, errOut)
			}
		})
	}
}

func TestHistoryEmptyAndHelp(t *testing.T) {
	t.Setenv("XDG_STATE_HOME", t.TempDir())
	code, out, _ := runHist(t)
	if code != 0 || !strings.HasPrefix(out, "no cells recorded in ") || !strings.Contains(out, filepath.Join("cloudline", "history.jsonl")) {
		t.Errorf("empty default history: exit %d, %q", code, out)
	}
	if code, out, _ := runHist(t, "--json"); code != 0 || out != "" {
		t.Errorf("empty --json: exit %d, %q", code, out)
	}
	if code, out, _ := runHist(t, "-h"); code != 0 || !strings.HasPrefix(out, "usage: cloudline history") {
		t.Errorf("-h: exit %d, %q", code, out)
	}
}
