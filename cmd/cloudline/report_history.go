package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/cloudline/cloudline/cellwatch"
)

// reportHistory reads the records of path, only those of notebook when it
// is not "". A line that does not decode is skipped (a writer may have been
// cut off mid-line).
// TODO(report): use cellwatch.ReadHistory once it lands.
func reportHistory(path, notebook string) ([]cellwatch.Record, error) {
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("no history at %s (cloudline writes it while its kernel runs cells)", path)
	}
	if err != nil {
		return nil, fmt.Errorf("read history: %w", err)
	}
	defer f.Close()
	var recs []cellwatch.Record
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 64*1024), 16<<20)
	for sc.Scan() {
		var r cellwatch.Record
		if json.Unmarshal(sc.Bytes(), &r) != nil {
			continue
		}
		if notebook == "" || r.Notebook == notebook {
			recs = append(recs, r)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read history %s: %w", path, err)
	}
	return recs, nil
}

// reportHistoryPath is the default history file:
// $XDG_STATE_HOME/cloudline/history.jsonl, or ~/.local/state/... without it.
// TODO(report): use cellwatch.DefaultHistoryPath once it lands.
func reportHistoryPath() (string, error) {
	if d := os.Getenv("XDG_STATE_HOME"); d != "" {
		return filepath.Join(d, "cloudline", "history.jsonl"), nil
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("find the history: %w (pass --file)", err)
	}
	return filepath.Join(home, ".local", "state", "cloudline", "history.jsonl"), nil
}
