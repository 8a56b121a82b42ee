package cloud

import (
	"testing"
	"time"

	"github.com/cloudline/cloudline/cellwatch"
)

func TestFitMemory40GiB2Cores(t *testing.T) {
	n := NeedOf([]cellwatch.Record{{Session: "s", PeakRSS: 40 * GiB, Wall: 600 * time.Second, CPU: 1100 * time.Second,
		Machine: cellwatch.Machine{Cores: 8}}}, 0.8)
	if n.Mem != 50*GiB || n.Cores != 2 {
		t.Fatalf("need = %+v, want 50 GiB and 2 cores", n)
	}
	for cloud, want := range map[string]string{
		"azure": "Standard_E8s_v5", "aws": "ml.r5.2xlarge", "gcp": "n2-highmem-8",
	} {
		s, ok := Fit(cloud, n)
		if !ok || s.Name != want || s.Mem != 64*GiB {
			t.Errorf("Fit(%s) = %v, %v; want %s with 64 GiB", cloud, s, ok, want)
		}
	}
	if got := n.NeedText(); got != "about 50 GiB" {
		t.Errorf("NeedText = %q", got)
	}
}

func TestFitGPU(t *testing.T) {
	tests := []struct {
		name   string
		gpuMem uint64
		want   map[string]string
	}{
		{"10 GiB on one GPU", 10 * GiB, map[string]string{
			"azure": "Standard_NC4as_T4_v3", "aws": "ml.g5.xlarge", "gcp": "g2-standard-4"}},
		{"30 GiB on one GPU", 30 * GiB, map[string]string{
			"azure": "Standard_NC24ads_A100_v4", "aws": "ml.p4d.24xlarge", "gcp": "a2-highgpu-1g"}},
		{"60 GiB on one GPU", 60 * GiB, map[string]string{
			"azure": "Standard_NC24ads_A100_v4", "aws": "ml.p4de.24xlarge", "gcp": "a2-ultragpu-1g"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n := NeedOf([]cellwatch.Record{{PeakRSS: 6 * GiB, Wall: 60 * time.Second, CPU: 60 * time.Second,
				GPU: &cellwatch.GPU{Devices: 1, MemUsed: tt.gpuMem, UtilPercent: 90}}}, 0.8)
			for cloud, want := range tt.want {
				s, ok := Fit(cloud, n)
				if !ok || s.Name != want {
					t.Errorf("Fit(%s) = %v, %v; want %s", cloud, s, ok, want)
				}
				if s.GPUs == 0 || s.GPUMem < n.GPUMem {
					t.Errorf("Fit(%s) = %v: GPU memory %d < %d", cloud, s, s.GPUMem, n.GPUMem)
				}
			}
		})
	}
}

func TestFitCoresAndDefaults(t *testing.T) {
	// All 4 cores busy for a minute: twice as many.
	n := NeedOf([]cellwatch.Record{{PeakRSS: 2 * GiB, Wall: 60 * time.Second, CPU: 238 * time.Second, Machine: cellwatch.Machine{Cores: 4}}}, 0.8)
	if s, _ := Fit("azure", n); n.Cores != 8 || s.Name != "Standard_D8s_v5" {
		t.Errorf("saturated 4 cores: need %+v, size %v; want 8 cores, Standard_D8s_v5", n, s)
	}
	d := NeedOf(nil, 0.8)
	if d.Measured() {
		t.Error("no history is measured")
	}
	for cloud, want := range map[string]string{"azure": "Standard_D4s_v5", "aws": "ml.m5.xlarge", "gcp": "n2-standard-4"} {
		if s, ok := Fit(cloud, d); !ok || s.Name != want {
			t.Errorf("default Fit(%s) = %v; want %s", cloud, s, want)
		}
	}
	if s, ok := Fit("azure", Need{Mem: 4096 * GiB}); ok || s.Name == "" {
		t.Errorf("too big: Fit = %v, %v; want the biggest and false", s, ok)
	}
}

func TestRunAndTimeLimit(t *testing.T) {
	recs := []cellwatch.Record{
		{Session: "a", Wall: 1800 * time.Second}, {Session: "a", Wall: 1200 * time.Second},
		{Session: "b", Wall: 600 * time.Second, Progress: &cellwatch.Progress{Projected: 5400 * time.Second}}, // interrupted, projected 1h30m
	}
	n := NeedOf(recs, 0.8)
	if n.Run != 90*time.Minute {
		t.Errorf("run = %v, want 1h30m (the projected session)", n.Run)
	}
	if got := TimeLimit(n); got != 3*time.Hour {
		t.Errorf("TimeLimit = %v, want 3h", got)
	}
	if got := TimeLimit(Need{Run: 10 * time.Minute}); got != time.Hour {
		t.Errorf("TimeLimit(10m) = %v, want 1h", got)
	}
}

func TestTableSane(t *testing.T) {
	seen := map[string]bool{}
	for _, s := range append(append([]Size{}, cpuSizes...), gpuSizes...) {
		if seen[s.Cloud+s.Name] {
			t.Errorf("%s listed twice", s.Name)
		}
		seen[s.Cloud+s.Name] = true
		if s.VCPU <= 0 || s.Mem < GiB || (s.GPUs > 0) != (s.GPUMem > 0) {
			t.Errorf("bad row %+v", s)
		}
		if s.Cloud == "gcp" && s.GPUs > 0 && s.Accelerator == "" {
			t.Errorf("%s: Vertex AI needs the accelerator type", s.Name)
		}
	}
	if got := (Size{Name: "x", VCPU: 4, Mem: 28 * GiB, GPUs: 1, GPUMem: 16 * GiB, GPUModel: "NVIDIA T4"}).String(); got != "x, 28 GiB, 4 vCPU, 1x NVIDIA T4 16 GiB" {
		t.Errorf("String = %q", got)
	}
}
