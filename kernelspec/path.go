package kernelspec

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"time"
)

// ErrNotFound is returned by Find when no directory holds the named spec.
var ErrNotFound = errors.New("no such kernelspec")

// Options says where to look for kernelspecs. The zero value searches like
// jupyter_client with python3 from PATH.
type Options struct {
	// Python is the interpreter whose {sys.prefix}/share/jupyter is
	// searched; "" means python3 on PATH. If it cannot be run, that
	// directory is skipped.
	Python string
	// SystemDirs replaces the system-wide data dirs
	// (/usr/local/share/jupyter, /usr/share/jupyter) when not nil.
	SystemDirs []string
}

// DataDir is one Jupyter data directory on the search path.
type DataDir struct {
	Path string // e.g. ~/.local/share/jupyter; kernels live in Path/kernels
	Kind string // "JUPYTER_PATH", "user", "sys-prefix" or "system"
}

// KernelsDir returns the directory holding the kernelspecs of d.
func (d DataDir) KernelsDir() string { return filepath.Join(d.Path, "kernels") }

// UserDataDir returns the user's Jupyter data directory: $JUPYTER_DATA_DIR,
// else $XDG_DATA_HOME/jupyter, else ~/.local/share/jupyter
// (~/Library/Jupyter on macOS).
func UserDataDir() (string, error) {
	if d := os.Getenv("JUPYTER_DATA_DIR"); d != "" {
		return filepath.Abs(d)
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("user data dir: %w", err)
	}
	if runtime.GOOS == "darwin" {
		return filepath.Join(home, "Library", "Jupyter"), nil
	}
	if x := os.Getenv("XDG_DATA_HOME"); x != "" && filepath.IsAbs(x) {
		return filepath.Join(x, "jupyter"), nil
	}
	return filepath.Join(home, ".local", "share", "jupyter"), nil
}

// SysPrefix asks the Python interpreter (a path or a name on PATH; ""
// means python3) for its sys.prefix.
func SysPrefix(ctx context.Context, python string) (string, error) {
	if python == "" {
		python = "python3"
	}
	ctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, python, "-c", "import sys;print(sys.prefix)")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		if msg := strings.TrimSpace(stderr.String()); msg != "" {
			return "", fmt.Errorf("ask %s for sys.prefix: %w: %s", python, err, firstLine(msg))
		}
		return "", fmt.Errorf("ask %s for sys.prefix: %w", python, err)
	}
	prefix := strings.TrimSpace(string(out))
	if !filepath.IsAbs(prefix) {
		return "", fmt.Errorf("ask %s for sys.prefix: got %q, not an absolute path", python, prefix)
	}
	return prefix, nil
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}

// SearchPath returns the Jupyter data directories in the order
// jupyter_client searches them: $JUPYTER_PATH entries, the user data dir,
// {sys.prefix}/share/jupyter, then the system dirs. Setting
// JUPYTER_PREFER_ENV_PATH to a true value puts sys.prefix before the user
// dir, as jupyter_core does. Duplicates are dropped (the first stays).
func SearchPath(ctx context.Context, opts Options) []DataDir {
	var dirs []DataDir
	for _, p := range filepath.SplitList(os.Getenv("JUPYTER_PATH")) {
		if p != "" {
			dirs = append(dirs, DataDir{Path: p, Kind: "JUPYTER_PATH"})
		}
	}
	var user, env []DataDir
	if u, err := UserDataDir(); err == nil {
		user = append(user, DataDir{Path: u, Kind: "user"})
	}
	if prefix, err := SysPrefix(ctx, opts.Python); err == nil {
		env = append(env, DataDir{Path: filepath.Join(prefix, "share", "jupyter"), Kind: "sys-prefix"})
	}
	if preferEnv() {
		dirs = append(append(dirs, env...), user...)
	} else {
		dirs = append(append(dirs, user...), env...)
	}
	system := opts.SystemDirs
	if system == nil {
		system = []string{"/usr/local/share/jupyter", "/usr/share/jupyter"}
	}
	for _, p := range system {
		dirs = append(dirs, DataDir{Path: p, Kind: "system"})
	}
	return dedupe(dirs)
}

func preferEnv() bool {
	v, ok := os.LookupEnv("JUPYTER_PREFER_ENV_PATH")
	if !ok {
		return false
	}
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "", "0", "false", "no", "off", "n", "f":
		return false
	}
	return true
}

func dedupe(dirs []DataDir) []DataDir {
	seen := map[string]bool{}
	out := dirs[:0]
	for _, d := range dirs {
		p := filepath.Clean(d.Path)
		if abs, err := filepath.Abs(p); err == nil {
			p = abs
		}
		if seen[p] {
			continue
		}
		seen[p] = true
		d.Path = p
		out = append(out, d)
	}
	return out
}

// Find returns the first spec called name (case-insensitive) on the search
// path. A directory that exists but holds a broken kernel.json is an error,
// as it would shadow any later spec of that name.
func Find(ctx context.Context, name string, opts Options) (*Spec, error) {
	return FindIn(name, SearchPath(ctx, opts))
}

// FindIn is Find over the given data directories.
func FindIn(name string, dirs []DataDir) (*Spec, error) {
	if !ValidName(name) {
		return nil, fmt.Errorf("kernelspec name %q: want letters, digits, '.', '_' or '-'", name)
	}
	name = strings.ToLower(name)
	for _, d := range dirs {
		entries, err := os.ReadDir(d.KernelsDir())
		if err != nil {
			continue // a missing data dir is normal
		}
		for _, e := range entries {
			if strings.ToLower(e.Name()) != name {
				continue
			}
			dir := filepath.Join(d.KernelsDir(), e.Name())
			if !isSpecDir(dir) {
				continue
			}
			return ReadSpec(dir)
		}
	}
	places := make([]string, len(dirs))
	for i, d := range dirs {
		places[i] = d.KernelsDir()
	}
	return nil, fmt.Errorf("%w %q (searched %s)", ErrNotFound, name, strings.Join(places, ", "))
}

// isSpecDir reports whether dir is a directory holding a kernel.json.
func isSpecDir(dir string) bool {
	fi, err := os.Stat(filepath.Join(dir, SpecFile))
	return err == nil && fi.Mode().IsRegular()
}

// List returns every spec on the search path, the first of each name only,
// in search order, plus one error per spec directory it could not read.
func List(ctx context.Context, opts Options) ([]*Spec, []error) {
	return ListIn(SearchPath(ctx, opts))
}

// ListIn is List over the given data directories.
func ListIn(dirs []DataDir) ([]*Spec, []error) {
	var specs []*Spec
	var errs []error
	seen := map[string]bool{}
	for _, d := range dirs {
		entries, err := os.ReadDir(d.KernelsDir())
		if err != nil {
			continue
		}
		for _, e := range entries {
			name := strings.ToLower(e.Name())
			dir := filepath.Join(d.KernelsDir(), e.Name())
			if seen[name] || !ValidName(name) || !isSpecDir(dir) {
				continue
			}
			seen[name] = true
			s, err := ReadSpec(dir)
			if err != nil {
				errs = append(errs, err)
				continue
			}
			specs = append(specs, s)
		}
	}
	return specs, errs
}
