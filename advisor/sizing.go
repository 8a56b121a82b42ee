package advisor

import (
	"path/filepath"

	"github.com/cloudline/cloudline/cloud"
)

// sizing lists the rules whose note names the size the notebook needs and
// the `cloudline job` command that writes its job: the work outgrew the
// machine's memory, time or cores, or its data.
var sizing = map[string]bool{
	RuleMemoryPressure:    true,
	RuleLongTraining:      true,
	RuleProjectedTraining: true,
	RuleComputeSaturated:  true,
	RuleGPUSaturated:      true,
	RuleDatasetSize:       true,
}

// vendorName is the cloud whose services a note names: the configured
// one, else the one the kernel runs on, else Azure.
func vendorName(in Input) string { return cloud.VendorFor(in.Config.Cloud, in.Place) }

// step is the next step for the notebook of in: sized from its history and
// this cell, worded for where the kernel runs.
func step(in Input) cloud.Step {
	vendor := vendorName(in)
	recs := append(in.Past[:len(in.Past):len(in.Past)], in.Record)
	nb := ""
	if in.Record.Notebook != "" {
		nb = filepath.Base(in.Record.Notebook)
	}
	return cloud.Step{Place: in.Place, Vendor: vendor, Need: cloud.NeedOf(recs, in.Config.MemoryFraction), Notebook: nb}
}

// withStep ends f's what-to-do with the size and the job command. On a
// machine of no cloud the move itself stays the advice and the step
// follows it; where the kernel already runs in a cloud (a VM, a hub, a
// hosted notebook), the step replaces "move to the cloud".
func withStep(f finding, r *rule, in Input) finding {
	s := step(in)
	if r.id == RuleDatasetSize {
		// Data that outgrows memory: a machine whose memory holds it, with
		// the same headroom as the peak.
		frac := in.Config.MemoryFraction
		if !(frac > 0 && frac <= 1) {
			frac = cloud.DefaultMemoryFraction
		}
		s.Need.Mem = max(s.Need.Mem, uint64(float64(s.Need.Data)/frac))
	}
	text := s.Text(true)
	if text == "" {
		return f
	}
	size, _ := cloud.Fit(s.Vendor, s.Need)
	if f.evidence == nil {
		f.evidence = map[string]any{}
	}
	f.evidence["size"] = size.Name
	f.evidence["need_mem_bytes"] = s.Need.Mem
	f.evidence["job_command"] = s.Command()
	todo := r.todo
	if f.todo != nil {
		todo = f.todo
	}
	local := in.Place.Kind == "" || in.Place.Kind == cloud.KindLocal
	f.todo = func(v vendor) string {
		if !local {
			return text
		}
		return todo(v) + " " + text
	}
	return f
}
