package cellwatch

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cloudline/cloudline/kernel"
)

const mb = 1 << 20

type harness struct {
	w      *Watcher
	fs     *fakeSampler
	ev     *events
	dir    string
	hist   string
	cancel context.CancelFunc
	done   chan error
}

// startWatcher runs a Watcher over a fake kernel (pid 10) with sampling
// ticks off, so the test decides when samples are taken.
func startWatcher(t *testing.T, edit func(w *Watcher)) *harness {
	t.Helper()
	dir := t.TempDir()
	h := &harness{
		fs: &fakeSampler{
			procs: map[int]ProcSample{
				10: {PID: 10, PPID: 1, CPU: time.Second, RSS: 100 * mb, HWM: 900 * mb, IO: true, RChar: 1000,
					Files: []string{filepath.Join(dir, "history.sqlite")}},
			},
			machine: Machine{TotalRAM: 16 << 30, MemLimit: 8 << 30, MemAvailable: 6 << 30, Cores: 2, DiskFree: 1 << 30},
		},
		ev:   &events{},
		dir:  dir,
		hist: filepath.Join(dir, "state", "history.jsonl"),
		done: make(chan error, 1),
	}
	var tick atomic.Int64
	h.w = &Watcher{
		// A clock that moves a second per reading: every "at most
		// every N" check passes, whatever the machine's speed.
		Now:     func() time.Time { return t0.Add(time.Duration(tick.Add(1)) * time.Second) },
		Session: "sess", Notebook: "train.ipynb", PID: 10, Dir: dir,
		Where: Where{Kind: "vm", Cloud: "aws", Instance: "m5.xlarge"},
		Proc:  h.fs, GPU: noGPU{}, Handlers: []Handler{h.ev.add},
		History: h.hist, BusyDir: filepath.Join(dir, "busy"),
		SampleEvery: time.Hour, FastEvery: -1, PortsEvery: -1,
		IgnorePorts: []int{5555},
		Scan:        ScanLimits{EndWait: time.Minute, Before: time.Minute},
	}
	if edit != nil {
		edit(h.w)
	}
	var ctx context.Context
	ctx, h.cancel = context.WithCancel(context.Background())
	go func() { h.done <- h.w.Run(ctx) }()
	t.Cleanup(func() { h.stop(t) })
	return h
}

// stop ends Run and waits for it (safe twice).
func (h *harness) stop(t *testing.T) {
	t.Helper()
	if h.cancel == nil {
		return
	}
	h.cancel()
	h.cancel = nil
	if err := <-h.done; err != nil {
		t.Errorf("Run: %v", err)
	}
}

// feed observes the messages and waits until they are handled.
func (h *harness) feed(t *testing.T, ms ...*kernel.Message) {
	t.Helper()
	for _, m := range ms {
		h.w.Observe(m)
	}
	if !h.w.Sync(10 * time.Second) {
		t.Fatal("Sync timed out")
	}
}

