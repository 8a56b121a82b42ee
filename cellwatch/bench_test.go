package cellwatch

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/cloudline/cloudline/kernel"
)

// BenchmarkCellRealProc is the watcher's own cost for one quick cell
// (request, execute_input, reply, idle) measuring this test process
// through the real /proc: baseline, peak reset, end sample, ports check.
func BenchmarkCellRealProc(b *testing.B) {
	dir := b.TempDir()
	w := &Watcher{
		PID: os.Getpid(), Dir: dir, Proc: &ProcSampler{}, GPU: noGPU{},
		History: "off", BusyDir: filepath.Join(dir, "busy"), PortsEvery: -1,
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- w.Run(ctx) }()
	b.Cleanup(func() { cancel(); <-done })
	ms := time.Millisecond
	t := &testing.T{}
	b.ResetTimer()
	for i := range b.N {
		id := "m" + strconv.Itoa(i)
		now := time.Now()
		for _, m := range []*kernel.Message{
			execRequest(t, id, "df = pd.read_csv('data.csv')", false, 0),
			iopub(t, id, "execute_input", map[string]any{}, ms),
			execReply(t, id, map[string]string{"status": "ok"}, 2*ms),
			idle(t, id, 3*ms),
		} {
			m.Time = now // the proxy's clock is the real one
			w.Observe(m)
		}
		if !w.Sync(10 * time.Second) {
			b.Fatal("Sync timed out")
		}
	}
}

// BenchmarkObserve is the cost on the proxy's forwarding path.
func BenchmarkObserve(b *testing.B) {
	w := &Watcher{QueueSize: 1}
	t := &testing.T{}
	out := iopub(t, "m", "stream", map[string]string{"text": "x"}, 0)
	w.Observe(out) // fills the queue: the rest are counted drops
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		w.Observe(out)
	}
}
