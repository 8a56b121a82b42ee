package cellwatch

import (
	"os"
	"path/filepath"
	"runtime"
	"testing"
)

// clearLimitEnv hides any limit the test machine's environment declares.
func clearLimitEnv(t *testing.T) {
	t.Helper()
	for _, name := range envLimits {
		t.Setenv(name, "")
	}
}

// TestMachineHostEnv reads a fake machine through $HOST_PROC and $HOST_SYS
// alone: gopsutil's readings (memory, swap, logical CPUs from cpuinfo) and
// ours (the cgroup limits) follow the same convention.
func TestMachineHostEnv(t *testing.T) {
	clearLimitEnv(t)
	root, _ := fakeProc(t)
	cpuinfo := "processor\t: 0\nmodel name\t: fake\n\nprocessor\t: 1\n\nprocessor\t: 2\n\n"
	if err := os.WriteFile(filepath.Join(root, "cpuinfo"), []byte(cpuinfo), 0o644); err != nil {
		t.Fatal(err)
	}
	sys, err := filepath.Abs("testdata/sys")
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv("HOST_PROC", root)
	t.Setenv("HOST_SYS", sys)
	var s ProcSampler
	m, err := s.Machine(100, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	want := Machine{
		TotalRAM:       16384000 << 10,
		MemLimit:       2 << 30,
		MemLimitSource: LimitCgroup,
		MemAvailable:   8192000 << 10,
		SwapUsed:       1048576 << 10,
		Cores:          min(runtime.NumCPU(), 3, 2), // cpuinfo lists 3; cpu.max allows 2
		DiskFree:       m.DiskFree,
		DiskTotal:      m.DiskTotal,
	}
	if m != want {
		t.Errorf("got %+v\nwant %+v", m, want)
	}
	if m.DiskTotal == 0 || m.DiskFree > m.DiskTotal {
		t.Errorf("disk free %d of %d", m.DiskFree, m.DiskTotal)
	}

	// A Gateway limit below the cgroup's is the effective one.
	t.Setenv("KERNEL_MEMORY", "1Gi")
	if m, err = s.Machine(100, ""); err != nil {
		t.Fatal(err)
	}
	if m.MemLimit != 1<<30 || m.MemLimitSource != LimitKernelMemory || m.DiskTotal != 0 {
		t.Errorf("with KERNEL_MEMORY=1Gi: limit %d from %q, disk %d", m.MemLimit, m.MemLimitSource, m.DiskTotal)
	}
}

func TestMachineNoMeminfo(t *testing.T) {
	s := ProcSampler{Root: t.TempDir(), SysRoot: t.TempDir()}
	if _, err := s.Machine(1, ""); err == nil {
		t.Error("no meminfo, no error")
	}
}

func TestEffectiveLimit(t *testing.T) {
	const gib = 1 << 30
	tests := []struct {
		name       string
		ram, cg    uint64
		env        map[string]string
		want       uint64
		wantSource string
	}{
		{"laptop", 16 * gib, noLimit, nil, 16 * gib, LimitRAM},
		{"container", 16 * gib, 4 * gib, nil, 4 * gib, LimitCgroup},
		{"cgroup above RAM", 16 * gib, 64 * gib, nil, 16 * gib, LimitRAM},
		{"hub", 16 * gib, noLimit, map[string]string{"MEM_LIMIT": "2147483648"}, 2 * gib, LimitMemLimit},
		{"hub above cgroup", 16 * gib, 1 * gib, map[string]string{"MEM_LIMIT": "2147483648"}, 1 * gib, LimitCgroup},
		{"pod: limit equals cgroup", 16 * gib, 4 * gib, map[string]string{"KERNEL_MEMORY_LIMIT": "4Gi"}, 4 * gib, LimitKernelMemoryLimit},
		{"gateway request below limit", 16 * gib, 4 * gib, map[string]string{"KERNEL_MEMORY": "2Gi", "KERNEL_MEMORY_LIMIT": "4Gi"}, 2 * gib, LimitKernelMemory},
		{"gateway decimal", 16 * gib, noLimit, map[string]string{"KERNEL_MEMORY": "3G"}, 3e9, LimitKernelMemory},
		{"ties go to the gateway", 16 * gib, noLimit, map[string]string{"KERNEL_MEMORY": "2Gi", "MEM_LIMIT": "2147483648"}, 2 * gib, LimitKernelMemory},
		{"bad and zero values ignored", 16 * gib, noLimit, map[string]string{"KERNEL_MEMORY": "lots", "MEM_LIMIT": "0"}, 16 * gib, LimitRAM},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, source := effectiveLimit(tt.ram, tt.cg, func(k string) string { return tt.env[k] })
			if got != tt.want || source != tt.wantSource {
				t.Errorf("got %d from %q, want %d from %q", got, source, tt.want, tt.wantSource)
			}
		})
	}
}

func TestParseQuantity(t *testing.T) {
	good := map[string]uint64{
		"2Gi": 2 << 30, "512Mi": 512 << 20, "1.5Gi": 3 << 29, "100Ki": 102400,
		"1G": 1e9, "500M": 5e8, "2k": 2000, "1T": 1e12,
		"1073741824": 1 << 30, " 42 ": 42, "129e6": 129e6, "0.5": 1,
	}
	for in, want := range good {
		if got, err := parseQuantity(in); err != nil || got != want {
			t.Errorf("parseQuantity(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"", "Gi", "-1Gi", "+1", "lots", "1GB", "0x10", "1_000", "inf", "NaN", "1e30", "2gi"} {
		if got, err := parseQuantity(in); err == nil {
			t.Errorf("parseQuantity(%q) = %d, want an error", in, got)
		}
	}
}
