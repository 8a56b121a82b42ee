package advisor

import (
	"slices"
	"time"

	"github.com/cloudline/cloudline/cellwatch"
	"github.com/cloudline/cloudline/cloud"
	"github.com/cloudline/cloudline/kernelspec"
)

// Phase is the moment in a cell's life an evaluation is for.
type Phase int

// Phases. The zero Phase is invalid: Evaluate returns nothing for it.
const (
	// KernelStart is the first (non-silent) cell of a kernel run; the record
	// is that cell. Only kernel-wide advice fires here.
	KernelStart Phase = iota + 1
	// CellStart is an execute_request just seen. It may be evaluated again
	// once CodePaths are filled in; advice already in Record.Advice is skipped.
	CellStart
	// Live is a periodic evaluation of a running cell's snapshot.
	Live
	// CellEnd is the cell's final record, before its idle is forwarded.
	CellEnd
	// KernelDied is the child kernel's death; the record is the cell that was
	// running (or the last one), with Signal set when known.
	KernelDied
)

var phaseNames = map[Phase]string{
	KernelStart: "kernel-start",
	CellStart:   "cell-start",
	Live:        "live",
	CellEnd:     "cell-end",
	KernelDied:  "kernel-died",
}

func (p Phase) String() string {
	if s, ok := phaseNames[p]; ok {
		return s
	}
	return "phase(?)"
}

// Input is everything one evaluation looks at.
type Input struct {
	Phase  Phase
	Record cellwatch.Record   // the cell (a snapshot while it runs)
	Past   []cellwatch.Record // earlier records of the same notebook, oldest first; may be empty
	Config kernelspec.Config
	Now    time.Time
	// Place is where the kernel runs (cloud.Detect); the zero Place is a
	// machine of no cloud. Inside a cloud job nothing fires; elsewhere the
	// sizing rules name the next size and the job command for the place.
	Place cloud.Place
}

// Rule ids: part of cloudline's interface (tests, rules_off and the
// metadata users match on).
const (
	RuleLongTraining      = "long-training"
	RuleProjectedTraining = "projected-training"
	RuleDatasetSize       = "dataset-size"
	RuleMemoryPressure    = "memory-pressure"
	RuleKernelDied        = "kernel-died"
	RuleDiskSpace         = "disk-space"
	RuleComputeSaturated  = "compute-saturated"
	RuleGPUSaturated      = "gpu-saturated"
	RuleParallelLoad      = "parallel-load"
	RuleSensitiveData     = "sensitive-data"
	RuleStableModel       = "stable-model"
	RuleLocalServing      = "local-serving"
)

// Checkpoints of the move from laptop to cloud, as Advice.Checkpoint.
const (
	CheckpointCompliance = "compliance"
	CheckpointStorage    = "storage"
	CheckpointCompute    = "compute"
	CheckpointStability  = "stability"
)

// finding is what a rule's detector saw; render turns it into Advice.
type finding struct {
	title    string                 // the headline: what was measured, against which limit
	measured func(s style) string   // one or two sentences: numbers, units, the cell
	details  func(s style) []string // optional bullet lines
	todo     func(v vendor) string  // overrides the rule's todo when set
	why      string                 // overrides the rule's why when set
	// extra is an optional sentence after the measurement (a sizing of
	// the machine the work needs, say); nil or "" adds nothing.
	extra    func(s style) string
	subjects []string // see Advice.Subjects
	evidence map[string]any
}

// rule is one entry of the dispatch table.
type rule struct {
	id         string
	checkpoint string
	phases     []Phase
	why        string   // one line naming the checkpoint
	keys       []string // the configuration keys of its thresholds, for loweredNote
	service    purpose  // which of the vendor's services the headline names
	todo       func(v vendor) string
	detect     func(in Input) (finding, bool)
}

func (r *rule) runsAt(p Phase) bool {
	for _, q := range r.phases {
		if q == p {
			return true
		}
	}
	return false
}

// rules is the dispatch table, in the order advice is returned.
var rules = []rule{
	kernelDiedRule,
	sensitiveDataRule,
	datasetSizeRule,
	diskSpaceRule,
	memoryPressureRule,
	longTrainingRule,
	projectedTrainingRule,
	computeSaturatedRule,
	gpuSaturatedRule,
	parallelLoadRule,
	stableModelRule,
	localServingRule,
}

// RuleIDs lists every rule id in evaluation order.
func RuleIDs() []string {
	ids := make([]string, len(rules))
	for i := range rules {
		ids[i] = rules[i].id
	}
	return ids
}

// Evaluate returns every rule that fires for in, rendered for
// in.Config.Cloud, in a fixed order. Rules in Config.RulesOff never fire,
// rules already listed in in.Record.Advice (posted for this cell) are not
// repeated, and silent execute_requests get nothing except kernel-died.
// Evaluate keeps no state: cool-downs are Cooldown's job.
func Evaluate(in Input) []Advice {
	if (in.Record.Silent && in.Phase != KernelDied) || in.Place.Kind == cloud.KindJob {
		return nil
	}
	v := vendorFor(vendorName(in))
	var out []Advice
	for i := range rules {
		r := &rules[i]
		if !r.runsAt(in.Phase) || in.Config.RuleOff(r.id) || posted(in.Record, r.id) {
			continue
		}
		f, ok := r.detect(in)
		if !ok {
			continue
		}
		if sizing[r.id] {
			f = withStep(f, r, in)
		}
		out = append(out, render(r, f, v, in))
	}
	return out
}

// restated are the rules whose figures grow while a cell runs (its peak
// memory, the data it works with): found live, they are restated with the
// cell's final record at its end (Restate, Note.Restate), so the note's
// headline and its closing summary give one peak. 04-memory-pressure
// showed why: found at 252.6 MiB while the 400 MiB buffer filled, the
// summary said 451.1 MiB.
var restated = map[string]bool{RuleMemoryPressure: true, RuleDatasetSize: true}

// Restate evaluates again, on the cell's final record (in.Phase CellEnd),
// the rules whose figures grow while a cell runs, whether or not they were
// posted for it, for Note.Restate.
func Restate(in Input) []Advice {
	if in.Phase != CellEnd {
		return nil
	}
	in.Record.Advice = slices.DeleteFunc(slices.Clone(in.Record.Advice), func(id string) bool { return restated[id] })
	var out []Advice
	for _, a := range Evaluate(in) {
		if restated[a.Rule] {
			out = append(out, a)
		}
	}
	return out
}

// posted reports whether rule id was already posted for this cell.
func posted(rec cellwatch.Record, id string) bool {
	for _, a := range rec.Advice {
		if a == id {
			return true
		}
	}
	return false
}

// elapsed is how long the cell has run: for a running cell, now minus its
// kernel-side start (execute_input; the request time when not seen yet),
// never less than the snapshot's Wall; for an ended cell, its Wall.
func elapsed(rec cellwatch.Record, now time.Time) time.Duration {
	if rec.Status != cellwatch.StatusRunning {
		if rec.Wall > 0 || rec.Ended.IsZero() || rec.Requested.IsZero() {
			return rec.Wall
		}
		return rec.Ended.Sub(rec.Requested)
	}
	start := rec.Started
	if start.IsZero() {
		start = rec.Requested
	}
	d := rec.Wall
	if !start.IsZero() && now.Sub(start) > d {
		d = now.Sub(start)
	}
	return d
}

// seconds renders a duration as evidence.
func seconds(d time.Duration) float64 { return d.Seconds() }
