package cellwatch

import (
	"context"
	"os"
	"path/filepath"
	"testing"
)

// fakeNvidiaSMI puts an nvidia-smi script printing out on PATH.
func fakeNvidiaSMI(t *testing.T, out string) {
	t.Helper()
	dir := t.TempDir()
	script := "#!/bin/sh\n" +
		`[ "$1" = "--query-gpu=memory.used,memory.total,utilization.gpu" ] || exit 9` + "\n" +
		"cat <<'EOF'\n" + out + "EOF\n"
	if err := os.WriteFile(filepath.Join(dir, "nvidia-smi"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", dir+string(os.PathListSeparator)+os.Getenv("PATH"))
}

func TestNvidiaSMIOnPath(t *testing.T) {
	fakeNvidiaSMI(t, "15000, 16384, 97\n1024, 16384, 3\n")
	r := FindNvidiaSMI()
	if r == nil {
		t.Fatal("fake nvidia-smi not found on PATH")
	}
	g, err := r.ReadGPU(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	want := GPU{Devices: 2, MemUsed: 16024 << 20, MemTotal: 32768 << 20, UtilPercent: 50}
	if *g != want {
		t.Errorf("got %+v, want %+v", *g, want)
	}
	if g.saturated() {
		t.Error("50% busy, 49% full counted as saturated")
	}
}

func TestNoNvidiaSMI(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	if r := FindNvidiaSMI(); r != nil {
		t.Errorf("found %v on an empty PATH", r)
	}
}

func TestParseNvidiaSMI(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want GPU
		bad  bool
		sat  bool
	}{
		{"busy", "1000, 8000, 95\n", GPU{Devices: 1, MemUsed: 1000 << 20, MemTotal: 8000 << 20, UtilPercent: 95}, false, true},
		{"full", "7500, 8000, 10\n", GPU{Devices: 1, MemUsed: 7500 << 20, MemTotal: 8000 << 20, UtilPercent: 10}, false, true},
		{"not available", "[N/A], 8000, [N/A]\n", GPU{Devices: 1, MemTotal: 8000 << 20}, false, false},
		{"empty", "\n", GPU{}, true, false},
		{"garbage", "No devices were found\n", GPU{}, true, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g, err := parseNvidiaSMI([]byte(tt.in))
			if (err != nil) != tt.bad {
				t.Fatalf("err = %v", err)
			}
			if err != nil {
				return
			}
			if *g != tt.want || g.saturated() != tt.sat {
				t.Errorf("got %+v saturated %v, want %+v %v", *g, g.saturated(), tt.want, tt.sat)
			}
		})
	}
}