func TestWatcherCell(t *testing.T) {
	h := startWatcher(t, nil)
	data := filepath.Join(h.dir, "data.csv")
	if err := os.WriteFile(data, make([]byte, 2048), 0o644); err != nil {
		t.Fatal(err)
	}
	code := "import pandas as pd\ndf = pd.read_csv(\"data.csv\")\nfor i in tqdm(range(10)): train()"
	h.feed(t, execRequest(t, "m1", code, false, 0))

	start, ok := h.ev.last(CellStart)
	if !ok {
		t.Fatal("no CellStart after the execute_request")
	}
	if !slices.Equal(start.CodePaths, []FileUse{{"data.csv", 2048}}) {
		t.Errorf("CellStart code paths %v, want data.csv (a small scan is done before CellStart)", start.CodePaths)
	}
	if start.MsgID != "m1" || start.CellID != "cell-m1" || start.FirstLine != `df = pd.read_csv("data.csv")` || start.Code != code ||
		start.Status != StatusRunning || start.Notebook != "train.ipynb" || start.Session != "sess" || len(start.CodeHash) != 16 {
		t.Errorf("CellStart record: %+v", start)
	}
	// The kernel is idle, so the cell runs next: its baseline is taken
	// (peak counter reset) at once, not when the watcher gets to the
	// execute_input.
	if !slices.Equal(h.fs.resets, []int{10}) {
		t.Errorf("peak resets at the request %v, want the kernel's", h.fs.resets)
	}
	// The kernel starts running it (a queued request would wait here).
	h.feed(t,
		iopub(t, "m1", "status", map[string]string{"execution_state": "busy"}, 5*time.Millisecond),
		iopub(t, "m1", "execute_input", map[string]any{"code": code, "execution_count": 1}, 10*time.Millisecond),
	)
	if !slices.Equal(h.fs.resets, []int{10}) {
		t.Errorf("peak resets %v after execute_input, want one", h.fs.resets)
	}

	// The cell runs: the kernel grows, starts a worker, reads data.csv
	// and opens a server port.
	h.fs.update(func(f *fakeSampler) {
		f.procs[10] = ProcSample{PID: 10, PPID: 1, CPU: 3 * time.Second, RSS: 500 * mb, HWM: 520 * mb, IO: true,
			RChar: 1000 + 100*mb, WChar: 10, Files: []string{filepath.Join(h.dir, "history.sqlite"), data}}
		f.procs[11] = ProcSample{PID: 11, PPID: 10, CPU: time.Second, RSS: 250 * mb, HWM: 300 * mb, IO: true, RChar: 5}
		f.cmdlines = map[int]string{11: "python3\x00worker.py"} // ran exec: shares nothing
		f.ports = []int{5555, 8080}
		f.machine.SwapUsed = 64 * mb
	})
	h.feed(t,
		iopub(t, "m1", "stream", map[string]string{"name": "stderr", "text": "\r 50%|█████     | 5/10 [00:01<00:01, 5.00it/s]"}, 1010*time.Millisecond),
		iopub(t, "m1", "stream", map[string]string{"name": "stdout", "text": "accuracy=0.91\nval_loss: 0.2\n"}, 1500*time.Millisecond),
		iopub(t, "other", "stream", map[string]string{"name": "stdout", "text": "accuracy=0.1\n"}, 1500*time.Millisecond),
		execReply(t, "m1", map[string]any{"status": "ok", "execution_count": 1}, 2000*time.Millisecond),
	)
	if got := h.ev.kinds(); !slices.Equal(got, []EventKind{CellStart, CellOutput}) {
		t.Fatalf("events before the idle: %v", got)
	}
	h.ev.mu.Lock()
	out := h.ev.evs[1]
	h.ev.mu.Unlock()
	if want := (Output{Streams: 2, LastStream: "stdout"}); out.Output != want || string(out.Parent) == "" {
		t.Errorf("CellOutput %+v parent %s, want %+v and the request's header", out.Output, out.Parent, want)
	}
	h.feed(t, idle(t, "m1", 2010*time.Millisecond))

	if got := h.ev.kinds(); !slices.Equal(got, []EventKind{CellStart, CellOutput, CellEnd}) {
		t.Fatalf("events: %v", got)
	}
	r, _ := h.ev.last(CellEnd)
	checks := []struct {
		name      string
		got, want any
	}{
		{"status", r.Status, StatusOK},
		{"where", r.Where, Where{Kind: "vm", Cloud: "aws", Instance: "m5.xlarge"}},
		{"exact peak", r.PeakExact, true},
		{"started", r.Started, t0.Add(10 * time.Millisecond)},
		{"ended", r.Ended, t0.Add(2010 * time.Millisecond)},
		{"wall", r.Wall, 2 * time.Second},
		{"cpu", r.CPU, 3 * time.Second},
		{"peak (kernel VmHWM since reset + worker since birth)", r.PeakRSS, uint64(820 * mb)},
		{"rss", r.RSS, uint64(750 * mb)},
		{"read", r.ReadBytes, uint64(100*mb + 5)},
		{"write", r.WriteBytes, uint64(10)},
		{"files (history.sqlite was open before; data.csv is named in the code)", r.Files, []FileUse(nil)},
		{"code paths", r.CodePaths, []FileUse{{"data.csv", 2048}}},
		{"code bytes", r.CodeBytes, int64(2048)},
		{"swap growth", r.SwapGrowth, uint64(64 * mb)},
		{"metrics", r.Metrics["accuracy"] == 0.91 && r.Metrics["val_loss"] == 0.2 && len(r.Metrics) == 2, true},
		{"machine", r.Machine.MemLimit, uint64(8 << 30)},
	}
	for _, c := range checks {
		if !equal(c.got, c.want) {
			t.Errorf("%s = %v, want %v", c.name, c.got, c.want)
		}
	}
	if r.Progress == nil || r.Progress.Fraction != 0.5 || r.Progress.Source != "tqdm" || r.Progress.Projected != 2*time.Second {
		t.Errorf("progress = %+v", r.Progress)
	}
	if _, err := os.Stat(filepath.Join(h.dir, "busy", strconv.Itoa(os.Getpid()))); !os.IsNotExist(err) {
		t.Errorf("busy marker left after the cell: %v", err)
	}

	h.stop(t) // writes pending history
	recs, err := ReadHistory(h.hist, "train.ipynb", 0)
	if err != nil || len(recs) != 1 {
		t.Fatalf("history: %v, %d records", err, len(recs))
	}
	if recs[0].MsgID != "m1" || recs[0].PeakRSS != 820*mb || recs[0].Code != "" {
		t.Errorf("history record: %+v", recs[0])
	}
	if info, err := os.Stat(h.hist); err != nil || info.Mode().Perm() != 0o600 {
		t.Errorf("history file: %v, %v", info, err)
	}
}

