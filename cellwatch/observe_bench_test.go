package cellwatch

import (
	"testing"
	"time"
)

// BenchmarkObserve is what Observe costs the proxy's forwarding path for
// an output (here: dropped on a full queue, the worst case taken under a
// lock); it must not allocate.
func BenchmarkObserve(b *testing.B) {
	w := &Watcher{QueueSize: 1}
	out := iopub(&testing.T{}, "m", "stream", map[string]string{"text": "x"}, time.Second)
	w.Observe(out)
	b.ReportAllocs()
	for b.Loop() {
		w.Observe(out)
	}
	if w.Dropped() == 0 {
		b.Fatal("nothing dropped: the benchmark measured the wrong path")
	}
}
