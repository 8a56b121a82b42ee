package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/cloudline/cloudline/cellwatch"
	"github.com/cloudline/cloudline/cloud"
)

// listPackages prints the interpreter's version and its installed
// distributions (name, version, installed from a local path) as JSON.
// importlib.metadata needs no pip.
const listPackages = `import json, sys, importlib.metadata as m
out = []
for d in m.distributions():
    name = d.metadata["Name"]
    if not name:
        continue
    try:
        du = json.loads(d.read_text("direct_url.json") or "{}")
    except ValueError:
        du = {}
    out.append([name, d.version, str(du.get("url", "")).startswith("file:")])
print(json.dumps({"python": "%d.%d" % sys.version_info[:2], "packages": out}))
`

// skipPins are installed packages a job does not pin: installers the image
// brings, and cloudline itself (the job runs the plain kernel).
var skipPins = map[string]bool{"pip": true, "setuptools": true, "wheel": true, "cloudline": true}

// needPins must be in the job's environment: papermill runs the notebook
// on ipykernel's python3 kernelspec.
var needPins = []string{"ipykernel", "papermill"}

// pinsTimeout bounds the interpreter's listing of its packages.
const pinsTimeout = 30 * time.Second

// interpreterPins returns the interpreter's Python version and its
// packages pinned as name==version, sorted; packages installed from a
// local path cannot be installed in the cloud and are left out.
func interpreterPins(ctx context.Context, python string) (string, []string, error) {
	ctx, cancel := context.WithTimeout(ctx, pinsTimeout)
	defer cancel()
	var stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, python, "-c", listPackages)
	cmd.Stderr = &stderr
	b, err := cmd.Output()
	if err != nil {
		return "", nil, fmt.Errorf("list the packages of %s: %w (%s)", python, err, strings.TrimSpace(stderr.String()))
	}
	var got struct {
		Python   string  `json:"python"`
		Packages [][]any `json:"packages"`
	}
	if err := json.Unmarshal(b, &got); err != nil {
		return "", nil, fmt.Errorf("list the packages of %s: %w", python, err)
	}
	seen := map[string]bool{}
	var pins []string
	for _, p := range got.Packages {
		name, _ := p[0].(string)
		version, _ := p[1].(string)
		local, _ := p[2].(bool)
		key := strings.ToLower(strings.ReplaceAll(name, "_", "-"))
		if local || skipPins[key] || seen[key] || version == "" {
			continue
		}
		seen[key] = true
		pins = append(pins, name+"=="+version)
	}
	for _, n := range needPins {
		if !seen[n] {
			pins = append(pins, n) // not installed here: the newest
		}
	}
	name := func(p string) string { n, _, _ := strings.Cut(p, "=="); return strings.ToLower(n) }
	sort.Slice(pins, func(i, j int) bool { return name(pins[i]) < name(pins[j]) })
	return got.Python, pins, nil
}

// maxInputs bounds the inputs of one job; a notebook reading more files
// than this reads a folder, which is one input.
const maxInputs = 20

// jobInputs are the data paths the notebook's cells read: the paths their
// code named (relative to the notebook's folder, where its kernel ran) and
// the files the kernel opened outside the notebook's folder, the system and
// the interpreter. Local paths are relative to jobDir where possible.
func jobInputs(recs []cellwatch.Record, nbDir, jobDir, python string) []cloud.Input {
	prefix := filepath.Dir(filepath.Dir(python)) // .../venv/bin/python -> .../venv
	type cand struct{ read, abs string }
	var cands []cand
	for _, r := range recs {
		for _, u := range r.CodePaths {
			read := u.Path
			if strings.ContainsAny(read, "*?[") { // a glob reads its folder
				read = filepath.Dir(read)
			}
			abs := read
			if !filepath.IsAbs(abs) {
				abs = filepath.Join(nbDir, abs)
			}
			cands = append(cands, cand{read, filepath.Clean(abs)})
		}
		for _, u := range r.Files {
			if filepath.IsAbs(u.Path) && !within(u.Path, nbDir) && !systemPath(u.Path, prefix) {
				cands = append(cands, cand{u.Path, filepath.Clean(u.Path)})
			}
		}
	}
	taken := map[string]bool{}
	var ins []cloud.Input
	for _, c := range cands {
		if len(ins) == maxInputs || covered(ins, c.abs, jobDir) {
			continue
		}
		st, err := os.Stat(c.abs)
		if err != nil || c.abs == nbDir {
			continue // gone since, or the whole folder (that is the code)
		}
		in := cloud.Input{Name: cloud.InputName(c.read, taken), Local: relTo(jobDir, c.abs), Read: c.read, Dir: st.IsDir(), Bytes: st.Size()}
		if in.Dir {
			in.Bytes = dirBytes(c.abs)
		}
		ins = append(ins, in)
	}
	return ins
}

// covered reports whether abs is an input already, or inside one.
func covered(ins []cloud.Input, abs, jobDir string) bool {
	for _, in := range ins {
		p := in.Local
		if !filepath.IsAbs(p) {
			p = filepath.Join(jobDir, p)
		}
		if p == abs || within(abs, p) {
			return true
		}
	}
	return false
}

func within(p, dir string) bool {
	return strings.HasPrefix(p, strings.TrimSuffix(dir, string(filepath.Separator))+string(filepath.Separator))
}

// systemPath reports whether p is part of the system or the interpreter,
// not data: libraries, devices, caches.
func systemPath(p, prefix string) bool {
	for _, d := range []string{"/usr", "/lib", "/lib64", "/etc", "/proc", "/sys", "/dev", "/opt/conda", "/run", "/tmp", "/var"} {
		if p == d || within(p, d) {
			return true
		}
	}
	return (prefix != "/" && within(p, prefix)) || strings.Contains(p, "/site-packages/") ||
		strings.Contains(p, "/.cache/") || strings.Contains(p, "/.ipython/") || strings.Contains(p, "/.local/share/jupyter/")
}

// dirBytes is the size of the files under dir, walked at most 100,000
// entries deep.
func dirBytes(dir string) int64 {
	var n, seen int64
	_ = filepath.WalkDir(dir, func(_ string, d os.DirEntry, err error) error {
		if seen++; err != nil || seen > 100_000 {
			return filepath.SkipDir
		}
		if info, err := d.Info(); err == nil && info.Mode().IsRegular() {
			n += info.Size()
		}
		return nil
	})
	return n
}
