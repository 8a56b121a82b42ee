package advisor

import (
	"fmt"

	"github.com/cloudline/cloudline/cellwatch"
)

// maxEvidencePaths bounds the paths listed in evidence.
const maxEvidencePaths = 10

const whyCompliance = "Compliance checkpoint: sensitive data has to stay in an isolated environment, so this work belongs in the cloud from day one rather than on a laptop."

var sensitiveDataRule = rule{
	id:         RuleSensitiveData,
	checkpoint: CheckpointCompliance,
	phases:     []Phase{KernelStart, CellStart, Live, CellEnd},
	why:        whyCompliance,
	service:    forNotebook,
	todo: func(v vendor) string {
		return fmt.Sprintf("Develop in %s and keep the data there.", v.Notebook)
	},
	detect: func(in Input) (finding, bool) {
		if in.Phase == KernelStart {
			return sensitiveKernel(in)
		}
		return sensitivePaths(in)
	},
}

// sensitiveKernel is the kernel-wide warning of a kernelspec marked
// sensitive.
func sensitiveKernel(in Input) (finding, bool) {
	if !in.Config.Sensitive {
		return finding{}, false
	}
	return finding{
		title: "This kernel is for sensitive work",
		measured: func(s style) string {
			return "The kernelspec marks this work as sensitive (" + s.code("sensitive: true") + ")."
		},
		todo: func(v vendor) string {
			return fmt.Sprintf("Do this work in %s from the start, not on a local machine.", v.Notebook)
		},
		subjects: []string{"kernelspec"},
		evidence: map[string]any{"sensitive": true},
	}, true
}

// sensitivePaths fires when the cell names or opens a path that matches a
// sensitive_paths pattern.
func sensitivePaths(in Input) (finding, bool) {
	rec := in.Record
	if len(in.Config.SensitivePaths) == 0 {
		return finding{}, false
	}
	hits := sensitiveHits(in.Config.SensitivePaths, usePaths(rec.CodePaths), usePaths(rec.Files))
	if len(hits) == 0 {
		return finding{}, false
	}
	var paths, subjects []string
	for i, h := range hits {
		subjects = append(subjects, "path:"+h.path)
		if i < maxEvidencePaths {
			paths = append(paths, h.path)
		}
	}
	return finding{
		title:    "Data marked sensitive: " + shorten(hits[0].path) + " matches " + hits[0].pattern,
		subjects: subjects,
		measured: func(s style) string {
			more := ""
			if n := len(hits) - 1; n == 1 {
				more = " (and 1 more path)"
			} else if n > 1 {
				more = fmt.Sprintf(" (and %d more paths)", n)
			}
			return fmt.Sprintf("%s uses %s%s, which matches the sensitive pattern %s.",
				capital(s.cell(rec)), s.code(hits[0].path), more, s.code(hits[0].pattern))
		},
		details: func(s style) []string {
			if len(hits) < 2 {
				return nil
			}
			var lines []string
			for i, h := range hits {
				if i == topPaths {
					break
				}
				lines = append(lines, s.code(h.path)+" matches "+s.code(h.pattern))
			}
			return lines
		},
		evidence: map[string]any{"paths": paths, "matches": len(hits), "pattern": hits[0].pattern},
	}, true
}

func usePaths(uses []cellwatch.FileUse) []string {
	out := make([]string, len(uses))
	for i, u := range uses {
		out[i] = u.Path
	}
	return out
}
