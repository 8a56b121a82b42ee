package report

import (
	"slices"
	"strings"
)

// checkpoint is one of the article's moments to move from local to cloud,
// with the rule ids that signal it.
type checkpoint struct {
	ID    string
	Name  string
	When  string
	Rules []string
	Means string // what reaching it means, one sentence
	Quiet string // what not reaching it means
}

var checkpoints = []checkpoint{
	{
		ID: "compliance", Name: "Compliance and privacy", When: "At the start",
		Rules: []string{"sensitive-data"},
		Means: "Sensitive data was touched on this machine: it belongs in an isolated cloud environment from day one.",
		Quiet: "No declared sensitive data was touched.",
	},
	{
		ID: "storage", Name: "Storage", When: "Midway",
		Rules: []string{"dataset-size", "disk-space"},
		Means: "The data has outgrown the local disk or memory: store and process it with cloud data services.",
		Quiet: "The data still fits on this machine.",
	},
	{
		ID: "compute", Name: "Compute", When: "Midway",
		Rules: []string{"long-training", "projected-training", "memory-pressure", "compute-saturated", "gpu-saturated", "parallel-load", "kernel-died"},
		Means: "Training runs long or saturates the machine: move training to cloud compute.",
		Quiet: "Runs are short and the machine keeps up.",
	},
	{
		ID: "stability", Name: "Stability", When: "Late game",
		Rules: []string{"stable-model", "local-serving"},
		Means: "The model is steady or served from localhost: move it to the cloud for serving in production.",
		Quiet: "No steady metrics or local serving seen yet.",
	},
}

// checkpointOf returns the checkpoint id of a rule id, or "" for a rule
// this report does not know.
func checkpointOf(rule string) string {
	for _, c := range checkpoints {
		if slices.Contains(c.Rules, rule) {
			return c.ID
		}
	}
	return ""
}

// checkpointView is a checkpoint as the summary shows it.
type checkpointView struct {
	ID        string
	Name      string
	When      string
	Reached   bool
	Text      string
	Notebooks string // notebooks that reached it, comma separated
	Rules     []ruleCount
}

type ruleCount struct {
	ID    string
	Count int
}

func summarize(c checkpoint, notebooks []string, rules map[string]int) checkpointView {
	v := checkpointView{ID: c.ID, Name: c.Name, When: c.When, Reached: len(notebooks) > 0, Text: c.Quiet}
	if v.Reached {
		v.Text = c.Means
		v.Notebooks = strings.Join(notebooks, ", ")
	}
	for _, id := range c.Rules {
		if n := rules[id]; n > 0 {
			v.Rules = append(v.Rules, ruleCount{ID: id, Count: n})
		}
	}
	return v
}
