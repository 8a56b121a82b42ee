package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/cloudline/cloudline/advisor"
	"github.com/cloudline/cloudline/cellwatch"
	"github.com/cloudline/cloudline/human"
)

const historyUsage = `usage: cloudline history [--notebook NAME] [--last N] [--json] [--file HISTORY]

Shows the cells cloudline measured, oldest first: when each ran, its
notebook and first line, wall time, peak memory against the memory limit,
data read and the advice given.

  --notebook NAME  only this notebook (as the history names it)
  --last N         only the last N cells (default: 20 in the table, all with --json; 0 = all)
  --json           one JSON object per line, as stored, instead of a table
  --file HISTORY   history file (default: $XDG_STATE_HOME/cloudline/history.jsonl)
`

// runHistory implements "cloudline history". Bad flags: one line on stderr
// and status 2; an unreadable history: status 1.
func runHistory(_ context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("history", flag.ContinueOnError)
	notebook := fs.String("notebook", "", "")
	last := fs.Int("last", 20, "")
	asJSON := fs.Bool("json", false, "")
	file := fs.String("file", "", "")
	if status, done := parseFlags(fs, args, historyUsage, stdout, stderr); done {
		return status
	}
	if *last < 0 {
		fmt.Fprintf(stderr, "cloudline history: --last must be 0 or more, not %d\n", *last)
		return 2
	}
	lastSet := false
	fs.Visit(func(f *flag.Flag) { lastSet = lastSet || f.Name == "last" })
	if *asJSON && !lastSet {
		*last = 0 // a program reading the JSON gets everything unless it asks
	}
	path := *file
	if path == "" {
		path = cellwatch.DefaultHistoryPath()
	}
	recs, err := cellwatch.ReadHistory(path, *notebook, *last)
	if err != nil {
		fmt.Fprintf(stderr, "cloudline history: %v\n", err)
		return 1
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		for _, r := range recs {
			if err := enc.Encode(r); err != nil {
				fmt.Fprintf(stderr, "cloudline history: write: %v\n", err)
				return 1
			}
		}
		return 0
	}
	if len(recs) == 0 {
		fmt.Fprintf(stdout, "no cells recorded in %s\n", path)
		return 0
	}
	if err := historyTable(stdout, recs); err != nil {
		fmt.Fprintf(stderr, "cloudline history: write: %v\n", err)
		return 1
	}
	return 0
}

// historyTable writes the records as an aligned table.
func historyTable(w io.Writer, recs []cellwatch.Record) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "WHEN\tNOTEBOOK\tCELL\tSTATUS\tWALL\tPEAK MEMORY OF LIMIT\tREAD\tADVICE")
	for _, r := range recs {
		when := "-"
		if !r.Requested.IsZero() {
			when = r.Requested.Local().Format("2006-01-02 15:04:05")
		}
		advice := strings.Join(r.Advice, ",")
		if advice == "" {
			advice = "-"
		}
		// The figures as the cell's note and status line wrote them.
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", when, orDash(clip(r.Notebook, 28)), orDash(clip(cellName(r), 36)),
			r.Status, human.Duration(r.Wall), human.Share(r.Peak(), r.Machine.MemLimit), human.Bytes(r.ReadBytes), advice)
	}
	return tw.Flush()
}

// clip shortens s to n runes with an ellipsis; tabs would break the table.
func clip(s string, n int) string {
	s = strings.ReplaceAll(s, "\t", " ")
	if r := []rune(s); len(r) > n {
		return string(r[:n-1]) + "…"
	}
	return s
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// cellName is the cell as its note names it: "[12] model.fit(X, y)".
func cellName(r cellwatch.Record) string {
	line := advisor.CellLine(r)
	if r.ExecutionCount <= 0 {
		return line
	}
	return strings.TrimSpace(fmt.Sprintf("[%d] %s", r.ExecutionCount, line))
}
