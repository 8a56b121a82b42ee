package advisor

import (
	"slices"
	"testing"

	"github.com/cloudline/cloudline/kernelspec"
)

// Rule ids have one list of record, kernelspec.RuleIDs (rules_off is
// checked against it, and kernelspec cannot import the advisor): every
// rule the advisor evaluates is in it, and nothing else.
func TestRuleIDsMatchKernelspec(t *testing.T) {
	got := slices.Sorted(slices.Values(RuleIDs()))
	want := slices.Sorted(slices.Values(kernelspec.RuleIDs))
	if !slices.Equal(got, want) {
		t.Errorf("advisor rules %v, kernelspec.RuleIDs %v", got, want)
	}
	for _, id := range RuleIDs() {
		cfg, warnings := kernelspec.ParseConfig([]byte(`{"rules_off": "`+id+`"}`), nil)
		if len(warnings) > 0 || !cfg.RuleOff(id) {
			t.Errorf("rules_off %s: silenced %v, warnings %v", id, cfg.RuleOff(id), warnings)
		}
	}
}
