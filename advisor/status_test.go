package advisor

import (
	"strings"
	"testing"
	"time"

	"github.com/cloudline/cloudline/cellwatch"
)

func TestStatus(t *testing.T) {
	tests := []struct {
		name     string
		rec      cellwatch.Record
		after    time.Duration
		text, md string
	}{
		{
			name: "running", rec: with(running(), func(r *cellwatch.Record) {
				r.PeakRSS, r.ReadBytes = 3*gib+200*mib, 1500*mib
			}), after: 12*time.Minute + 5*time.Second,
			text: "cloudline · running for 12m 05s · peak memory 3.2 GiB of 16 GiB (20 %) · read 1.5 GiB",
			md:   "**cloudline** · running for **12m 05s** · peak memory 3.2 GiB of 16 GiB (20 %) · read 1.5 GiB",
		},
		{
			name: "running with steady progress", rec: with(running(), func(r *cellwatch.Record) {
				r.Progress = &cellwatch.Progress{Fraction: 0.25, Elapsed: 20 * time.Minute, Projected: 80 * time.Minute}
			}), after: 20 * time.Minute,
			text: "cloudline · running for 20m 00s · peak memory 2 GiB of 16 GiB (12.5 %) · about 1h 00m left (1h 20m in total)",
		},
		{
			name: "running, progress not steady", rec: with(running(), func(r *cellwatch.Record) {
				r.PeakRSS, r.RSS = 0, 0
				r.Progress = &cellwatch.Progress{Fraction: 0.01, Elapsed: 5 * time.Second, Projected: 500 * time.Second}
			}), after: 5 * time.Second,
			text: "cloudline · running for 5s · 1 % done",
		},
		{
			name: "gpu and unknown memory limit", rec: with(running(), func(r *cellwatch.Record) {
				r.Machine.MemLimit = 0
				r.GPU = &cellwatch.GPU{Devices: 1, MemUsed: 4 * gib, MemTotal: 8 * gib, UtilPercent: 90}
			}), after: 90 * time.Second,
			text: "cloudline · running for 1m 30s · peak memory 2 GiB · GPU memory 4 GiB of 8 GiB (50 %)",
		},
		{
			name: "finished", rec: with(ended(75*time.Minute), func(r *cellwatch.Record) {
				r.Progress = &cellwatch.Progress{Fraction: 1, Elapsed: 75 * time.Minute, Projected: 75 * time.Minute}
			}), after: 2 * time.Hour,
			text: "cloudline · finished in 1h 15m · peak memory 2 GiB of 16 GiB (12.5 %)",
			md:   "**cloudline** · finished in **1h 15m** · peak memory 2 GiB of 16 GiB (12.5 %)",
		},
		{
			name: "interrupted", rec: with(ended(3*time.Minute), func(r *cellwatch.Record) { r.Status = cellwatch.StatusInterrupted }),
			text: "cloudline · interrupted after 3m 00s · peak memory 2 GiB of 16 GiB (12.5 %)",
		},
		{
			name: "kernel died", rec: with(ended(3*time.Minute), func(r *cellwatch.Record) { r.Status = cellwatch.StatusKernelDied }),
			text: "cloudline · kernel died after 3m 00s · peak memory 2 GiB of 16 GiB (12.5 %)",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			md, text := Status(tt.rec, config(nil), t0.Add(tt.after))
			if text != tt.text {
				t.Errorf("text = %q\nwant   %q", text, tt.text)
			}
			if tt.md != "" && md != tt.md {
				t.Errorf("markdown = %q\nwant       %q", md, tt.md)
			}
			if strings.Contains(md, "\n") || strings.Contains(text, "\n") {
				t.Error("status is not one line")
			}
		})
	}
}
