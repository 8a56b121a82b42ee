package cellwatch

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"testing"
	"time"
)

// fakeProc copies testdata/proc into a temporary directory and adds the
// fd tables, whose links need absolute paths. It returns the proc root and
// the data file the kernel has open.
func fakeProc(t *testing.T) (root, dataFile string) {
	t.Helper()
	root = filepath.Join(t.TempDir(), "proc")
	err := filepath.WalkDir("testdata/proc", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel("testdata/proc", p)
		if d.IsDir() {
			return os.MkdirAll(filepath.Join(root, rel), 0o755)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(root, rel), b, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
	dataFile = filepath.Join(t.TempDir(), "train.csv")
	if err := os.WriteFile(dataFile, make([]byte, 12345), 0o644); err != nil {
		t.Fatal(err)
	}
	fds := map[string]map[string]string{
		"100": {"0": "/dev/null", "3": "socket:[5001]", "4": "socket:[5004]", "5": dataFile, "6": "pipe:[77]", "7": "/home/u/old.csv (deleted)", "8": dataFile},
		"101": {"3": "socket:[5002]", "4": dataFile},
		"102": {},
		"200": {"3": "socket:[9999]"},
	}
	for pid, links := range fds {
		dir := filepath.Join(root, pid, "fd")
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		for fd, target := range links {
			if err := os.Symlink(target, filepath.Join(dir, fd)); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := os.WriteFile(filepath.Join(root, "100", "clear_refs"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	return root, dataFile
}

func TestProcSamplerTree(t *testing.T) {
	root, _ := fakeProc(t)
	s := &ProcSampler{Root: root}
	tree, err := s.Tree(100)
	if err != nil {
		t.Fatal(err)
	}
	if want := []int{100, 101, 102}; !slices.Equal(tree, want) {
		t.Errorf("Tree(100) = %v, want %v", tree, want)
	}
	if _, err := s.Tree(999); !errors.Is(err, ErrGone) {
		t.Errorf("Tree(999) err = %v, want ErrGone", err)
	}
	t.Setenv("HOST_PROC", root)
	if tree, err := (&ProcSampler{}).Tree(101); err != nil || !slices.Equal(tree, []int{101, 102}) {
		t.Errorf("with HOST_PROC: Tree(101) = %v, %v", tree, err)
	}
}

func TestProcSamplerProc(t *testing.T) {
	root, data := fakeProc(t)
	s := &ProcSampler{Root: root}
	tests := []struct {
		pid  int
		want ProcSample
	}{
		{100, ProcSample{PID: 100, PPID: 1, CPU: 3150 * time.Millisecond, RSS: 120000 << 10, HWM: 600000 << 10, Anon: 100000 << 10,
			IO: true, RChar: 100 << 20, WChar: 2048, ReadBytes: 4096, Files: []string{data}}},
		{101, ProcSample{PID: 101, PPID: 100, CPU: time.Second, RSS: 280000 << 10, HWM: 307200 << 10, Files: []string{data}}},
		{102, ProcSample{PID: 102, PPID: 101, CPU: 20 * time.Millisecond, RSS: 1000 << 10, HWM: 1200 << 10,
			IO: true, RChar: 1000, ReadBytes: 50 << 20, WriteBytes: 8192}},
	}
	for _, tt := range tests {
		t.Run(strconv.Itoa(tt.pid), func(t *testing.T) {
			got, err := s.Proc(tt.pid, true)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got.Files, tt.want.Files) {
				t.Errorf("files = %v, want %v", got.Files, tt.want.Files)
			}
			got.Files, tt.want.Files = nil, nil
			if got.PID != tt.want.PID || got.PPID != tt.want.PPID || got.CPU != tt.want.CPU || got.RSS != tt.want.RSS ||
				got.HWM != tt.want.HWM || got.Anon != tt.want.Anon || got.IO != tt.want.IO || got.RChar != tt.want.RChar || got.WChar != tt.want.WChar ||
				got.ReadBytes != tt.want.ReadBytes || got.WriteBytes != tt.want.WriteBytes {
				t.Errorf("got %+v\nwant %+v", got, tt.want)
			}
		})
	}
	if _, err := s.Proc(4242, true); !errors.Is(err, ErrGone) {
		t.Errorf("Proc(4242) err = %v, want ErrGone", err)
	}
}

func TestProcSamplerResetPeak(t *testing.T) {
	root, _ := fakeProc(t)
	s := &ProcSampler{Root: root}
	if err := s.ResetPeak(100); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(filepath.Join(root, "100", "clear_refs")); string(b) != "5" {
		t.Errorf("clear_refs holds %q, want \"5\"", b)
	}
	if err := s.ResetPeak(101); err == nil {
		t.Error("ResetPeak(101) without a clear_refs file succeeded")
	}
}

func TestProcSamplerListenPorts(t *testing.T) {
	root, _ := fakeProc(t)
	s := &ProcSampler{Root: root}
	got, err := s.ListenPorts([]int{100, 101, 102})
	if err != nil {
		t.Fatal(err)
	}
	// 8080 (v4, pid 100), 54321 (v4, pid 101), 8009 (v6); 22 is another process's.
	if want := []int{8009, 8080, 54321}; !slices.Equal(got, want) {
		t.Errorf("ports = %v, want %v", got, want)
	}
}

func TestProcSamplerMachine(t *testing.T) {
	root, _ := fakeProc(t)
	s := &ProcSampler{Root: root, SysRoot: "testdata/sys"}
	dir := t.TempDir()
	m, err := s.Machine(100, dir)
	if err != nil {
		t.Fatal(err)
	}
	want := Machine{
		TotalRAM:     16384000 << 10,
		MemLimit:     2 << 30, // kernel.scope/memory.max; the parent says max
		MemAvailable: 8192000 << 10,
		SwapUsed:     1048576 << 10,
		Cores:        min(runtime.NumCPU(), 2), // cpu.max 150000/100000 rounds up to 2
		DiskFree:     m.DiskFree,
		DiskTotal:    m.DiskTotal,
	}
	want.MemLimitSource = LimitCgroup
	if m != want {
		t.Errorf("got %+v\nwant %+v", m, want)
	}
	if m.DiskTotal == 0 || m.DiskFree > m.DiskTotal {
		t.Errorf("disk free %d of %d", m.DiskFree, m.DiskTotal)
	}
}

func TestCgroupLimits(t *testing.T) {
	tests := []struct {
		name    string
		cgroup  string
		files   map[string]string // under sys/fs/cgroup
		wantMem uint64
		cores   int
	}{
		{"v2 max everywhere", "0::/a\n", map[string]string{"a/memory.max": "max\n", "a/cpu.max": "max 100000\n"}, noLimit, 0},
		{"v2 container root", "0::/\n", map[string]string{"memory.max": "1073741824\n"}, 1 << 30, 0},
		{"v2 parent tighter", "0::/a/b\n", map[string]string{"a/memory.max": "1000000\n", "a/b/memory.max": "2000000\n"}, 1000000, 0},
		{"v1 memory and cpu", "4:memory:/docker/x\n3:cpu,cpuacct:/docker/x\n0::/\n", map[string]string{
			"memory/docker/x/memory.limit_in_bytes": "536870912\n",
			"memory/memory.limit_in_bytes":          "9223372036854771712\n",
			"cpu/docker/x/cpu.cfs_quota_us":         "100000\n",
			"cpu/docker/x/cpu.cfs_period_us":        "100000\n",
		}, 512 << 20, 1},
		{"v1 unlimited", "4:memory:/x\n", map[string]string{"memory/x/memory.limit_in_bytes": "9223372036854771712\n",
			"cpu/x/cpu.cfs_quota_us": "-1\n"}, noLimit, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			write := func(p, s string) {
				t.Helper()
				if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			write(filepath.Join(dir, "proc", "7", "cgroup"), tt.cgroup)
			for p, s := range tt.files {
				write(filepath.Join(dir, "sys", "fs", "cgroup", p), s)
			}
			s := &ProcSampler{Root: filepath.Join(dir, "proc"), SysRoot: filepath.Join(dir, "sys")}
			mem, cores := s.cgroupLimits(7)
			if mem != tt.wantMem || cores != tt.cores {
				t.Errorf("got %d bytes, %d cores; want %d, %d", mem, cores, tt.wantMem, tt.cores)
			}
		})
	}
}

func TestProcSamplerTreeFollowsChanges(t *testing.T) {
	root, _ := fakeProc(t)
	s := &ProcSampler{Root: root}
	if tree, _ := s.Tree(100); !slices.Equal(tree, []int{100, 101, 102}) {
		t.Fatalf("first scan: %v", tree)
	}
	// 102 exits; 103 is born, a child of 100.
	if err := os.RemoveAll(filepath.Join(root, "102")); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(root, "103"), 0o755); err != nil {
		t.Fatal(err)
	}
	stat := "103 (python3) R 100 100 100 0 -1 0 0 0 0 0 1 0 0 0 20 0 1 0 9 0 0\n"
	if err := os.WriteFile(filepath.Join(root, "103", "stat"), []byte(stat), 0o644); err != nil {
		t.Fatal(err)
	}
	if tree, _ := s.Tree(100); !slices.Equal(tree, []int{100, 101, 103}) {
		t.Errorf("after changes: %v, want [100 101 103]", tree)
	}
	if err := os.WriteFile(filepath.Join(root, "103", "cmdline"), []byte("python3\x00-c\x00work()\x00"), 0o644); err != nil {
		t.Fatal(err)
	}
	if c, err := s.Cmdline(103); err != nil || c != "python3\x00-c\x00work()\x00" {
		t.Errorf("Cmdline(103) = %q, %v", c, err)
	}
	if _, err := s.Cmdline(102); !errors.Is(err, ErrGone) {
		t.Errorf("Cmdline of a gone pid: %v", err)
	}
}

func TestProcSamplerListenPortsCache(t *testing.T) {
	root, _ := fakeProc(t)
	s := &ProcSampler{Root: root}
	if got, _ := s.ListenPorts([]int{100}); !slices.Equal(got, []int{8009, 8080}) {
		t.Fatalf("first read: %v", got)
	}
	// The table changes but pid 100 holds the same sockets. Read within
	// portsSettle of the sockets changing (here: of the first read), the
	// answer is not reused: a socket may be between its bind and its
	// listen. Once they have settled, it is.
	tcp := filepath.Join(root, "100", "net", "tcp")
	if err := os.WriteFile(tcp, []byte("  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n"+
		"   0: 0100007F:1F92 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 5001 1 0 100 0 0 10 0\n"+
		"   1: 0100007F:1F91 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 6001 1 0 100 0 0 10 0\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.ListenPorts([]int{100}); !slices.Equal(got, []int{8009, 8082}) {
		t.Errorf("same sockets, unsettled: %v, want the table read again ([8009 8082])", got)
	}
	s.ports.since = s.ports.since.Add(-portsSettle)
	s.ports.at = s.ports.since.Add(portsSettle)
	if err := os.WriteFile(tcp, []byte("  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n"+
		"   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 5001 1 0 100 0 0 10 0\n"+
		"   1: 0100007F:1F91 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 6001 1 0 100 0 0 10 0\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.ListenPorts([]int{100}); !slices.Equal(got, []int{8009, 8082}) {
		t.Errorf("same sockets, settled: %v, want the cached answer", got)
	}
	// A new socket: the table is read again.
	if err := os.Symlink("socket:[6001]", filepath.Join(root, "100", "fd", "9")); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.ListenPorts([]int{100}); !slices.Equal(got, []int{8009, 8080, 8081}) {
		t.Errorf("new socket: %v, want [8009 8080 8081]", got)
	}
}
