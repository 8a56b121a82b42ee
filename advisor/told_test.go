package advisor

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cloudline/cloudline/cellwatch"
	"github.com/cloudline/cloudline/kernelspec"
)

func cellN(n int, edit func(*cellwatch.Record)) cellwatch.Record {
	r := with(ended(time.Second), func(r *cellwatch.Record) { r.MsgID = "m" + itoa(n) })
	if edit != nil {
		edit(&r)
	}
	return r
}

// TestSaidOnce: a finding about the same subject is told once per kernel
// session whatever the cool-down, and ports left listening belong to the
// cell that opened them.
func TestSaidOnce(t *testing.T) {
	sensitive := config(func(c *kernelspec.Config) { c.SensitivePaths, c.Cooldown = []string{"*secret*"}, 0 })
	secret := func(r *cellwatch.Record) {
		r.CodePaths = []cellwatch.FileUse{{Path: "secret.csv", Bytes: 10}}
	}
	opened := func(r *cellwatch.Record) {
		secret(r)
		r.Files = []cellwatch.FileUse{{Path: "/w/secret.csv", Bytes: 10}}
	}
	other := func(r *cellwatch.Record) { r.CodePaths = []cellwatch.FileUse{{Path: "secret-2.csv", Bytes: 10}} }
	serve := func(r *cellwatch.Record) { r.Code, r.ListenPorts = "srv = HTTPServer(('', 0), H)", []int{8000} }
	dask := func(r *cellwatch.Record) { r.Code, r.ListenPorts = "c = LocalCluster()", []int{8787, 41000} }
	stays := func(r *cellwatch.Record) { r.ListenPorts = []int{8000} }
	staysDask := func(r *cellwatch.Record) { r.ListenPorts = []int{8787, 41000} }
	type step struct {
		phase Phase
		rec   cellwatch.Record
		want  []string
	}
	tests := []struct {
		name  string
		cfg   kernelspec.Config
		steps []step
	}{
		{"same file in two cells", sensitive, []step{
			{CellStart, cellN(1, secret), []string{RuleSensitiveData}},
			{CellEnd, cellN(1, opened), nil}, // the cell's note has it; the opened path is told too
			{CellStart, cellN(2, secret), nil},
			{CellEnd, cellN(2, opened), nil},
			{CellStart, cellN(3, other), []string{RuleSensitiveData}},
		}},
		{"a server is told on the cell that started it", config(nil), []step{
			{CellEnd, cellN(1, serve), []string{RuleLocalServing}},
			{CellStart, cellN(2, stays), nil},
			{CellEnd, cellN(2, stays), nil},
		}},
		{"a dashboard's ports are never a server", config(nil), []step{
			{CellEnd, cellN(1, dask), nil},
			{CellStart, cellN(2, staysDask), nil},
			{CellEnd, cellN(2, staysDask), nil},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var c Cooldown
			for i, s := range tt.steps {
				now := t0.Add(time.Duration(i) * time.Minute)
				if s.phase == CellStart {
					c.CellStarted(s.rec)
				}
				got := rulesOf(c.Admit(Evaluate(Input{Phase: s.phase, Record: s.rec, Config: tt.cfg, Now: now}), s.rec, now, tt.cfg.Cooldown))
				if !slices.Equal(got, s.want) {
					t.Errorf("step %d (%s of %s): got %q, want %q", i, s.phase, s.rec.MsgID, got, s.want)
				}
				if s.phase == CellEnd {
					c.CellEnded(s.rec)
				}
			}
		})
	}
}

