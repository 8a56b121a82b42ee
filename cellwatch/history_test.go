package cellwatch

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/user"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

func histRecord(i int, notebook string) Record {
	return Record{
		Session: "s1", Notebook: notebook, MsgID: fmt.Sprintf("m%d", i), FirstLine: "train()",
		Code: "secret_token = 'hunter2'", Status: StatusOK,
		Requested: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC),
		Wall:      1500 * time.Millisecond, CPU: 3 * time.Second, PeakRSS: 600 << 20,
		Progress: &Progress{Fraction: 0.5, Projected: time.Hour, Source: "tqdm"},
	}
}

func TestAppendHistory(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state", "cloudline", "history.jsonl")
	if err := AppendHistory(path, histRecord(1, "a.ipynb"), 0); err != nil {
		t.Fatal(err)
	}
	info, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if info.Mode().Perm() != 0o600 {
		t.Errorf("file mode %v, want 0600", info.Mode().Perm())
	}
	if dinfo, _ := os.Stat(filepath.Dir(path)); dinfo.Mode().Perm() != 0o700 {
		t.Errorf("dir mode %v, want 0700", dinfo.Mode().Perm())
	}
	b, _ := os.ReadFile(path)
	if bytes.Contains(b, []byte("hunter2")) {
		t.Error("the cell's code was written to history")
	}
	var fields map[string]any
	if err := json.Unmarshal(b, &fields); err != nil {
		t.Fatal(err)
	}
	if fields["wall_s"] != 1.5 || fields["peak_rss_bytes"] != float64(600<<20) || fields["cpu_s"] != 3.0 {
		t.Errorf("units: wall_s %v peak_rss_bytes %v cpu_s %v", fields["wall_s"], fields["peak_rss_bytes"], fields["cpu_s"])
	}
	recs, err := ReadHistory(path, "", 0)
	if err != nil || len(recs) != 1 {
		t.Fatalf("ReadHistory: %v, %d records", err, len(recs))
	}
	if recs[0].Wall != 1500*time.Millisecond || recs[0].CPU != 3*time.Second || recs[0].Progress.Projected != time.Hour {
		t.Errorf("durations not restored: %+v", recs[0])
	}
}

func TestHistoryRotation(t *testing.T) {
	path := filepath.Join(t.TempDir(), "history.jsonl")
	line, _ := historyLine(histRecord(0, "a"))
	max := int64(len(line))*3 + 10 // three lines fit
	for i := range 5 {
		if err := AppendHistory(path, histRecord(i, "a"), max); err != nil {
			t.Fatal(err)
		}
	}
	cur, _ := os.ReadFile(path)
	old, _ := os.ReadFile(path + ".1")
	if n := bytes.Count(cur, []byte("\n")); n != 2 {
		t.Errorf("current file has %d lines, want 2", n)
	}
	if n := bytes.Count(old, []byte("\n")); n != 3 {
		t.Errorf("rotated file has %d lines, want 3", n)
	}
	recs, err := ReadHistory(path, "", 0)
	if err != nil || len(recs) != 5 || recs[0].MsgID != "m0" || recs[4].MsgID != "m4" {
		t.Errorf("ReadHistory over rotation: %v, %d records", err, len(recs))
	}
}

func TestHistoryConcurrentAppenders(t *testing.T) {
	path := filepath.Join(t.TempDir(), "history.jsonl")
	line, _ := historyLine(histRecord(0, "nb"))
	max := int64(len(line)) * 40 // rotates several times meanwhile
	const writers, each = 8, 25
	var wg sync.WaitGroup
	errs := make(chan error, writers*each)
	for g := range writers {
		wg.Go(func() {
			for i := range each {
				if err := AppendHistory(path, histRecord(g*1000+i, "nb"), max); err != nil {
					errs <- err
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	for _, p := range []string{path, path + ".1"} {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		for l := range strings.Lines(string(b)) {
			if l == "\n" {
				// A fresh-line check that saw another kernel's write
				// midway: harmless, readers skip blank lines.
				continue
			}
			var r Record
			if err := json.Unmarshal([]byte(l), &r); err != nil || r.MsgID == "" {
				t.Errorf("%s: torn line %q", filepath.Base(p), l)
			}
		}
		if !bytes.HasSuffix(b, []byte("\n")) {
			t.Errorf("%s does not end with a newline", filepath.Base(p))
		}
	}
}

func TestReadHistory(t *testing.T) {
	path := filepath.Join(t.TempDir(), "history.jsonl")
	for i, nb := range []string{"a", "b", "a", "a", "b"} {
		if err := AppendHistory(path, histRecord(i, nb), 0); err != nil {
			t.Fatal(err)
		}
	}
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString(`{"session":"s1","notebook":"a","msg_id":"torn","wall_`) // a kernel killed mid-write
	f.Close()
	tests := []struct {
		notebook string
		last     int
		want     []string
	}{
		{"", 0, []string{"m0", "m1", "m2", "m3", "m4"}},
		{"a", 0, []string{"m0", "m2", "m3"}},
		{"a", 2, []string{"m2", "m3"}},
		{"b", 10, []string{"m1", "m4"}},
		{"c", 0, nil},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%s/%d", tt.notebook, tt.last), func(t *testing.T) {
			recs, err := ReadHistory(path, tt.notebook, tt.last)
			if err != nil {
				t.Fatal(err)
			}
			var ids []string
			for _, r := range recs {
				ids = append(ids, r.MsgID)
			}
			if strings.Join(ids, ",") != strings.Join(tt.want, ",") {
				t.Errorf("got %v, want %v", ids, tt.want)
			}
		})
	}
	if recs, err := ReadHistory(filepath.Join(t.TempDir(), "none.jsonl"), "", 0); err != nil || recs != nil {
		t.Errorf("missing file: %v, %v", recs, err)
	}
}

func TestDefaultHistoryPath(t *testing.T) {
	t.Setenv("XDG_STATE_HOME", filepath.Join("x", "state"))
	if got, want := DefaultHistoryPath(), filepath.Join("x", "state", "cloudline", "history.jsonl"); got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	t.Setenv("XDG_STATE_HOME", "")
	t.Setenv("HOME", filepath.Join("h"))
	if got, want := DefaultHistoryPath(), filepath.Join("h", ".local", "state", "cloudline", "history.jsonl"); got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	// No HOME (a kernel of Enterprise Gateway): the user's home, not $TMPDIR.
	os.Unsetenv("HOME") // t.Setenv above restores it
	u, err := user.Current()
	if err != nil || u.HomeDir == "" {
		t.Fatalf("user.Current: %v", err)
	}
	if got, want := DefaultHistoryPath(), filepath.Join(u.HomeDir, ".local", "state", "cloudline", "history.jsonl"); got != want {
		t.Errorf("without HOME: got %q, want %q", got, want)
	}
}
