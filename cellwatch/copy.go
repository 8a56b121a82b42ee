package cellwatch

import (
	"encoding/json"
	"maps"
	"slices"
	"strings"
	"unicode/utf8"
)

// Small helpers on records.

// maxFirstLine bounds Record.FirstLine, in bytes: a history line stays short.
const maxFirstLine = 120

// TellingLine is the line that tells a cell apart, as the notes and
// `cloudline history` name it after its "[12]": the first line that is not
// blank, a comment, an import or a magic, else the first non-blank line.
func TellingLine(code string) string {
	first := ""
	for line := range strings.Lines(code) {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		if first == "" {
			first = line
		}
		if !boilerplate(line) {
			return line
		}
	}
	return first
}

// boilerplate reports whether a line only sets a cell up: a comment, an
// import or a line magic.
func boilerplate(line string) bool {
	return strings.HasPrefix(line, "#") || strings.HasPrefix(line, "%") ||
		strings.HasPrefix(line, "import ") || strings.HasPrefix(line, "from ") && strings.Contains(line, " import ")
}

// firstLine is TellingLine cut to maxFirstLine bytes, on a rune boundary.
func firstLine(code string) string {
	line := TellingLine(code)
	if len(line) <= maxFirstLine {
		return line
	}
	cut := maxFirstLine
	for cut > 0 && !utf8.RuneStart(line[cut]) {
		cut--
	}
	return line[:cut]
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