func equal(a, b any) bool {
	switch a := a.(type) {
	case []FileUse:
		return slices.Equal(a, b.([]FileUse))
	case []int:
		return slices.Equal(a, b.([]int))
	case time.Time:
		return a.Equal(b.(time.Time))
	}
	return a == b
}

// dated is m with the date the kernel stamps in its header.
func dated(t *testing.T, m *kernel.Message, date string) *kernel.Message {
	m.Header = jsonText(t, map[string]string{"msg_id": m.MsgID, "msg_type": m.MsgType, "session": m.Session, "date": date})
	return m
}

// A cell's running time is the kernel's, from the dates on its
// execute_input and idle: here the proxy read both late and 1 s apart,
// while the kernel ran the cell for 3 s. Without dates, or with dates a
// stepped clock made absurd, it is the time between their arrivals.
func TestWatcherWallIsTheKernels(t *testing.T) {
	cases := []struct {
		name       string
		start, end string
		want       time.Duration
	}{
		{"kernel dates", "2026-03-04T10:00:00.010000Z", "2026-03-04T10:00:03.010000Z", 3 * time.Second},
		{"python offset form", "2026-03-04T10:00:00.010000+00:00", "2026-03-04T10:00:03.510000+00:00", 3500 * time.Millisecond},
		{"no dates", "", "", time.Second},
		{"the clock stepped back", "2026-03-04T10:00:03Z", "2026-03-04T10:00:00Z", time.Second},
		{"the clock stepped an hour on", "2026-03-04T10:00:00Z", "2026-03-04T11:00:00Z", time.Second},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := startWatcher(t, nil)
			h.feed(t, execRequest(t, "m1", "train()", false, 0))
			input := iopub(t, "m1", "execute_input", map[string]any{"code": "train()", "execution_count": 1}, 2*time.Second)
			end := idle(t, "m1", 3*time.Second)
			if tc.start != "" {
				input, end = dated(t, input, tc.start), dated(t, end, tc.end)
			}
			h.feed(t, input, execReply(t, "m1", map[string]string{"status": "ok"}, 3*time.Second), end)
			r, ok := h.ev.last(CellEnd)
			if !ok {
				t.Fatal("no CellEnd")
			}
			if r.Wall != tc.want {
				t.Errorf("wall %v, want %v", r.Wall, tc.want)
			}
		})
	}
}
