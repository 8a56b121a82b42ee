package kernelspec

import (
	"encoding/json"
	"path/filepath"
	"slices"
	"testing"
)

func TestConfigExpandsHome(t *testing.T) {
	raw := json.RawMessage(`{"history": "~/cl/history.jsonl", "sensitive_paths": ["~/pii/*", "*.ssn", "data/~x"]}`)
	home := filepath.Join(t.TempDir(), "home")
	cfg, warnings := ParseConfig(raw, []string{"HOME=" + home})
	if len(warnings) != 0 {
		t.Fatalf("warnings: %v", warnings)
	}
	if want := filepath.Join(home, "cl/history.jsonl"); cfg.History != want {
		t.Errorf("history = %q, want %q", cfg.History, want)
	}
	want := []string{filepath.Join(home, "pii/*"), "*.ssn", "data/~x"}
	if !slices.Equal(cfg.SensitivePaths, want) {
		t.Errorf("sensitive_paths = %q, want %q", cfg.SensitivePaths, want)
	}
	cfg, _ = ParseConfig(raw, nil)
	if cfg.History != "~/cl/history.jsonl" {
		t.Errorf("without HOME, history = %q, want it as written", cfg.History)
	}
}
