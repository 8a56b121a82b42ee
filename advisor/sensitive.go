package advisor

import (
	"path/filepath"
	"strings"
)

// MatchSensitive reports whether path matches the sensitive_paths glob
// pattern. Patterns use filepath.Match syntax (no "**"), and:
//
//   - an absolute pattern matches the path itself or any parent directory
//     of it: "/data/pii" and "/data/pii/*" both cover "/data/pii/a/b.csv";
//   - a relative pattern matches any run of whole path components, so
//     "*.parquet" matches a base name, "pii" any directory named pii, and
//     "data/pii/*" that directory wherever the project lives;
//   - a trailing "/" or "/*" marks a directory and matches everything
//     below it.
//
// A malformed pattern matches nothing. Paths are compared as written (no
// "~" expansion, no symlink resolution).
func MatchSensitive(pattern, path string) bool {
	pattern = strings.TrimSpace(pattern)
	if pattern == "" || path == "" {
		return false
	}
	// "dir/*" and "dir/" name a directory: match it and everything below
	// (which candidates' parents and component runs already provide).
	if strings.HasSuffix(pattern, "/*") {
		pattern = strings.TrimSuffix(pattern, "*")
	}
	pattern = filepath.Clean(pattern)
	for _, cand := range candidates(pattern, filepath.Clean(path)) {
		if ok, err := filepath.Match(pattern, cand); err == nil && ok {
			return true
		}
	}
	return false
}

// candidates lists what a pattern is compared with: for an absolute pattern
// the path and its parents; for a relative one every run of components.
func candidates(pattern, path string) []string {
	sep := string(filepath.Separator)
	if filepath.IsAbs(pattern) {
		var out []string
		for p := path; ; p = filepath.Dir(p) {
			out = append(out, p)
			if filepath.Dir(p) == p {
				return out
			}
		}
	}
	parts := strings.FieldsFunc(path, func(r rune) bool { return r == filepath.Separator })
	var out []string
	for i := range parts {
		for j := i + 1; j <= len(parts); j++ {
			out = append(out, strings.Join(parts[i:j], sep))
		}
	}
	return out
}

// sensitiveHit is one path that matched one pattern.
type sensitiveHit struct{ path, pattern string }

// sensitiveHits lists the record's paths that match the patterns, in order,
// each path once.
func sensitiveHits(patterns []string, lists ...[]string) []sensitiveHit {
	var hits []sensitiveHit
	seen := map[string]bool{}
	for _, l := range lists {
		for _, p := range l {
			if seen[p] {
				continue
			}
			seen[p] = true
			for _, pat := range patterns {
				if MatchSensitive(pat, p) {
					hits = append(hits, sensitiveHit{path: p, pattern: pat})
					break
				}
			}
		}
	}
	return hits
}
