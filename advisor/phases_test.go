package advisor

import (
	"os"
	"strings"
	"testing"
)

var goPhaseNames = map[Phase]string{
	KernelStart: "KernelStart", CellStart: "CellStart", Live: "Live", CellEnd: "CellEnd", KernelDied: "KernelDied",
}

// TestDocListsPhases keeps the table in doc.go in step with the rule table.
func TestDocListsPhases(t *testing.T) {
	src, err := os.ReadFile("doc.go")
	if err != nil {
		t.Fatalf("read doc.go: %v", err)
	}
	for i := range rules {
		r := &rules[i]
		var names []string
		for _, p := range r.phases {
			names = append(names, goPhaseNames[p])
		}
		var line string
		for _, l := range strings.Split(string(src), "\n") {
			if f := strings.Fields(strings.TrimPrefix(l, "//")); len(f) > 0 && f[0] == r.id {
				line = l
			}
		}
		if line == "" {
			t.Errorf("doc.go does not list %s", r.id)
			continue
		}
		for _, n := range names {
			if !strings.Contains(line, n) {
				t.Errorf("doc.go line for %s lacks phase %s: %q", r.id, n, line)
			}
		}
	}
}