// TestCooldownSeed: advice in the history holds the cool-down over a
// restart, per notebook and rule; unnamed notebooks and kernel-died are
// not carried.
func TestCooldownSeed(t *testing.T) {
	var c Cooldown
	past := []cellwatch.Record{
		{Notebook: "a.ipynb", Ended: t0, Advice: []string{RuleDatasetSize, RuleKernelDied}},
		{Notebook: "", Ended: t0, Advice: []string{RuleLongTraining}},
	}
	c.Seed(past)
	every := time.Hour
	if c.Allow(RuleDatasetSize, "a.ipynb", t0.Add(30*time.Minute), every) {
		t.Error("dataset-size repeated within the cool-down after a restart")
	}
	if !c.Allow(RuleDatasetSize, "b.ipynb", t0.Add(30*time.Minute), every) {
		t.Error("another notebook held by a.ipynb's history")
	}
	if !c.Allow(RuleLongTraining, "", t0.Add(time.Minute), every) {
		t.Error("an unnamed notebook's history held the cool-down")
	}
	if !c.Allow(RuleDatasetSize, "a.ipynb", t0.Add(61*time.Minute), every) {
		t.Error("the cool-down did not end")
	}
}

// TestSameNotebook: without a notebook name, runs count as the same
// notebook only when they ran the same cell.
func TestSameNotebook(t *testing.T) {
	run := func(session string, cells ...string) []cellwatch.Record {
		var out []cellwatch.Record
		for i, h := range cells {
			out = append(out, cellwatch.Record{Session: session, MsgID: session + itoa(i), CodeHash: h, Status: cellwatch.StatusOK})
		}
		return out
	}
	var past []cellwatch.Record
	past = append(past, run("a", "imp1", "fit")...)
	past = append(past, run("b", "imp2", "fit")...)
	past = append(past, run("c", "imp1", "fit")...)
	cur := run("d", "imp1", "fit")
	past = append(past, cur[0])
	got := map[string]bool{}
	for _, r := range sameNotebook(cur[1], past) {
		got[r.Session] = true
	}
	if !got["a"] || got["b"] || !got["c"] || !got["d"] {
		t.Errorf("sessions judged the same notebook: %v, want a, c and d", got)
	}
	withIDs := []cellwatch.Record{{Session: "x", MsgID: "x1", CellID: "c1", CodeHash: "fit"}, {Session: "y", MsgID: "y1", CellID: "c2", CodeHash: "fit"}}
	cur2 := cellwatch.Record{Session: "z", MsgID: "z1", CellID: "c1", CodeHash: "fit"}
	if s := sameNotebook(cur2, withIDs); len(s) != 1 || s[0].Session != "x" {
		t.Errorf("by cell id: %v, want session x only", s)
	}
}

func TestCellLineAndLowered(t *testing.T) {
	rec := cellwatch.Record{Code: "# load\nimport pandas as pd\nfrom x import y\n%matplotlib inline\n\ndf = pd.read_csv('a.csv')\n"}
	if got := CellLine(rec); got != "df = pd.read_csv('a.csv')" {
		t.Errorf("CellLine = %q", got)
	}
	if got := CellLine(cellwatch.Record{Code: "import os\n"}); got != "import os" {
		t.Errorf("CellLine of an import-only cell = %q", got)
	}
	cfg, _ := kernelspec.ParseConfig([]byte(`{"training_time":"2s","memory_fraction":0.95}`), nil)
	if got := loweredNote(cfg, []string{"training_time", "memory_fraction"}); got != "This kernelspec lowers training_time to 2s (default 1h)." {
		t.Errorf("loweredNote = %q", got)
	}
	if got := loweredNote(config(nil), []string{"training_time"}); got != "" {
		t.Errorf("loweredNote at the defaults = %q", got)
	}
}

// TestLimitAsWritten: a configured limit is quoted as the user wrote it.
func TestLimitAsWritten(t *testing.T) {
	cfg, _ := kernelspec.ParseConfig([]byte(`{"dataset_size":"4MB"}`), nil)
	rec := with(quick(), func(r *cellwatch.Record) { r.ReadBytes = 8 << 20 })
	as := Evaluate(Input{Phase: CellEnd, Record: rec, Config: cfg, Now: rec.Ended})
	if len(as) != 1 || as[0].Title != "This cell's data (8 MiB) is more than the dataset_size limit of 4MB" {
		t.Fatalf("dataset-size = %q", rulesOf(as))
	}
	if want := "This kernelspec sets dataset_size to 4MB (default none)."; !strings.Contains(as[0].Text, want) {
		t.Errorf("text does not say %q:\n%s", want, as[0].Text)
	}
}
