package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cloudline/cloudline/cellwatch"
)

// writeHistory writes records as JSON lines, plus one torn line at the end.
func writeHistory(t *testing.T, recs ...cellwatch.Record) string {
	t.Helper()
	var b bytes.Buffer
	for _, r := range recs {
		line, err := json.Marshal(r)
		if err != nil {
			t.Fatal(err)
		}
		b.Write(line)
		b.WriteByte('\n')
	}
	b.WriteString(`{"notebook": "torn`)
	path := filepath.Join(t.TempDir(), "history.jsonl")
	if err := os.WriteFile(path, b.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func testRecord(notebook, first string, advice ...string) cellwatch.Record {
	t0 := time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC)
	return cellwatch.Record{
		Session: "s1", Notebook: notebook, MsgID: first, FirstLine: first,
		Requested: t0, Ended: t0.Add(5 * time.Second), Status: cellwatch.StatusOK,
		Wall: 5 * time.Second, PeakRSS: 100 << 20, Machine: cellwatch.Machine{MemLimit: 1 << 30}, Advice: advice,
	}
}

func TestReportCommand(t *testing.T) {
	hist := writeHistory(t,
		testRecord("a.ipynb", "train()", "long-training"),
		testRecord("b.ipynb", "serve()", "local-serving"),
	)
	empty := writeHistory(t)
	tests := []struct {
		name       string
		args       []string
		status     int
		stdoutHas  string // "" = stdout must be empty
		stdoutLack string
		stderrHas  string // "" = stderr must be empty
	}{
		{"stdout", []string{"--file", hist, "-o", "-"}, 0, "<svg class=\"timeline\"", "", ""},
		{"one notebook", []string{"--file", hist, "--notebook", "b.ipynb", "-o", "-"}, 0, "local-serving", "long-training", ""},
		{"help", []string{"-h"}, 0, "usage: cloudline report", "", ""},
		{"unknown flag", []string{"--bogus"}, 2, "", "", "flag provided but not defined"},
		{"extra argument", []string{"--file", hist, "extra"}, 2, "", "", `unexpected argument "extra"`},
		{"bad --last", []string{"--file", hist, "--last", "0"}, 2, "", "", "--last must be at least 1"},
		{"missing history", []string{"--file", filepath.Join(t.TempDir(), "none.jsonl")}, 2, "", "", "no history at"},
		{"empty history", []string{"--file", empty, "-o", "-"}, 2, "", "", "no finished cells in"},
		{"unknown notebook", []string{"--file", hist, "--notebook", "c.ipynb", "-o", "-"}, 2, "", "", `no finished cells for notebook "c.ipynb"`},
		{"unwritable output", []string{"--file", hist, "-o", filepath.Join(t.TempDir(), "no", "dir", "r.html")}, 1, "", "", "create report"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			got := run(context.Background(), append([]string{"report"}, tt.args...), &stdout, &stderr)
			if got != tt.status {
				t.Errorf("status %d, want %d (stderr %q)", got, tt.status, stderr.String())
			}
			if tt.stdoutHas == "" && stdout.Len() > 0 {
				t.Errorf("stdout not empty: %.200q", stdout.String())
			}
			if !strings.Contains(stdout.String(), tt.stdoutHas) {
				t.Errorf("stdout lacks %q", tt.stdoutHas)
			}
			if tt.stdoutLack != "" && strings.Contains(stdout.String(), tt.stdoutLack) {
				t.Errorf("stdout has %q", tt.stdoutLack)
			}
			switch {
			case tt.stderrHas == "" && stderr.Len() > 0:
				t.Errorf("stderr not empty: %q", stderr.String())
			case tt.stderrHas != "" && strings.Count(stderr.String(), "\n") != 1:
				t.Errorf("stderr is not one line: %q", stderr.String())
			case !strings.Contains(stderr.String(), tt.stderrHas):
				t.Errorf("stderr %q lacks %q", stderr.String(), tt.stderrHas)
			}
		})
	}
}

func TestReportWritesFile(t *testing.T) {
	hist := writeHistory(t, testRecord("a.ipynb", "train()", "long-training"))
	t.Setenv("XDG_STATE_HOME", t.TempDir())
	out := filepath.Join(t.TempDir(), "r.html")
	var stdout, stderr bytes.Buffer
	if got := run(context.Background(), []string{"report", "--file", hist, "-o", out}, &stdout, &stderr); got != 0 {
		t.Fatalf("status %d: %s", got, stderr.String())
	}
	page, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(page, []byte("<!DOCTYPE html>")) || !bytes.Contains(page, []byte("long-training")) {
		t.Errorf("report file is not the page: %.200q", page)
	}
	if !strings.Contains(stdout.String(), "wrote "+out) {
		t.Errorf("stdout %q does not name the file", stdout.String())
	}
	left, err := filepath.Glob(filepath.Join(filepath.Dir(out), ".cloudline-report-*"))
	if err != nil || len(left) > 0 {
		t.Errorf("temporary files left: %v %v", left, err)
	}
}

func TestReportDefaultHistory(t *testing.T) {
	state := t.TempDir()
	t.Setenv("XDG_STATE_HOME", state)
	var stdout, stderr bytes.Buffer
	if got := run(context.Background(), []string{"report", "-o", "-"}, &stdout, &stderr); got != 2 {
		t.Fatalf("status %d without a history, want 2", got)
	}
	want := filepath.Join(state, "cloudline", "history.jsonl")
	if !strings.Contains(stderr.String(), want) {
		t.Errorf("stderr %q does not name %s", stderr.String(), want)
	}
}
