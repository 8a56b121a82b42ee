package livecomm

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cloudline/cloudline/cellwatch"
	"github.com/cloudline/cloudline/kernel"
)

// sent is one message the hub injected.
type sent struct {
	parent  string
	msgType string
	content map[string]any
}

type fakeIOPub struct {
	mu   sync.Mutex
	msgs []sent
	got  chan struct{}
}

func newFakeIOPub() *fakeIOPub { return &fakeIOPub{got: make(chan struct{}, 64)} }

func (f *fakeIOPub) inject(parent json.RawMessage, msgType string, content, _ any) error {
	b, err := json.Marshal(content)
	if err != nil {
		return err
	}
	var c map[string]any
	if err := json.Unmarshal(b, &c); err != nil {
		return err
	}
	f.mu.Lock()
	f.msgs = append(f.msgs, sent{parent: string(parent), msgType: msgType, content: c})
	f.mu.Unlock()
	f.got <- struct{}{}
	return nil
}

func (f *fakeIOPub) all() []sent {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]sent(nil), f.msgs...)
}

// wait returns once n messages were injected.
func (f *fakeIOPub) wait(t *testing.T, n int) []sent {
	t.Helper()
	deadline := time.After(10 * time.Second)
	for len(f.all()) < n {
		select {
		case <-f.got:
		case <-deadline:
			t.Fatalf("want %d injected messages, got %v", n, f.all())
		}
	}
	return f.all()
}

func dataType(s sent) string {
	d, _ := s.content["data"].(map[string]any)
	typ, _ := d["type"].(string)
	return typ
}

func commMsg(msgType, content string) *kernel.Message {
	return &kernel.Message{MsgType: msgType, Header: json.RawMessage(`{"msg_id":"h-` + msgType + `"}`), Content: json.RawMessage(content)}
}

func newHub(t *testing.T, log *bytes.Buffer) (*Hub, *fakeIOPub) {
	t.Helper()
	f := newFakeIOPub()
	h := &Hub{
		Inject: f.inject,
		Kernel: func() (KernelStatus, error) {
			return KernelStatus{RSS: 100, MemLimit: 1000, LimitSource: cellwatch.LimitCgroup}, nil
		},
		Settings: Settings{MemoryFraction: 0.8, LiveAfter: time.Minute, TrainingTime: time.Hour},
		Log:      slog.New(slog.NewTextHandler(log, nil)),
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); h.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	return h, f
}

func TestInterceptTakesOnlyItsOwnComms(t *testing.T) {
	var log bytes.Buffer
	h, f := newHub(t, &log)
	cases := []struct {
		name string
		m    *kernel.Message
		want bool
	}{
		{"other target", commMsg("comm_open", `{"comm_id":"w1","target_name":"jupyter.widget","data":{}}`), false},
		{"not a comm", commMsg("comm_info_request", `{}`), false},
		{"unparsable", commMsg("comm_open", `{"comm_id":`), false},
		{"a widget's message", commMsg("comm_msg", `{"comm_id":"w1","data":{"method":"update"}}`), false},
		{"ours", commMsg("comm_open", `{"comm_id":"c1","target_name":"cloudline","data":{"v":1}}`), true},
		{"to ours", commMsg("comm_msg", `{"comm_id":"c1","data":{"v":1,"type":"refresh"}}`), true},
		{"malformed to ours", commMsg("comm_msg", `{"comm_id":"c1","data":"junk"}`), true},
	}
	for _, c := range cases {
		if got := h.Intercept(c.m); got != c.want {
			t.Errorf("%s: Intercept = %v, want %v", c.name, got, c.want)
		}
	}
	if !h.Connected() {
		t.Fatal("not connected after a cloudline comm_open")
	}
	// Two hellos (open, refresh) and a kernel reading.
	msgs := f.wait(t, 3)
	types := map[string]int{}
	for _, m := range msgs {
		types[dataType(m)]++
		if m.msgType != "comm_msg" || m.content["comm_id"] != "c1" || !strings.Contains(m.parent, "h-comm_open") {
			t.Errorf("message %+v: want a comm_msg to c1 parented to its comm_open", m)
		}
	}
	if types[TypeHello] < 1 || types[TypeKernel] < 1 {
		t.Errorf("types sent = %v, want hello and kernel", types)
	}
	if !strings.Contains(log.String(), "dropped comm message") {
		t.Errorf("no log line for the malformed message: %q", log.String())
	}
	if !h.Intercept(commMsg("comm_close", `{"comm_id":"c1","data":{}}`)) || h.Connected() {
		t.Error("comm_close of our comm: want consumed and disconnected")
	}
}

