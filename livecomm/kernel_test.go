package livecomm

import (
	"testing"

	"github.com/cloudline/cloudline/cellwatch"
)

// fakeTree is a two-process tree on a machine with 16 GiB of RAM.
type fakeTree struct{ limit uint64 }

func (fakeTree) Tree(root int) ([]int, error) { return []int{root, root + 1}, nil }
func (fakeTree) Proc(pid int, _ bool) (cellwatch.ProcSample, error) {
	return cellwatch.ProcSample{PID: pid, RSS: 1 << 30}, nil
}
func (fakeTree) Cmdline(int) (string, error) { return "", nil }
func (fakeTree) ResetPeak(int) error         { return nil }
func (f fakeTree) Machine(int, string) (cellwatch.Machine, error) {
	return cellwatch.Machine{TotalRAM: 16 << 30, MemLimit: f.limit}, nil
}
func (fakeTree) ListenPorts([]int) ([]int, error) { return nil, nil }

func TestTreeReaderLimitSource(t *testing.T) {
	cases := []struct {
		name     string
		limit    uint64
		memLimit string
		want     uint64
		source   string
	}{
		{"RAM", 16 << 30, "", 16 << 30, LimitRAM},
		{"cgroup", 4 << 30, "", 4 << 30, LimitCgroup},
		{"hub below cgroup", 4 << 30, "2147483648", 2 << 30, LimitMemLimit},
		{"hub above cgroup", 4 << 30, "8589934592", 4 << 30, LimitCgroup},
		{"hub unparsable", 16 << 30, "2G", 16 << 30, LimitRAM},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := &TreeReader{PID: func() int { return 10 }, Proc: fakeTree{limit: c.limit},
				Getenv: func(string) string { return c.memLimit }}
			ks, err := r.Read()
			if err != nil {
				t.Fatal(err)
			}
			if ks.RSS != 2<<30 || ks.MemLimit != c.want || ks.LimitSource != c.source {
				t.Errorf("got %+v, want RSS 2 GiB, limit %d from %s", ks, c.want, c.source)
			}
		})
	}
	if _, err := (&TreeReader{PID: func() int { return 0 }, Proc: fakeTree{}}).Read(); err == nil {
		t.Error("no error before the kernel started")
	}
}
