package cellwatch

import (
	"maps"
	"testing"
	"time"
)

func TestParseStat(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want procStat
		bad  bool
	}{
		{"plain", "42 (python3) S 7 42 42 0 -1 0 0 0 0 0 150 50 20 30 20 0 1 0 9 0 0", procStat{PPID: 7, CPU: 2500 * time.Millisecond}, false},
		{"spaces and parens in name", "42 (a (b) c) R 9 42 42 0 -1 0 0 0 0 0 1 0 0 0 20 0 1 0 9 0 0", procStat{PPID: 9, CPU: 10 * time.Millisecond}, false},
		{"truncated", "42 (x) S 1 2 3", procStat{}, true},
		{"no paren", "garbage", procStat{}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseStat([]byte(tt.in))
			if (err != nil) != tt.bad {
				t.Fatalf("err = %v, want error %v", err, tt.bad)
			}
			if got != tt.want {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestParseStatus(t *testing.T) {
	rss, hwm, anon := parseStatus([]byte("Name:\tpython\nVmHWM:\t  600000 kB\nVmRSS:\t  120000 kB\nRssAnon:\t  100000 kB\nRssFile:\t 19000 kB\nRssShmem:\t 1000 kB\n"))
	if rss != 120000*1024 || hwm != 600000*1024 || anon != 101000*1024 {
		t.Errorf("rss, hwm, anon = %d, %d, %d", rss, hwm, anon)
	}
	rss, hwm, anon = parseStatus([]byte("Name:\tkthreadd\nState:\tS\n"))
	if rss != 0 || hwm != 0 || anon != 0 {
		t.Errorf("kernel thread: rss, hwm, anon = %d, %d, %d, want 0", rss, hwm, anon)
	}
}

func TestParseSchedstat(t *testing.T) {
	if got, err := parseSchedstat([]byte("441614317 683000050 755\n")); err != nil || got != 683000050 {
		t.Errorf("parseSchedstat = %v, %v; want 683.00005ms", got, err)
	}
	for _, bad := range []string{"", "1", "1 x 3", "1 -5 3"} {
		if _, err := parseSchedstat([]byte(bad)); err == nil {
			t.Errorf("parseSchedstat(%q): no error", bad)
		}
	}
}

func TestParseIO(t *testing.T) {
	got, err := parseIO([]byte("rchar: 100\nwchar: 20\nsyscr: 1\nsyscw: 1\nread_bytes: 4096\nwrite_bytes: 8192\ncancelled_write_bytes: 0\n"))
	if err != nil {
		t.Fatal(err)
	}
	if want := (procIO{RChar: 100, WChar: 20, ReadBytes: 4096, WriteBytes: 8192}); got != want {
		t.Errorf("got %+v, want %+v", got, want)
	}
	if _, err := parseIO([]byte("")); err == nil {
		t.Error("empty io parsed without error")
	}
}

func TestParseListening(t *testing.T) {
	in := `  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 5001 1 0 100 0 0 10 0
   1: 0100007F:9C40 0100007F:1F90 01 00000000:00000000 00:00000000 00000000  1000        0 5003 1 0 20 4 30 10 -1
   2: 00000000:0016 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 0 1 0 100 0 0 10 0
`
	got := map[uint64]int{}
	parseListening([]byte(in), got)
	if want := map[uint64]int{5001: 8080}; !maps.Equal(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
}

func TestSocketInode(t *testing.T) {
	for link, want := range map[string]uint64{"socket:[123]": 123, "pipe:[5]": 0, "socket:[x]": 0, "/tmp/a": 0} {
		got, ok := socketInode(link)
		if got != want || ok != (want != 0) {
			t.Errorf("socketInode(%q) = %d, %v", link, got, ok)
		}
	}
}

func TestCgroupPaths(t *testing.T) {
	tests := []struct {
		name, in         string
		v2, memV1, cpuV1 string
	}{
		{"v2", "0::/user.slice/user-1000.slice/session-2.scope\n", "/user.slice/user-1000.slice/session-2.scope", "", ""},
		{"hybrid", "9:name=systemd:/\n4:memory:/process_api/abc\n2:cpu,cpuacct:/k\n0::/\n", "/", "/process_api/abc", "/k"},
		{"container", "0::/\n", "/", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v2, mem, cpu := cgroupPaths([]byte(tt.in))
			if v2 != tt.v2 || mem != tt.memV1 || cpu != tt.cpuV1 {
				t.Errorf("got %q %q %q, want %q %q %q", v2, mem, cpu, tt.v2, tt.memV1, tt.cpuV1)
			}
		})
	}
}

func TestParseMemoryMax(t *testing.T) {
	tests := []struct {
		in   string
		want uint64
		bad  bool
	}{
		{"max\n", noLimit, false},
		{"2147483648\n", 2 << 30, false},
		{"9223372036854771712\n", noLimit, false}, // cgroup v1 "unlimited"
		{"lots\n", 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := parseMemoryMax([]byte(tt.in))
			if (err != nil) != tt.bad || got != tt.want {
				t.Errorf("got %d, %v; want %d (error %v)", got, err, tt.want, tt.bad)
			}
		})
	}
}

func TestParseCPUMax(t *testing.T) {
	tests := []struct {
		in   string
		want int
		bad  bool
	}{
		{"max 100000\n", 0, false},
		{"200000 100000\n", 2, false},
		{"150000 100000\n", 2, false},
		{"50000 100000\n", 1, false},
		{"50000\n", 1, false},
		{"x 100000\n", 0, true},
		{"50000 0\n", 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := parseCPUMax([]byte(tt.in))
			if (err != nil) != tt.bad || got != tt.want {
				t.Errorf("got %d, %v; want %d (error %v)", got, err, tt.want, tt.bad)
			}
		})
	}
}

func FuzzParseStat(f *testing.F) {
	f.Add([]byte("42 (python3) S 7 42 42 0 -1 0 0 0 0 0 150 50 20 30 20 0 1 0 9 0 0"))
	f.Fuzz(func(t *testing.T, b []byte) {
		_, _ = parseStat(b) // must not panic
	})
}
