package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/cloudline/cloudline/cellwatch"
	"github.com/cloudline/cloudline/report"
)

const reportUsage = `usage: cloudline report [--notebook NAME] [--file HISTORY] [-o FILE]

Writes one self-contained HTML page (no network, inline SVG) from the cell
history: per notebook a timeline of its cells with the advice given, and
which checkpoints (compliance, storage, compute, stability) were reached.

  --notebook NAME  only this notebook (as the history names it)
  --file HISTORY   history file (default: $XDG_STATE_HOME/cloudline/history.jsonl)
  --last N         at most the last N cells per notebook in the timeline (default 300)
  -o FILE          output file, "-" for standard output (default cloudline-report.html)
`

// runReport implements "cloudline report". Bad flags, a missing history or
// no matching cells are bad input: one line on stderr and status 2.
func runReport(_ context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("report", flag.ContinueOnError)
	notebook := fs.String("notebook", "", "")
	file := fs.String("file", "", "")
	last := fs.Int("last", report.DefaultMaxCells, "")
	out := fs.String("o", "cloudline-report.html", "")
	if status, done := parseFlags(fs, args, reportUsage, stdout, stderr); done {
		return status
	}
	if *last < 1 {
		fmt.Fprintf(stderr, "cloudline report: --last must be at least 1, not %d\n", *last)
		return 2
	}
	if *out == "" {
		fmt.Fprintln(stderr, "cloudline report: -o needs a file name or -")
		return 2
	}
	path := *file
	if path == "" {
		path = cellwatch.DefaultHistoryPath()
	}
	if !historyExists(path) && !historyExists(path+".1") { // .1: the rotated part
		fmt.Fprintf(stderr, "cloudline report: no history at %s (cloudline writes it while its kernel runs cells)\n", path)
		return 2
	}
	records, err := cellwatch.ReadHistory(path, *notebook, 0)
	if err != nil {
		fmt.Fprintf(stderr, "cloudline report: %v\n", err)
		return 2
	}

	var page bytes.Buffer
	opt := report.Options{Generated: time.Now(), Source: filepath.Base(path), MaxCells: *last}
	if err := report.Render(&page, records, opt); err != nil {
		if errors.Is(err, report.ErrNoCells) && *notebook != "" {
			err = fmt.Errorf("no finished cells for notebook %q in %s", *notebook, path)
		} else if errors.Is(err, report.ErrNoCells) {
			err = fmt.Errorf("no finished cells in %s", path)
		}
		fmt.Fprintf(stderr, "cloudline report: %v\n", err)
		return 2
	}
	if *out == "-" {
		if _, err := stdout.Write(page.Bytes()); err != nil {
			fmt.Fprintf(stderr, "cloudline report: write: %v\n", err)
			return 1
		}
		return 0
	}
	if err := writeFileAtomic(*out, page.Bytes()); err != nil {
		fmt.Fprintf(stderr, "cloudline report: %v\n", err)
		return 1
	}
	fmt.Fprintf(stdout, "wrote %s\n", *out)
	return 0
}

// writeFileAtomic writes data to a temporary file beside path and renames
// it into place, so a reader never sees half a report.
func writeFileAtomic(path string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".cloudline-report-*.html")
	if err != nil {
		return fmt.Errorf("create report: %w", err)
	}
	defer os.Remove(tmp.Name()) // no-op once renamed
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("write report: %w", err)
	}
	if err := tmp.Chmod(0o644); err != nil {
		tmp.Close()
		return fmt.Errorf("write report: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write report: %w", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("write report: %w", err)
	}
	return nil
}

func historyExists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}
