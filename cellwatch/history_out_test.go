package cellwatch

import (
	"os"
	"path/filepath"
	"testing"
)

// The writer keeps the history file open; a file another kernel rotated
// or removed meanwhile is not written through the old handle.
func TestHistoryOutFollowsPath(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "state", "history.jsonl")
	var out historyOut
	defer out.close()
	write := func(line string) {
		t.Helper()
		if err := appendLines(path, [][]byte{[]byte(line + "\n")}, 1<<20, &out); err != nil {
			t.Fatal(err)
		}
	}
	read := func(p string) string {
		t.Helper()
		b, err := os.ReadFile(p)
		if err != nil && !os.IsNotExist(err) {
			t.Fatal(err)
		}
		return string(b)
	}
	write("a")
	write("b")
	held := out.f
	if held == nil {
		t.Fatal("the file was not kept open")
	}
	if err := os.Rename(path, path+".1"); err != nil { // another kernel rotates
		t.Fatal(err)
	}
	write("c")
	if out.f == held {
		t.Error("still writing through the handle of the rotated file")
	}
	if err := os.Remove(path); err != nil { // the user deletes the history
		t.Fatal(err)
	}
	write("d")
	if got, want := read(path+".1"), "a\nb\n"; got != want {
		t.Errorf("rotated file %q, want %q", got, want)
	}
	if got, want := read(path), "d\n"; got != want {
		t.Errorf("history %q, want %q", got, want)
	}
	if info, err := os.Stat(path); err != nil || info.Mode().Perm() != 0o600 {
		t.Errorf("history mode %v (%v), want 0600", info.Mode().Perm(), err)
	}
}
