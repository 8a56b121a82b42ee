package cellwatch

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"
)

// One file is one entry: named relatively and absolutely in the code, open
// by its absolute path and through a hard link, it is listed once, with
// its size at the cell's end (it grew while the cell ran).
func TestCellFileCountedOnceAtItsEndSize(t *testing.T) {
	h := startWatcher(t, nil)
	data := filepath.Join(h.dir, "data.csv")
	link := filepath.Join(h.dir, "link.csv")
	other := filepath.Join(h.dir, "other.bin")
	writeSized(t, data, 1000)
	writeSized(t, other, 10)
	if err := os.Link(data, link); err != nil {
		t.Fatal(err)
	}
	code := "df = read_csv('data.csv')\nsize = getsize('" + data + "')"
	h.feed(t, execRequest(t, "m", code, false, 0), iopub(t, "m", "execute_input", map[string]any{}, time.Millisecond))
	if start, _ := h.ev.last(CellStart); start.CodeBytes != 1000 {
		t.Errorf("code bytes at the start %d, want 1000", start.CodeBytes)
	}
	writeSized(t, data, 5000) // the cell writes on
	h.fs.update(func(f *fakeSampler) {
		p := f.procs[10]
		p.Files = append(p.Files, data, link, other)
		f.procs[10] = p
	})
	h.feed(t, idle(t, "m", time.Second))
	r, _ := h.ev.last(CellEnd)
	if !slices.Equal(r.CodePaths, []FileUse{{"data.csv", 5000}}) || r.CodeBytes != 5000 {
		t.Errorf("code paths %v (%d bytes), want data.csv once at 5000", r.CodePaths, r.CodeBytes)
	}
	if !slices.Equal(r.Files, []FileUse{{other, 10}}) {
		t.Errorf("files %v, want only %s (data.csv is in the code paths)", r.Files, other)
	}
}
