package cellwatch

import (
	"path/filepath"
	"strings"
)

// Which literals name data. A bare word such as 'data' is a path only
// where the code uses it as one: `pd.DataFrame({'data': [...]})` beside a
// 30 GiB ./data directory reads nothing from it. A literal counts when it
// looks like a path (a separator, a file extension, a glob, ~) or is the
// first argument of a call that takes a path, or the value of a keyword
// argument that names one.

// pathCalls are the names (the last part of a dotted call) that take a
// path as their first argument; names starting with read_, load or
// to_ (pandas readers and writers, numpy/torch loaders) count too.
var pathCalls = map[string]bool{
	"open": true, "Path": true, "PurePath": true, "glob": true, "iglob": true, "listdir": true,
	"scandir": true, "walk": true, "exists": true, "isdir": true, "isfile": true, "stat": true,
	"getsize": true, "join": true, "File": true, "Dataset": true, "ImageFolder": true,
	"DatasetFolder": true, "load_from_disk": true, "read": true, "imread": true, "memmap": true,
	"fromfile": true, "loadtxt": true, "genfromtxt": true, "connect": true, "TextLoader": true,
	"DirectoryLoader": true, "image_dataset_from_directory": true, "text_dataset_from_directory": true,
	"TFRecordDataset": true, "ParquetDataset": true, "read_table": true, "dataset": true,
}

// pathWords are parts of keyword argument names that name a path
// (path=, data_dir=, root=, filename=, folder=).
var pathWords = []string{"path", "dir", "root", "file", "folder"}

// looksLikePath reports whether a literal reads as a path on its own.
func looksLikePath(lit string) bool {
	if strings.ContainsAny(lit, `/\*?`) || strings.HasPrefix(lit, "~") {
		return true
	}
	ext := filepath.Ext(lit)
	if len(ext) < 2 || len(ext) > 9 || ext == lit {
		return false
	}
	for _, r := range ext[1:] {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_') {
			return false
		}
	}
	// "3.5" and "v1.2" are numbers and versions, not files.
	return strings.IndexFunc(ext[1:], func(r rune) bool { return r < '0' || r > '9' }) >= 0
}

// usedAsPath reports whether a literal that starts right after before is
// a path-taking call's first argument or a path keyword's value.
func usedAsPath(before string) bool {
	b := strings.TrimRight(before, " \t\n")
	switch {
	case strings.HasSuffix(b, "("):
		name := lastName(strings.TrimRight(b[:len(b)-1], " \t"))
		return pathCalls[name] || strings.HasPrefix(name, "read_") || strings.HasPrefix(name, "load") ||
			strings.HasPrefix(name, "to_")
	case strings.HasSuffix(b, "=") && !strings.HasSuffix(b, "=="):
		name := strings.ToLower(lastName(strings.TrimRight(b[:len(b)-1], " \t")))
		for _, w := range pathWords {
			if strings.Contains(name, w) {
				return true
			}
		}
	}
	return false
}

// lastName is the identifier ending s, after its last dot.
func lastName(s string) string {
	i := len(s)
	for i > 0 && isIdentByte(s[i-1]) {
		i--
	}
	return s[i:]
}
