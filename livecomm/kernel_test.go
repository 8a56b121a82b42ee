package livecomm

import (
	"errors"
	"testing"

	"github.com/cloudline/cloudline/cellwatch"
)

// fakeTree is a two-process tree of 1 GiB each.
type fakeTree struct {
	m   cellwatch.Machine
	err error
}

func (fakeTree) Tree(root int) ([]int, error) { return []int{root, root + 1}, nil }
func (fakeTree) Proc(pid int, _ bool) (cellwatch.ProcSample, error) {
	return cellwatch.ProcSample{PID: pid, RSS: 1 << 30}, nil
}
func (fakeTree) Cmdline(int) (string, error)                      { return "", nil }
func (fakeTree) ResetPeak(int) error                              { return nil }
func (f fakeTree) Machine(int, string) (cellwatch.Machine, error) { return f.m, f.err }
func (fakeTree) ListenPorts([]int) ([]int, error)                 { return nil, nil }

func TestTreeReader(t *testing.T) {
	cases := []struct {
		name   string
		m      cellwatch.Machine
		source string
	}{
		{"hub", cellwatch.Machine{MemLimit: 3e9, MemLimitSource: cellwatch.LimitMemLimit}, cellwatch.LimitMemLimit},
		{"no source", cellwatch.Machine{MemLimit: 16 << 30}, cellwatch.LimitRAM},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := &TreeReader{PID: func() int { return 10 }, Proc: fakeTree{m: c.m}}
			ks, err := r.Read()
			if err != nil {
				t.Fatal(err)
			}
			if ks.RSS != 2<<30 || ks.MemLimit != c.m.MemLimit || ks.LimitSource != c.source {
				t.Errorf("got %+v, want RSS 2 GiB, limit %d from %s", ks, c.m.MemLimit, c.source)
			}
		})
	}
	if _, err := (&TreeReader{PID: func() int { return 0 }, Proc: fakeTree{}}).Read(); err == nil {
		t.Error("no error before the kernel started")
	}
	if _, err := (&TreeReader{PID: func() int { return 1 }, Proc: fakeTree{err: errors.New("x")}}).Read(); err == nil {
		t.Error("no error when the machine cannot be read")
	}
}
