package cellwatch

import (
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// Finding the data a cell is about to read: string literals in its code
// that name existing files, directories or glob patterns.

// CodeScan is what the code of one cell names on disk.
type CodeScan struct {
	Paths []FileUse // each literal that exists, with the size of what it names
	Bytes int64     // total size, each file counted once
	Cut   bool      // a bound (time, entries) stopped the walk early
}

// ScanLimits bound a code scan. Zero fields take the defaults.
type ScanLimits struct {
	Timeout    time.Duration // whole scan; default 2 s
	MaxEntries int           // directory entries visited; default 100,000
	MaxLits    int           // literals looked at; default 256
	// EndWait is how long a cell's end waits for a scan it cancels to
	// return what it found; default 20 ms.
	EndWait time.Duration
	// Before is the time a scan may take before CellStart is emitted
	// (no more than 500 entries); default 20 ms. A longer one goes on in the
	// background and its result comes with a later event.
	Before time.Duration
}

func (l ScanLimits) withDefaults() ScanLimits {
	if l.Timeout <= 0 {
		l.Timeout = 2 * time.Second
	}
	if l.MaxEntries <= 0 {
		l.MaxEntries = 100_000
	}
	if l.MaxLits <= 0 {
		l.MaxLits = 256
	}
	if l.EndWait <= 0 {
		l.EndWait = 20 * time.Millisecond
	}
	if l.Before <= 0 {
		l.Before = 20 * time.Millisecond
	}
	return l
}

// ScanCode resolves the path-like literals of code against dir and sums
// the sizes of what exists. It never fails: what cannot be read is skipped.
func ScanCode(ctx context.Context, code, dir string, lim ScanLimits) CodeScan {
	lim = lim.withDefaults()
	ctx, cancel := context.WithTimeout(ctx, lim.Timeout)
	defer cancel()
	home, _ := os.UserHomeDir()
	var res CodeScan
	seen := map[string]bool{}  // files counted
	named := map[string]bool{} // literals reported
	entries := 0
	lits := pathLiterals(code)
	if len(lits) > lim.MaxLits {
		lits, res.Cut = lits[:lim.MaxLits], true
	}
	for _, lit := range lits {
		if ctx.Err() != nil {
			res.Cut = true
			break
		}
		p := lit
		if rest, ok := strings.CutPrefix(p, "~/"); ok && home != "" {
			p = filepath.Join(home, rest)
		} else if !filepath.IsAbs(p) {
			p = filepath.Join(dir, p)
		}
		p = filepath.Clean(p)
		if p == "/" || p == filepath.Clean(dir) || p == home || named[p] {
			continue
		}
		var matches []string
		if strings.ContainsAny(lit, "*?[") {
			matches, _ = filepath.Glob(p)
		} else if _, err := os.Stat(p); err == nil {
			matches = []string{p}
		}
		if len(matches) == 0 {
			continue
		}
		named[p] = true
		var total int64
		for _, m := range matches {
			all, added, cut := sizeOf(ctx, m, seen, &entries, lim.MaxEntries)
			total += all
			res.Bytes += added
			res.Cut = res.Cut || cut
		}
		res.Paths = append(res.Paths, FileUse{Path: lit, Bytes: total})
	}
	return res
}

// sizeOf adds up the regular files at p (a file or a directory tree): all
// of them, and those not yet in seen. It stops at the entry bound or when
// ctx is done.
func sizeOf(ctx context.Context, p string, seen map[string]bool, entries *int, maxEntries int) (all, added int64, cut bool) {
	_ = filepath.WalkDir(p, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return nil // unreadable: skip
		}
		*entries++
		if *entries > maxEntries || (*entries%256 == 0 && ctx.Err() != nil) {
			cut = true
			return fs.SkipAll
		}
		if d.IsDir() || (!d.Type().IsRegular() && path != p) {
			return nil // directories, links inside a tree
		}
		info, err := os.Stat(path) // follows a symlinked root
		if err != nil || !info.Mode().IsRegular() {
			return nil
		}
		all += info.Size()
		if !seen[path] {
			seen[path] = true
			added += info.Size()
		}
		return nil
	})
	return all, added, cut
}

// pathLiterals returns the string literals of Python code that the code
// uses as paths, in order, without duplicates. f-strings (and t-strings)
// are skipped: their value is not known before the cell runs.
func pathLiterals(code string) []string {
	var out []string
	seen := map[string]bool{}
	for _, l := range lexLiterals(code) {
		lit := l.text
		if lit == "" || len(lit) > 1024 || strings.ContainsAny(lit, "\n\x00") || strings.Contains(lit, "://") || seen[lit] {
			continue
		}
		if !looksLikePath(lit) && !usedAsPath(code[:l.start]) {
			continue // a dict key, a column name, a label: {'data': [...]}
		}
		seen[lit] = true
		out = append(out, lit)
	}
	return out
}

// stringLiterals lexes Python source just enough to find its string
// literals: comments are skipped, prefixes and triple quotes understood.
func stringLiterals(code string) []string {
	var out []string
	for _, l := range lexLiterals(code) {
		out = append(out, l.text)
	}
	return out
}

// literal is a string literal's value and where its prefix or quote starts.
type literal struct {
	text  string
	start int
}

func lexLiterals(code string) []literal {
	var out []literal
	for i := 0; i < len(code); {
		c := code[i]
		switch {
		case c == '#':
			for i < len(code) && code[i] != '\n' {
				i++
			}
			continue
		case c != '\'' && c != '"':
			i++
			continue
		}
		prefix := literalPrefix(code, i)
		start := i - len(prefix)
		raw := strings.ContainsAny(prefix, "rR")
		skip := strings.ContainsAny(prefix, "fFtT")
		q := code[i : i+1]
		if strings.HasPrefix(code[i:], strings.Repeat(q, 3)) {
			q = code[i : i+3]
		}
		i += len(q)
		var b strings.Builder
		for i < len(code) {
			if code[i] == '\\' && i+1 < len(code) {
				if raw || !strings.ContainsRune(`\'"`, rune(code[i+1])) {
					b.WriteByte('\\')
				}
				b.WriteByte(code[i+1])
				i += 2
				continue
			}
			if strings.HasPrefix(code[i:], q) {
				i += len(q)
				break
			}
			if len(q) == 1 && code[i] == '\n' {
				break // unterminated
			}
			b.WriteByte(code[i])
			i++
		}
		if !skip {
			out = append(out, literal{text: b.String(), start: start})
		}
	}
	return out
}

// literalPrefix returns the letters (r, b, u, f, t) right before the quote
// at i, when they form a prefix and not the end of a name.
func literalPrefix(code string, i int) string {
	j := i
	for j > 0 && i-j < 2 && strings.ContainsRune("rRbBuUfFtT", rune(code[j-1])) {
		j--
	}
	if j > 0 && isIdentByte(code[j-1]) {
		return ""
	}
	return code[j:i]
}

func isIdentByte(c byte) bool {
	return c == '_' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= 0x80
}
