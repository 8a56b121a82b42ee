package cellwatch

import (
	"bytes"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
)

// The history writer appends what is queued in one go, with the same
// result as appending record by record.
func TestWriteHistoryBatch(t *testing.T) {
	line, _ := historyLine(histRecord(0, "a"))
	tests := []struct {
		name string
		max  int64
	}{
		{"no rotation", 0},
		{"rotates mid-batch", int64(len(line))*3 + 10},
		{"every line rotates", int64(len(line)) / 2},
	}
	const n = 7
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			ref := filepath.Join(dir, "ref", "history.jsonl")
			for i := range n {
				if err := AppendHistory(ref, histRecord(i, "a"), tt.max); err != nil {
					t.Fatal(err)
				}
			}
			path := filepath.Join(dir, "batch", "history.jsonl")
			ch := make(chan Record, n)
			for i := range n {
				ch <- histRecord(i, "a")
			}
			close(ch)
			w := &Watcher{HistoryMaxBytes: tt.max}
			w.writeHistory(path, ch, slog.New(slog.NewTextHandler(io.Discard, nil)))

			for _, suffix := range []string{"", ".1"} {
				want, _ := os.ReadFile(ref + suffix)
				got, _ := os.ReadFile(path + suffix)
				if !bytes.Equal(got, want) {
					t.Errorf("history%s: %d bytes, %d lines; record by record: %d bytes, %d lines",
						suffix, len(got), bytes.Count(got, []byte("\n")), len(want), bytes.Count(want, []byte("\n")))
				}
			}
			if info, err := os.Stat(path); err != nil || info.Mode().Perm() != 0o600 {
				t.Errorf("history file: %v, %v; want mode 0600", info, err)
			}
			recs, err := ReadHistory(path, "", 0)
			if err != nil {
				t.Fatal(err)
			}
			first := n - len(recs)
			if tt.max == 0 && first != 0 {
				t.Errorf("%d records read, want %d", len(recs), n)
			}
			for i, r := range recs {
				if want := histRecord(first+i, "a").MsgID; r.MsgID != want {
					t.Errorf("record %d is %s, want %s (in order)", i, r.MsgID, want)
				}
			}
		})
	}
}

// BenchmarkHistoryAppend compares writing the records of a run all one by
// one with writing them as the writer takes them off its queue.
func BenchmarkHistoryAppend(b *testing.B) {
	const cells = 64
	b.Run("one-by-one", func(b *testing.B) {
		path := filepath.Join(b.TempDir(), "history.jsonl")
		for b.Loop() {
			for i := range cells {
				if err := AppendHistory(path, histRecord(i, "a"), 1<<40); err != nil {
					b.Fatal(err)
				}
			}
		}
	})
	b.Run("queued", func(b *testing.B) {
		path := filepath.Join(b.TempDir(), "history.jsonl")
		w := &Watcher{HistoryMaxBytes: 1 << 40}
		log := slog.New(slog.NewTextHandler(io.Discard, nil))
		for b.Loop() {
			ch := make(chan Record, cells)
			for i := range cells {
				ch <- histRecord(i, "a")
			}
			close(ch)
			w.writeHistory(path, ch, log)
		}
	})
}
