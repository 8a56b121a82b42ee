package advisor_test

import (
	"fmt"
	"time"

	"github.com/cloudline/cloudline/advisor"
	"github.com/cloudline/cloudline/cellwatch"
	"github.com/cloudline/cloudline/kernelspec"
)

// A live evaluation of a cell that has trained for 70 minutes, filtered
// through the cool-down the way the kernel wires it: the second tick posts
// nothing new.
func ExampleEvaluate() {
	start := time.Date(2026, 3, 14, 9, 0, 0, 0, time.UTC)
	rec := cellwatch.Record{
		Notebook: "train.ipynb", MsgID: "m1", FirstLine: "model.fit(X, y)",
		Requested: start, Started: start, Status: cellwatch.StatusRunning,
		Machine: cellwatch.Machine{MemLimit: 16 << 30, DiskTotal: 512 << 30, DiskFree: 200 << 30},
	}
	cfg := kernelspec.DefaultConfig()
	var cool advisor.Cooldown
	for _, now := range []time.Time{start.Add(70 * time.Minute), start.Add(75 * time.Minute)} {
		in := advisor.Input{Phase: advisor.Live, Record: rec, Config: cfg, Now: now}
		for _, a := range advisor.Evaluate(in) {
			if cool.AllowCell(a.Rule, rec.Notebook, rec.MsgID, now, cfg.Cooldown) {
				fmt.Print(a.Text)
			}
		}
	}
	md, _ := advisor.Status(rec, cfg, start.Add(75*time.Minute))
	fmt.Println(md)
	// Output:
	// cloudline: Training has run for 1h 10m: time to move it to the cloud
	// Cell `model.fit(X, y)` has been running for 1h 10m, past the training threshold of 1h 00m.
	// Compute checkpoint: once a training run takes more than an hour or two on a local machine, cloud compute gets the team moving faster.
	// Next: Run this training as an Azure Machine Learning training job on a compute cluster, and keep the notebook for exploring a sample. It needs about 1 GiB: Standard_D2s_v5, 8 GiB, 2 vCPU. `cloudline job train.ipynb` writes an Azure Machine Learning command job sized for this notebook.
	// **cloudline** · running for **1h 15m**
}
