package human

import (
	"encoding/json"
	"math"
	"os"
	"testing"
	"time"
)

// figures is testdata/figures.json, the cases the extension's format.ts
// is tested against too.
type figures struct {
	Bytes   [][2]any `json:"bytes"`
	Seconds [][2]any `json:"seconds"`
	Percent [][2]any `json:"percent"`
}

func readFigures(t *testing.T) figures {
	t.Helper()
	b, err := os.ReadFile("testdata/figures.json")
	if err != nil {
		t.Fatal(err)
	}
	var f figures
	if err := json.Unmarshal(b, &f); err != nil {
		t.Fatalf("testdata/figures.json: %v", err)
	}
	if len(f.Bytes) == 0 || len(f.Seconds) == 0 || len(f.Percent) == 0 {
		t.Fatal("testdata/figures.json lacks a section")
	}
	return f
}

func TestSharedFigures(t *testing.T) {
	f := readFigures(t)
	for _, c := range f.Bytes {
		n, want := uint64(c[0].(float64)), c[1].(string)
		if got := Bytes(n); got != want {
			t.Errorf("Bytes(%d) = %q, want %q", n, got, want)
		}
	}
	for _, c := range f.Seconds {
		s, want := c[0].(float64), c[1].(string)
		if got := Seconds(s); got != want {
			t.Errorf("Seconds(%v) = %q, want %q", s, got, want)
		}
		if got := Duration(time.Duration(s * float64(time.Second))); s > 0 && got != want {
			t.Errorf("Duration(%vs) = %q, want %q", s, got, want)
		}
	}
	for _, c := range f.Percent {
		p, want := c[0].(float64), c[1].(string)
		if got := Percent(p); got != want {
			t.Errorf("Percent(%v) = %q, want %q", p, got, want)
		}
	}
}

// TestGoOnly covers what JSON numbers cannot carry exactly to JavaScript.
func TestGoOnly(t *testing.T) {
	tests := []struct{ got, want string }{
		{Bytes(math.MaxUint64), "16 EiB"},
		{Duration(-time.Second), "0s"},
		{Duration(math.MaxInt64), "106751d 23h"},
		{Seconds(math.NaN()), "0s"},
		{Seconds(math.Inf(1)), "11574074074d 01h"},
		{Percent(math.NaN()), "? %"},
		{Percent(math.Inf(1)), "? %"},
		{Share(1503238553, 16<<30), "1.4 GiB of 16 GiB (8.7 %)"},
		{Share(2<<30, 0), "2 GiB"},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("got %q, want %q", tt.got, tt.want)
		}
	}
}
