package advisor

import (
	"testing"
	"time"
)

func TestCooldownAllow(t *testing.T) {
	const hour = time.Hour
	type call struct {
		rule, notebook string
		at             time.Duration
		every          time.Duration
		want           bool
	}
	tests := []struct {
		name  string
		calls []call
	}{
		{"first time allowed, repeat held", []call{
			{RuleLongTraining, "a.ipynb", 0, hour, true},
			{RuleLongTraining, "a.ipynb", 59 * time.Minute, hour, false},
			{RuleLongTraining, "a.ipynb", hour, hour, true},
		}},
		{"held repeat does not extend the cool-down", []call{
			{RuleLongTraining, "a.ipynb", 0, hour, true},
			{RuleLongTraining, "a.ipynb", 30 * time.Minute, hour, false},
			{RuleLongTraining, "a.ipynb", 61 * time.Minute, hour, true},
		}},
		{"other notebook and other rule are separate", []call{
			{RuleLongTraining, "a.ipynb", 0, hour, true},
			{RuleLongTraining, "b.ipynb", time.Minute, hour, true},
			{RuleMemoryPressure, "a.ipynb", time.Minute, hour, true},
		}},
		{"kernel-died always allowed", []call{
			{RuleKernelDied, "a.ipynb", 0, hour, true},
			{RuleKernelDied, "a.ipynb", time.Second, hour, true},
		}},
		{"no cool-down", []call{
			{RuleDiskSpace, "a.ipynb", 0, 0, true},
			{RuleDiskSpace, "a.ipynb", time.Second, 0, true},
		}},
		{"clock going back counts as time passed", []call{
			{RuleDiskSpace, "a.ipynb", hour, hour, true},
			{RuleDiskSpace, "a.ipynb", 0, hour, true},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var c Cooldown // zero value is usable
			for i, k := range tt.calls {
				if got := c.Allow(k.rule, k.notebook, t0.Add(k.at), k.every); got != k.want {
					t.Errorf("call %d Allow(%s, %s, +%v) = %v, want %v", i, k.rule, k.notebook, k.at, got, k.want)
				}
			}
		})
	}
}

func TestCooldownAllowCell(t *testing.T) {
	var c Cooldown
	const every = time.Hour
	steps := []struct {
		rule, msgID string
		at          time.Duration
		want        bool
	}{
		{RuleDatasetSize, "m1", 0, true},
		{RuleDatasetSize, "m1", 0, false},                 // second CellStart of the same cell
		{RuleDatasetSize, "m1", 2 * time.Hour, false},     // CellEnd, cool-down over but same cell
		{RuleDatasetSize, "m2", 3 * time.Hour, true},      // a later cell after the cool-down
		{RuleDatasetSize, "m3", 3*time.Hour + 1, false},   // within the notebook's cool-down
		{RuleMemoryPressure, "m3", 3*time.Hour + 1, true}, // other rule, same cell
		{RuleKernelDied, "m3", 3*time.Hour + 2, true},
		{RuleKernelDied, "m3", 3*time.Hour + 3, true},
		{RuleDiskSpace, "", 0, true}, // no msg id: notebook cool-down only
		{RuleDiskSpace, "", 0, false},
	}
	for i, s := range steps {
		if got := c.AllowCell(s.rule, "a.ipynb", s.msgID, t0.Add(s.at), every); got != s.want {
			t.Errorf("step %d AllowCell(%s, %s, +%v) = %v, want %v", i, s.rule, s.msgID, s.at, got, s.want)
		}
	}
	c.ForgetCell("m1")
	if !c.AllowCell(RuleDatasetSize, "a.ipynb", "m1", t0.Add(10*time.Hour), every) {
		t.Error("after ForgetCell the cell is still remembered")
	}
	if c.AllowCell(RuleMemoryPressure, "a.ipynb", "m3", t0.Add(10*time.Hour), every) {
		t.Error("ForgetCell(m1) dropped m3's entry")
	}
}
