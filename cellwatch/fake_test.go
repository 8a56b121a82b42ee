package cellwatch

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/cloudline/cloudline/kernel"
)

// fakeSampler is a process tree and a machine held in memory.
type fakeSampler struct {
	mu       sync.Mutex
	procs    map[int]ProcSample
	machine  Machine
	ports    []int
	resets   []int
	reads    int            // Proc calls
	cmdlines map[int]string // default: every process runs ipykernel (forks)
	noReset  bool           // clear_refs is not writable
	// bound replaces ports once ListenPorts has been called bindAfter
	// times: a server that binds late.
	bound     []int
	bindAfter int
	portCalls int
}

func (f *fakeSampler) update(fn func(f *fakeSampler)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	fn(f)
}

func (f *fakeSampler) Tree(root int) ([]int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, ok := f.procs[root]; !ok {
		return nil, ErrGone
	}
	tree := []int{root}
	for i := 0; i < len(tree); i++ {
		var kids []int
		for pid, p := range f.procs {
			if p.PPID == tree[i] && pid != root {
				kids = append(kids, pid)
			}
		}
		slices.Sort(kids)
		tree = append(tree, kids...)
	}
	return tree, nil
}

func (f *fakeSampler) Proc(pid int, files bool) (ProcSample, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.reads++
	p, ok := f.procs[pid]
	if !ok {
		return ProcSample{}, fmt.Errorf("pid %d: %w", pid, ErrGone)
	}
	p.Files = slices.Clone(p.Files)
	if !files {
		p.Files = nil
	}
	return p, nil
}

func (f *fakeSampler) Cmdline(pid int) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if c, ok := f.cmdlines[pid]; ok {
		return c, nil
	}
	return "python\x00-m\x00ipykernel_launcher", nil
}

func (f *fakeSampler) ResetPeak(pid int) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.noReset {
		return errors.New("permission denied")
	}
	f.resets = append(f.resets, pid)
	if p, ok := f.procs[pid]; ok {
		p.HWM = p.RSS
		f.procs[pid] = p
	}
	return nil
}

func (f *fakeSampler) Machine(int, string) (Machine, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.machine, nil
}

func (f *fakeSampler) ListenPorts([]int) ([]int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.portCalls++; f.bound != nil && f.portCalls >= f.bindAfter {
		f.ports, f.bound = f.bound, nil
	}
	return slices.Clone(f.ports), nil
}

// noGPU is a GPU reader for a machine without one.
type noGPU struct{}

func (noGPU) ReadGPU(context.Context) (*GPU, error) { return nil, errors.New("no GPU") }

// events collects what a Handler receives.
type events struct {
	mu  sync.Mutex
	evs []Event
}

func (e *events) add(ev Event) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.evs = append(e.evs, ev)
}

// kinds returns the kinds seen, ticks left out.
func (e *events) kinds() []EventKind {
	e.mu.Lock()
	defer e.mu.Unlock()
	var ks []EventKind
	for _, ev := range e.evs {
		if ev.Kind != CellTick {
			ks = append(ks, ev.Kind)
		}
	}
	return ks
}

func (e *events) last(kind EventKind) (Record, bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	for i := len(e.evs) - 1; i >= 0; i-- {
		if e.evs[i].Kind == kind {
			return e.evs[i].Record, true
		}
	}
	return Record{}, false
}

// The messages of one cell, as the proxy hands them over.

var t0 = time.Date(2026, 3, 4, 10, 0, 0, 0, time.UTC)

func jsonText(t *testing.T, v any) json.RawMessage {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func execRequest(t *testing.T, id, code string, silent bool, at time.Duration) *kernel.Message {
	return &kernel.Message{
		Time: t0.Add(at), Channel: kernel.Shell, Direction: kernel.FromFrontend,
		MsgID: id, MsgType: "execute_request", Session: "frontend",
		Header:   jsonText(t, map[string]string{"msg_id": id, "msg_type": "execute_request", "session": "frontend"}),
		Metadata: jsonText(t, map[string]any{"cellId": "cell-" + id}),
		Content:  jsonText(t, map[string]any{"code": code, "silent": silent, "store_history": !silent}),
	}
}

func iopub(t *testing.T, parent, typ string, content any, at time.Duration) *kernel.Message {
	return &kernel.Message{
		Time: t0.Add(at), Channel: kernel.IOPub, Direction: kernel.FromKernel,
		MsgID: parent + "-" + typ, MsgType: typ, Session: "kernel",
		ParentMsgID: parent, ParentMsgType: "execute_request",
		Content: jsonText(t, content),
	}
}

func execReply(t *testing.T, parent string, content any, at time.Duration) *kernel.Message {
	return &kernel.Message{
		Time: t0.Add(at), Channel: kernel.Shell, Direction: kernel.FromKernel,
		MsgID: parent + "-reply", MsgType: "execute_reply", Session: "kernel",
		ParentMsgID: parent, ParentMsgType: "execute_request",
		Content: jsonText(t, content),
	}
}

func idle(t *testing.T, parent string, at time.Duration) *kernel.Message {
	return iopub(t, parent, "status", map[string]string{"execution_state": "idle"}, at)
}