func TestBadVersionIsRefused(t *testing.T) {
	var log bytes.Buffer
	h, f := newHub(t, &log)
	if !h.Intercept(commMsg("comm_open", `{"comm_id":"c2","target_name":"cloudline","data":{"v":7}}`)) {
		t.Fatal("a cloudline comm_open must not reach the wrapped kernel")
	}
	msgs := f.wait(t, 1)
	if msgs[0].msgType != "comm_close" || msgs[0].content["comm_id"] != "c2" || h.Connected() {
		t.Errorf("got %+v, connected %v: want a comm_close and no comm", msgs[0], h.Connected())
	}
}

func TestCellPacingAndSummary(t *testing.T) {
	var log bytes.Buffer
	h, f := newHub(t, &log)
	h.Intercept(commMsg("comm_open", `{"comm_id":"c1","target_name":"cloudline","data":{"v":1}}`))
	n := len(f.wait(t, 2)) // hello, kernel
	t0 := time.Unix(1000, 0)
	rec := cellwatch.Record{MsgID: "m1", CellID: "cell-1", Requested: t0, Status: cellwatch.StatusRunning,
		PeakRSS: 5 << 30, Machine: cellwatch.Machine{MemLimit: 16 << 30}, ReadBytes: 7}
	for _, at := range []time.Duration{250 * time.Millisecond, time.Second, 1500 * time.Millisecond, 3 * time.Second, 4 * time.Second} {
		h.Cell(rec, t0.Add(at))
	}
	h.Finding(rec, Finding{Rule: "long-training", Headline: "long"}, t0.Add(4500*time.Millisecond))
	h.Finding(rec, Finding{Rule: "long-training", Headline: "long"}, t0.Add(4600*time.Millisecond)) // no repeat
	rec.Status, rec.Wall = cellwatch.StatusOK, 5*time.Second
	h.End(rec, []Finding{{Rule: "memory-pressure", Headline: "mem"}}, t0.Add(5*time.Second))
	msgs := f.wait(t, n+4)[n:]
	var got []string
	for _, m := range msgs {
		if typ := dataType(m); typ == TypeCell || typ == TypeCellEnd {
			d := m.content["data"].(map[string]any)
			got = append(got, typ+"@"+time.Duration(d["elapsed_s"].(float64)*float64(time.Second)).String())
		}
	}
	want := []string{"cell@1s", "cell@3s", "cell@4.5s", "cell_end@5s"}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("cell messages %v, want %v", got, want)
	}
	end := msgs[len(msgs)-1].content["data"].(map[string]any)
	if fs := end["findings"].([]any); len(fs) != 2 || end["cell_id"] != "cell-1" || end["peak_rss_bytes"].(float64) != 5<<30 {
		t.Errorf("summary %v: want both findings, the cell id and the peak", end)
	}
	// The next run of the same cell knows its last run.
	rec2 := cellwatch.Record{MsgID: "m2", CellID: "cell-1", Requested: t0.Add(time.Minute), Status: cellwatch.StatusRunning}
	h.Cell(rec2, t0.Add(time.Minute+time.Second))
	last := f.wait(t, n+5)[n+4].content["data"].(map[string]any)
	if last["last_run_s"] != 5.0 {
		t.Errorf("last_run_s = %v, want 5", last["last_run_s"])
	}
}

func TestNothingSentWithoutComm(t *testing.T) {
	var log bytes.Buffer
	h, f := newHub(t, &log)
	rec := cellwatch.Record{MsgID: "m1", CellID: "c", Requested: time.Unix(0, 0), Status: cellwatch.StatusRunning}
	h.Cell(rec, time.Unix(10, 0))
	h.End(rec, nil, time.Unix(11, 0))
	if msgs := f.all(); len(msgs) != 0 || h.Connected() {
		t.Errorf("sent %v without a comm", msgs)
	}
}
