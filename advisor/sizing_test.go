package advisor

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cloudline/cloudline/cellwatch"
	"github.com/cloudline/cloudline/cloud"
)

// pressed is a cell that peaked at 40 GiB of a 48 GiB machine, two cores busy.
func pressed() cellwatch.Record {
	r := ended(10 * time.Minute)
	r.PeakRSS, r.RSS, r.CPU = 40*gib, 30*gib, 19*time.Minute
	r.Machine.MemLimit, r.Machine.TotalRAM = 48*gib, 48*gib
	return r
}

func memoryNote(t *testing.T, in Input) Advice {
	t.Helper()
	in.Phase, in.Now = CellEnd, t0.Add(time.Hour)
	if in.Config.TrainingTime == 0 {
		in.Config = config(nil)
	}
	for _, a := range Evaluate(in) {
		if a.Rule == RuleMemoryPressure {
			return a
		}
	}
	t.Fatalf("no memory-pressure note for %+v", in.Place)
	return Advice{}
}

func TestSizingNamesSizeAndJob(t *testing.T) {
	a := memoryNote(t, Input{Record: pressed()})
	for _, want := range []string{"Move this work to an Azure Machine Learning", "It needs about 50 GiB: Standard_E8s_v5, 64 GiB, 8 vCPU.",
		"`cloudline job train.ipynb` writes an Azure Machine Learning command job sized for this notebook."} {
		if !strings.Contains(a.Markdown, want) || !strings.Contains(a.Text, strings.ReplaceAll(want, "**", "")) {
			t.Errorf("note lacks %q:\n%s", want, a.Markdown)
		}
	}
	if a.Evidence["size"] != "Standard_E8s_v5" || a.Evidence["job_command"] != "cloudline job train.ipynb" {
		t.Errorf("evidence %v", a.Evidence)
	}
}

func TestSizingByPlace(t *testing.T) {
	tests := []struct {
		name    string
		place   cloud.Place
		want    []string
		notWant string
	}{
		{"azure VM", cloud.Place{Kind: cloud.KindVM, Cloud: "azure"}, []string{"already runs on an Azure VM: resize it", "Standard_E8s_v5"}, "Move this work"},
		{"EC2, cloud unset", cloud.Place{Kind: cloud.KindVM, Cloud: "aws", Instance: "m5.xlarge"},
			[]string{"EC2 instance (m5.xlarge)", "ml.r5.2xlarge", "--cloud aws"}, "Azure"},
		{"hub", cloud.Place{Kind: cloud.KindHub, Service: "JupyterHub", MemLimit: 48 * gib},
			[]string{"limited to 48 GiB (MEM_LIMIT): ask for a larger server profile (about 50 GiB)"}, "Move this work"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := memoryNote(t, Input{Record: pressed(), Place: tt.place})
			for _, w := range tt.want {
				if !strings.Contains(a.Markdown, w) {
					t.Errorf("lacks %q:\n%s", w, a.Markdown)
				}
			}
			if strings.Contains(a.Markdown, tt.notWant) {
				t.Errorf("has %q:\n%s", tt.notWant, a.Markdown)
			}
		})
	}
	job := Input{Phase: KernelDied, Record: pressed(), Config: config(nil), Place: cloud.Place{Kind: cloud.KindJob, Cloud: "azure"}, Now: t0}
	if got := Evaluate(job); len(got) != 0 {
		t.Errorf("inside a job: %d notes, want none", len(got))
	}
}

func TestForecastFromLastRun(t *testing.T) {
	last := ended(2 * time.Hour)
	last.MsgID, last.Session, last.Requested, last.Ended = "old", "s1", t0.Add(-50*time.Hour), t0.Add(-48*time.Hour)
	start := running()
	start.Wall = 0
	eval := func(past ...cellwatch.Record) []Advice {
		return Evaluate(Input{Phase: CellStart, Record: start, Past: past, Config: config(nil), Now: t0.Add(time.Second)})
	}
	got := eval(quick(), last)
	if len(got) != 1 || got[0].Rule != RuleProjectedTraining || got[0].Title != "This cell took 2h 00m on its last run (2 days ago), past the 1h limit" {
		t.Fatalf("forecast: %+v", got)
	}
	if !strings.Contains(got[0].Text, "Standard_D2s_v5") || got[0].Evidence["source"] != "history" {
		t.Errorf("forecast note: %s %v", got[0].Text, got[0].Evidence)
	}
	short := with(last, func(r *cellwatch.Record) { r.Wall = 20 * time.Minute })
	other := with(last, func(r *cellwatch.Record) { r.CodeHash = "h2" })
	sameCell := with(other, func(r *cellwatch.Record) { r.CellID = "c1" })
	cut := with(short, func(r *cellwatch.Record) {
		r.Status, r.Progress = cellwatch.StatusInterrupted, &cellwatch.Progress{Fraction: 0.1, Projected: 3 * time.Hour}
	})
	for name, tt := range map[string]struct {
		past []cellwatch.Record
		cell string
		fire bool
	}{
		"last run short":            {[]cellwatch.Record{last, short}, "", false},
		"other code":                {[]cellwatch.Record{other}, "", false},
		"same cell id, code edited": {[]cellwatch.Record{sameCell}, "c1", true},
		"interrupted, projected 3h": {[]cellwatch.Record{cut}, "", true},
		"other notebook":            {[]cellwatch.Record{with(last, func(r *cellwatch.Record) { r.Notebook = "x.ipynb" })}, "", false},
	} {
		t.Run(name, func(t *testing.T) {
			start.CellID = tt.cell
			fired := slices.ContainsFunc(eval(tt.past...), func(a Advice) bool { return a.Rule == RuleProjectedTraining })
			if fired != tt.fire {
				t.Errorf("fired %v, want %v", fired, tt.fire)
			}
		})
	}
	// The forecast does not silence long-training once this run passes the limit.
	over := with(start, func(r *cellwatch.Record) { r.Advice = []string{RuleProjectedTraining} })
	live := Evaluate(Input{Phase: Live, Record: over, Past: []cellwatch.Record{last}, Config: config(nil), Now: t0.Add(61 * time.Minute)})
	if !slices.ContainsFunc(live, func(a Advice) bool { return a.Rule == RuleLongTraining }) {
		t.Errorf("after a forecast, an hour in: %v; want long-training", live)
	}
	if got := agoText(90 * time.Minute); got != "1 hour ago" {
		t.Errorf("agoText = %q", got)
	}
}
