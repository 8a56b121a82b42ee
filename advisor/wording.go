package advisor

import (
	"strconv"
	"strings"

	"github.com/cloudline/cloudline/cellwatch"
	"github.com/cloudline/cloudline/kernelspec"
)

// cellLabel is the cell's execution count as JupyterLab shows it, "[12]",
// or "" before the kernel numbered it.
func cellLabel(rec cellwatch.Record) string {
	if rec.ExecutionCount <= 0 {
		return ""
	}
	return "[" + strconv.Itoa(rec.ExecutionCount) + "]"
}

// CellLine is the line that tells a cell apart (cellwatch.TellingLine):
// its first line that is not blank, a comment, an import or a magic, else
// its first line. A record without its code (read from the history) has it
// as FirstLine.
func CellLine(rec cellwatch.Record) string {
	if line := cellwatch.TellingLine(rec.Code); line != "" {
		return line
	}
	return strings.TrimSpace(rec.FirstLine)
}

// limitOf renders a configured threshold as the user wrote it, else with
// def (the default's rendering).
func limitOf(cfg kernelspec.Config, key, def string) string {
	return cfg.WrittenOr(key, def)
}

// loweredNote says which of keys this kernelspec set to a stricter value
// than the default, so nobody takes an example kernel's note for a real
// one: "This kernelspec lowers training_time to 2s (default 1h)."
func loweredNote(cfg kernelspec.Config, keys []string) string {
	def := kernelspec.DefaultConfig()
	var parts []string
	for _, k := range keys {
		w, ok := cfg.Written[k]
		if !ok {
			continue
		}
		var stricter bool
		var was string
		switch k {
		case "training_time":
			stricter, was = cfg.TrainingTime < def.TrainingTime, kernelspec.FormatDuration(def.TrainingTime)
		case "live_after":
			stricter, was = cfg.LiveAfter < def.LiveAfter, kernelspec.FormatDuration(def.LiveAfter)
		case "memory_fraction":
			stricter, was = cfg.MemoryFraction < def.MemoryFraction, strconv.FormatFloat(def.MemoryFraction, 'g', -1, 64)
		case "dataset_size":
			stricter, was = cfg.DatasetSize > 0, "none"
		case "disk_free_fraction":
			stricter, was = cfg.DiskFreeFraction > def.DiskFreeFraction, strconv.FormatFloat(def.DiskFreeFraction, 'g', -1, 64)
		case "stable_runs":
			stricter, was = cfg.StableRuns < def.StableRuns, strconv.Itoa(def.StableRuns)
		}
		if stricter {
			parts = append(parts, k+" to "+w+" (default "+was+")")
		}
	}
	if len(parts) == 0 {
		return ""
	}
	verb := "lowers "
	if len(parts) == 1 && (strings.HasPrefix(parts[0], "dataset_size") || strings.HasPrefix(parts[0], "disk_free_fraction")) {
		verb = "sets "
	}
	return "This kernelspec " + verb + strings.Join(parts, " and ") + "."
}
