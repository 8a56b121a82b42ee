package advisor

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cloudline/cloudline/cellwatch"
)

func TestSignalName(t *testing.T) {
	tests := map[string]string{
		"":                   "",
		"SIGKILL":            "SIGKILL",
		"sigkill":            "SIGKILL",
		"kill":               "SIGKILL",
		"9":                  "SIGKILL",
		"-9":                 "SIGKILL",
		"signal: killed":     "SIGKILL",
		"11":                 "SIGSEGV",
		"segmentation fault": "SIGSEGV",
		"6":                  "SIGABRT",
		"64":                 "signal 64",
	}
	for in, want := range tests {
		t.Run(in, func(t *testing.T) {
			if got := signalName(in); got != want {
				t.Errorf("signalName(%q) = %q, want %q", in, got, want)
			}
		})
	}
}

func TestKernelDiedCause(t *testing.T) {
	tests := []struct {
		name   string
		signal string
		peak   uint64
		want   string
	}{
		{"killed near the limit", "SIGKILL", 15 * gib, causeOOM},
		{"killed, memory sampled low", "SIGKILL", 2 * gib, causeOOM},
		{"exited at 90 %", "", 15 * gib, causeOOM},
		{"segfault", "SIGSEGV", 2 * gib, causeCrash},
		{"abort", "6", 2 * gib, causeCrash},
		{"terminated", "SIGTERM", 2 * gib, causeUnknown},
		{"exited by itself", "", 0, causeExit},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := with(running(), func(r *cellwatch.Record) { r.Signal, r.PeakRSS = tt.signal, tt.peak })
			got := Evaluate(Input{Phase: KernelDied, Record: rec, Config: config(nil), Now: t0.Add(time.Minute)})
			if len(got) != 1 {
				t.Fatalf("Evaluate = %v, want kernel-died", rulesOf(got))
			}
			if c := got[0].Evidence["cause"]; c != tt.want {
				t.Errorf("cause = %v, want %s", c, tt.want)
			}
		})
	}
}

func TestDistinctPaths(t *testing.T) {
	got := distinctPaths(
		[]cellwatch.FileUse{{Path: "/d/train/", Bytes: 100}, {Path: "/d/labels.csv", Bytes: 5}},
		[]cellwatch.FileUse{{Path: "/d/train/part-1", Bytes: 60}, {Path: "/d/labels.csv", Bytes: 7}, {Path: "/e/x", Bytes: 7}},
	)
	want := []cellwatch.FileUse{{Path: "/d/train", Bytes: 100}, {Path: "/d/labels.csv", Bytes: 7}, {Path: "/e/x", Bytes: 7}}
	if !slices.Equal(got, want) {
		t.Errorf("distinctPaths = %v, want %v", got, want)
	}
	// A directory scanned before the cell wrote the file in it is as big as the file.
	got = distinctPaths([]cellwatch.FileUse{{Path: "data/big", Bytes: 8 << 10}, {Path: "data/big/m.csv", Bytes: 8 << 20}})
	if want := []cellwatch.FileUse{{Path: "data/big", Bytes: 8 << 20}}; !slices.Equal(got, want) {
		t.Errorf("distinctPaths with a stale directory = %v, want %v", got, want)
	}
	if u := measureData(cellwatch.Record{CodeBytes: 500, ReadBytes: 300}); u.total != 500 {
		t.Errorf("measureData total = %d, want CodeBytes 500", u.total)
	}
}

func TestUnknownCloudIsGeneric(t *testing.T) {
	if vendorFor("oracle") != vendors[genericCloud] || vendorFor("") != vendors["azure"] {
		t.Error("cloud fallback wrong: unknown must be generic, empty must be azure")
	}
	for _, c := range Clouds() {
		v, ok := vendors[c]
		if !ok {
			t.Fatalf("no vendor entry for %s", c)
		}
		for _, s := range []string{v.Training, v.Scale, v.GPU, v.Parallel, v.Memory, v.Serving, v.Notebook, v.Storage, v.Data} {
			if s == "" {
				t.Errorf("vendor %s has an empty service name", c)
			}
		}
	}
}

func TestProjectionSources(t *testing.T) {
	tests := []struct {
		name string
		p    cellwatch.Progress
		want time.Duration
	}{
		{"projected", cellwatch.Progress{Projected: time.Hour}, time.Hour},
		{"from fraction", cellwatch.Progress{Fraction: 0.25, Elapsed: time.Minute}, 4 * time.Minute},
		{"nothing", cellwatch.Progress{Fraction: 0.25}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := projection(&tt.p); got != tt.want {
				t.Errorf("projection = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestUnnamedCell(t *testing.T) {
	rec := with(running(), func(r *cellwatch.Record) { r.FirstLine = "  " })
	got := Evaluate(Input{Phase: Live, Record: rec, Config: config(nil), Now: t0.Add(2 * time.Hour)})
	if len(got) != 1 || !strings.HasPrefix(strings.Split(got[0].Text, "\n")[1], "This cell has been running") {
		t.Errorf("advice for a cell without a first line: %q", rulesOf(got))
	}
	if Phase(0).String() != "phase(?)" || Live.String() != "live" {
		t.Error("Phase.String wrong")
	}
}
