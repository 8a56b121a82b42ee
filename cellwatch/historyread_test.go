package cellwatch

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"syscall"
	"testing"
	"time"
)

func msgIDs(recs []Record) []string {
	var ids []string
	for _, r := range recs {
		ids = append(ids, r.MsgID)
	}
	return ids
}

// A line torn by a full disk loses only itself: the next append starts on
// a fresh line, and a reader skips the fragment.
func TestHistoryTornLineLosesOnlyItself(t *testing.T) {
	path := filepath.Join(t.TempDir(), "history.jsonl")
	if err := AppendHistory(path, histRecord(1, "nb"), 0); err != nil {
		t.Fatal(err)
	}
	line, _ := historyLine(histRecord(2, "nb"))
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.Write(line[:len(line)/2]) // the disk filled mid-line
	f.Close()
	if err := AppendHistory(path, histRecord(3, "nb"), 0); err != nil {
		t.Fatal(err)
	}
	recs, err := ReadHistory(path, "", 0)
	if err != nil {
		t.Fatal(err)
	}
	if got := msgIDs(recs); !slices.Equal(got, []string{"m1", "m3"}) {
		t.Errorf("records %v, want m1 and m3", got)
	}
}

// Files written before appends started on a fresh line hold a torn
// fragment glued to the next record: the record is read.
func TestHistoryGluedRecordIsRead(t *testing.T) {
	path := filepath.Join(t.TempDir(), "history.jsonl")
	a, _ := historyLine(histRecord(1, "nb"))
	b, _ := historyLine(histRecord(2, "nb"))
	glued := append(append([]byte{}, a[:len(a)/2]...), b...)
	if err := os.WriteFile(path, glued, 0o600); err != nil {
		t.Fatal(err)
	}
	recs, err := ReadHistory(path, "", 0)
	if err != nil {
		t.Fatal(err)
	}
	if got := msgIDs(recs); !slices.Equal(got, []string{"m2"}) {
		t.Errorf("records %v, want m2", got)
	}
}

// ReadRecentHistory reads the tail of a history that grew large, not the
// whole file; ReadHistory reads it all, keeping only what it returns.
func TestReadHistoryTail(t *testing.T) {
	defer func(n int64) { tailBytes = n }(tailBytes)
	tailBytes = 64 << 10
	path := filepath.Join(t.TempDir(), "history.jsonl")
	early, _ := historyLine(histRecord(0, "early.ipynb"))
	late, _ := historyLine(histRecord(0, "late.ipynb")) // msg_id "m0", made unique below
	data := slices.Clone(early)
	var ids []string
	for i := 1; int64(len(data)) < 3*tailBytes; i++ {
		id := fmt.Sprintf("m%07d", i)
		data = append(data, bytes.Replace(late, []byte(`"msg_id":"m0"`), []byte(`"msg_id":"`+id+`"`), 1)...)
		ids = append(ids, id)
	}
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	all, err := ReadHistory(path, "early.ipynb", 0)
	if err != nil || len(all) != 1 {
		t.Fatalf("whole read: %v, %d early records, want 1", err, len(all))
	}
	if some, err := ReadHistory(path, "early.ipynb", 10); err != nil || len(some) != 1 {
		t.Errorf("ReadHistory: %v, %d early records, want 1", err, len(some))
	}
	tail, err := ReadRecentHistory(path, "early.ipynb", 10)
	if err != nil || len(tail) != 0 {
		t.Errorf("tail read: %v, %d early records, want none (the head is not read)", err, len(tail))
	}
	last, err := ReadRecentHistory(path, "late.ipynb", 3)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := msgIDs(last), ids[len(ids)-3:]; !slices.Equal(got, want) {
		t.Errorf("last 3 %v, want %v", got, want)
	}
}

// A FIFO as history path (in life: a hung network home directory) is
// refused at once, never waited on.
func TestHistoryFIFONeverBlocks(t *testing.T) {
	path := filepath.Join(t.TempDir(), "history.jsonl")
	if err := syscall.Mkfifo(path, 0o600); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	done := make(chan error, 2)
	go func() { done <- AppendHistory(path, histRecord(1, "nb"), 0) }()
	go func() { _, err := ReadHistory(path, "nb", 10); done <- err }()
	for range 2 {
		select {
		case err := <-done:
			if err == nil {
				t.Error("a FIFO was taken for a history file")
			}
		case <-time.After(30 * time.Second):
			t.Fatal("blocked on a FIFO")
		}
	}
	// A watcher whose history is the FIFO releases held idles and stops.
	h := startWatcher(t, func(w *Watcher) { w.History = path })
	h.w.Observe(execRequest(t, "m", "print('x')", false, 0))
	held := h.w.HoldIdle("m")
	h.w.Observe(idle(t, "m", time.Millisecond))
	select {
	case <-held:
	case <-time.After(30 * time.Second):
		t.Fatal("held idle never released")
	}
	h.stop(t)
	if _, err := os.Stat(path); err != nil || errors.Is(err, os.ErrNotExist) {
		t.Errorf("the FIFO: %v", err)
	}
}
