package advisor_test

import (
	"fmt"
	"time"

	"github.com/cloudline/cloudline/advisor"
	"github.com/cloudline/cloudline/cellwatch"
	"github.com/cloudline/cloudline/kernelspec"
)

// A cell that has trained for 70 minutes, evaluated live twice and
// filtered through the cool-down the way the kernel wires it: the first
// tick creates the cell's note, the second finds nothing new and only
// refreshes its status line in place.
func ExampleNote() {
	start := time.Date(2026, 3, 14, 9, 0, 0, 0, time.UTC)
	rec := cellwatch.Record{
		Notebook: "train.ipynb", MsgID: "m1", ExecutionCount: 4,
		Code:      "import torch\nmodel.fit(X, y)\n",
		Requested: start, Started: start, Status: cellwatch.StatusRunning,
		Machine: cellwatch.Machine{MemLimit: 16 << 30, DiskTotal: 512 << 30, DiskFree: 200 << 30},
	}
	cfg := kernelspec.DefaultConfig()
	var cool advisor.Cooldown
	note := &advisor.Note{ID: "cloudline-note-m1", Cfg: cfg}
	for _, now := range []time.Time{start.Add(70 * time.Minute), start.Add(75 * time.Minute)} {
		in := advisor.Input{Phase: advisor.Live, Record: rec, Config: cfg, Now: now}
		if d, ok := note.Add(rec, cool.Admit(advisor.Evaluate(in), rec, now, cfg.Cooldown), now); ok {
			fmt.Println(d.MsgType(), note.Rules())
		}
		if d, ok := note.Tick(rec, now); ok {
			fmt.Println(d.MsgType(), "status")
		}
	}
	// Output:
	// display_data [long-training]
	// update_display_data status
	// update_display_data status
}
