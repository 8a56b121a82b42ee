package cellwatch

import (
	"encoding/json"
	"maps"
	"slices"
	"strings"
)

// Small helpers on records.

// firstLine is the first non-blank line of code, trimmed to 120 bytes.
func firstLine(code string) string {
	for line := range strings.Lines(code) {
		if line = strings.TrimSpace(line); line != "" {
			if len(line) > 120 {
				line = line[:120]
			}
			return line
		}
	}
	return ""
}

// cloneRecord deep-copies r so an event's receiver may keep it.
func cloneRecord(r *Record) Record {
	c := *r
	c.Files = slices.Clone(r.Files)
	c.CodePaths = slices.Clone(r.CodePaths)
	c.ListenPorts = slices.Clone(r.ListenPorts)
	c.Advice = slices.Clone(r.Advice)
	c.Metrics = maps.Clone(r.Metrics)
	if r.GPU != nil {
		g := *r.GPU
		c.GPU = &g
	}
	if r.Progress != nil {
		p := *r.Progress
		c.Progress = &p
	}
	return c
}

// executionCount reads execution_count from an execute_input's content.
func executionCount(content []byte) int {
	var in struct {
		N int `json:"execution_count"`
	}
	_ = json.Unmarshal(content, &in)
	return in.N
}
