package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"
)

// jupyterHome is an isolated set of Jupyter dirs: a user data dir, a fake
// venv whose python3 (on PATH, alone) reports it as sys.prefix and holds an
// ipykernel-like python3 spec, and a HOME.
type jupyterHome struct {
	root, user, venv, bin string
}

func (h jupyterHome) userKernels() string { return filepath.Join(h.user, "kernels") }
func (h jupyterHome) venvKernels() string {
	return filepath.Join(h.venv, "share", "jupyter", "kernels")
}

func newJupyterHome(t *testing.T) jupyterHome {
	t.Helper()
	root := t.TempDir()
	h := jupyterHome{root: root, user: filepath.Join(root, "user"), venv: filepath.Join(root, "venv"), bin: filepath.Join(root, "venv", "bin")}
	t.Setenv("JUPYTER_PATH", "")
	t.Setenv("JUPYTER_PREFER_ENV_PATH", "")
	t.Setenv("JUPYTER_DATA_DIR", h.user)
	t.Setenv("HOME", filepath.Join(root, "home"))
	t.Setenv("PATH", h.bin)
	writeFile(t, filepath.Join(h.bin, "python3"), "#!/bin/sh\necho '"+h.venv+"'\n", 0o755)
	if err := os.Symlink("python3", filepath.Join(h.bin, "python")); err != nil {
		t.Fatal(err)
	}
	spec := filepath.Join(h.venvKernels(), "python3")
	writeFile(t, filepath.Join(spec, "kernel.json"), `{"argv":["python","-m","ipykernel_launcher","-f","{connection_file}"],
		"display_name":"Python 3 (ipykernel)","language":"python",
		"metadata":{"debugger":true,"supported_encryption":["curve"]},"kernel_protocol_version":"5.5"}`, 0o644)
	writeFile(t, filepath.Join(spec, "logo-64x64.png"), "PNG", 0o644)
	return h
}

func writeFile(t *testing.T, path, body string, mode os.FileMode) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(body), mode); err != nil {
		t.Fatal(err)
	}
}

// cli runs the command and returns its status, stdout and stderr.
func cli(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(context.Background(), args, &out, &errb)
	return code, out.String(), errb.String()
}

// tree lists every path under dir (relative), sorted; "" if dir is missing.
func tree(t *testing.T, dir string) string {
	t.Helper()
	var names []string
	_ = filepath.WalkDir(dir, func(p string, _ os.DirEntry, err error) error {
		if err == nil && p != dir {
			rel, _ := filepath.Rel(dir, p)
			names = append(names, rel)
		}
		return nil
	})
	sort.Strings(names)
	return strings.Join(names, ",")
}

type kernelJSON struct {
	Argv          []string                   `json:"argv"`
	DisplayName   string                     `json:"display_name"`
	Language      string                     `json:"language"`
	InterruptMode string                     `json:"interrupt_mode"`
	Metadata      map[string]json.RawMessage `json:"metadata"`
}

func readKernelJSON(t *testing.T, dir string) kernelJSON {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(dir, "kernel.json"))
	if err != nil {
		t.Fatal(err)
	}
	var k kernelJSON
	if err := json.Unmarshal(data, &k); err != nil {
		t.Fatal(err)
	}
	return k
}

func TestInstallDefault(t *testing.T) {
	h := newJupyterHome(t)
	code, out, errs := cli(t, "install")
	dest := filepath.Join(h.userKernels(), "python3-cloudline")
	if code != 0 || errs != "" || out != "installed kernelspec python3-cloudline in "+dest+"\n" {
		t.Fatalf("status %d, stdout %q, stderr %q", code, out, errs)
	}
	if got := tree(t, h.userKernels()); got != "python3-cloudline,python3-cloudline/kernel.json,python3-cloudline/logo-64x64.png" {
		t.Errorf("user kernels: %s", got)
	}
	k := readKernelJSON(t, dest)
	exe, _ := os.Executable()
	want := []string{exe, "kernel", "-f", "{connection_file}", "--resource-dir", "{resource_dir}", "--",
		filepath.Join(h.bin, "python"), "-m", "ipykernel_launcher", "-f", "{child_connection_file}"}
	if !reflect.DeepEqual(k.Argv, want) {
		t.Errorf("argv\n got %q\nwant %q", k.Argv, want)
	}
	if k.DisplayName != "Python 3 (cloudline)" || k.Language != "python" || k.InterruptMode != "signal" {
		t.Errorf("kernel.json %+v", k)
	}
	if string(k.Metadata["debugger"]) != "true" || string(k.Metadata["cloudline_wraps"]) != `"python3"` ||
		compactJSON(k.Metadata["cloudline"]) != "{}" || compactJSON(k.Metadata["supported_encryption"]) != `["curve"]` {
		t.Errorf("metadata %s", k.Metadata)
	}
}

func TestInstallSetsAndDestinations(t *testing.T) {
	h := newJupyterHome(t)
	other := filepath.Join(h.root, "other-venv")
	otherPy := filepath.Join(h.root, "otherbin", "python3.12")
	writeFile(t, otherPy, "#!/bin/sh\necho '"+other+"'\n", 0o755)
	writeFile(t, filepath.Join(other, "share", "jupyter", "kernels", "python3", "kernel.json"),
		`{"argv":["python3","-m","ipykernel_launcher","-f","{connection_file}"],"display_name":"Other"}`, 0o644)
	prefix := filepath.Join(h.root, "prefix")

	tests := []struct {
		name string
		args []string
		dest string
		py   string // expected wrapped program
	}{
		{"sets", []string{"--set", "training_time=3s", "--set", "dataset_size=20MB", "--set=sensitive=yes",
			"--set", "rules_off=kernel-died,local-serving", "--name", "Fast", "--display-name", "Fast Py"},
			filepath.Join(h.userKernels(), "fast"), filepath.Join(h.bin, "python")},
		{"prefix", []string{"--prefix", prefix}, filepath.Join(prefix, "share", "jupyter", "kernels", "python3-cloudline"), filepath.Join(h.bin, "python")},
		{"sys-prefix", []string{"--sys-prefix"}, filepath.Join(h.venvKernels(), "python3-cloudline"), filepath.Join(h.bin, "python")},
		{"sys-prefix of --python", []string{"--sys-prefix", "--python", otherPy}, filepath.Join(other, "share", "jupyter", "kernels", "python3-cloudline"), otherPy},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errs := cli(t, append([]string{"install"}, tt.args...)...)
			if code != 0 || errs != "" || !strings.HasSuffix(out, " in "+tt.dest+"\n") {
				t.Fatalf("status %d, stdout %q, stderr %q; want it installed in %s", code, out, errs, tt.dest)
			}
			k := readKernelJSON(t, tt.dest)
			if k.Argv[7] != tt.py {
				t.Errorf("wrapped program %q, want %q", k.Argv[7], tt.py)
			}
		})
	}
	k := readKernelJSON(t, filepath.Join(h.userKernels(), "fast"))
	wantCfg := `{"dataset_size":"20MB","rules_off":["kernel-died","local-serving"],"sensitive":true,"training_time":"3s"}`
	if compactJSON(k.Metadata["cloudline"]) != wantCfg || k.DisplayName != "Fast Py" {
		t.Errorf("metadata.cloudline = %s, display %q; want %s", k.Metadata["cloudline"], k.DisplayName, wantCfg)
	}
}

func TestInstallReplaces(t *testing.T) {
	h := newJupyterHome(t)
	for _, tt := range []string{"1h", "2h"} {
		if code, _, errs := cli(t, "install", "--set", "training_time="+tt); code != 0 {
			t.Fatalf("install %s: %d %s", tt, code, errs)
		}
	}
	if got := tree(t, h.userKernels()); got != "python3-cloudline,python3-cloudline/kernel.json,python3-cloudline/logo-64x64.png" {
		t.Errorf("after re-install: %s", got)
	}
	if k := readKernelJSON(t, filepath.Join(h.userKernels(), "python3-cloudline")); compactJSON(k.Metadata["cloudline"]) != `{"training_time":"2h"}` {
		t.Errorf("re-install kept the old config: %s", k.Metadata["cloudline"])
	}
}

func compactJSON(raw json.RawMessage) string {
	var b bytes.Buffer
	if err := json.Compact(&b, raw); err != nil {
		return string(raw)
	}
	return b.String()
}

func TestInstallErrors(t *testing.T) {
	tests := []struct {
		name  string
		setup func(t *testing.T, h jupyterHome) // runs before the snapshot
		args  func(h jupyterHome) []string
		want  string // in the one stderr line
	}{
		{"missing wrapped spec", nil, func(jupyterHome) []string { return []string{"--wrap", "nope"} }, `no such kernelspec "nope"`},
		{"bad name", nil, func(jupyterHome) []string { return []string{"--name", "a b"} }, `bad --name "a b"`},
		{"bad wrap name", nil, func(jupyterHome) []string { return []string{"--wrap", "../x"} }, `bad --wrap "../x"`},
		{"bad set value", nil, func(jupyterHome) []string { return []string{"--set", "training_time=0"} }, "bad --set: training_time=0: want a duration above zero"},
		{"bad set key", nil, func(jupyterHome) []string { return []string{"--set", "colour=blue"} }, `bad --set: unknown key "colour"`},
		{"bad set rule", nil, func(jupyterHome) []string { return []string{"--set", "rules_off=nope"} }, `unknown rule id "nope"`},
		{"set without =", nil, func(jupyterHome) []string { return []string{"--set", "sensitive"} }, `bad --set "sensitive": want KEY=VALUE`},
		{"unwritable dir", func(t *testing.T, h jupyterHome) { writeFile(t, filepath.Join(h.root, "afile"), "", 0o644) },
			func(h jupyterHome) []string { return []string{"--prefix", filepath.Join(h.root, "afile")} }, "not a directory"},
		{"user and prefix", nil, func(jupyterHome) []string { return []string{"--user", "--prefix", "x"} }, "--user, --sys-prefix and --prefix exclude each other"},
		{"user and sys-prefix", nil, func(jupyterHome) []string { return []string{"--sys-prefix", "--user"} }, "exclude each other"},
		{"no argv", func(t *testing.T, h jupyterHome) {
			writeFile(t, filepath.Join(h.userKernels(), "empty", "kernel.json"), `{"argv":[],"display_name":"E"}`, 0o644)
		}, func(jupyterHome) []string { return []string{"--wrap", "empty"} }, "kernel.json: argv: missing or empty"},
		{"program not found", func(t *testing.T, h jupyterHome) {
			writeFile(t, filepath.Join(h.userKernels(), "ghost", "kernel.json"), `{"argv":["ghost-kernel","{connection_file}"]}`, 0o644)
		}, func(jupyterHome) []string { return []string{"--wrap", "ghost"} }, `find program "ghost-kernel"`},
		{"wrap a cloudline spec", func(t *testing.T, h jupyterHome) {
			if code, _, errs := cli(t, "install"); code != 0 {
				t.Fatal(errs)
			}
		}, func(jupyterHome) []string { return []string{"--wrap", "python3-cloudline", "--name", "twice"} }, "is itself a cloudline kernelspec"},
		{"over the wrapped spec", nil, func(jupyterHome) []string { return []string{"--sys-prefix", "--name", "python3"} }, "is the wrapped kernelspec itself"},
		{"over a foreign spec", func(t *testing.T, h jupyterHome) {
			writeFile(t, filepath.Join(h.userKernels(), "mine", "kernel.json"), `{"argv":["/bin/true"]}`, 0o644)
		}, func(jupyterHome) []string { return []string{"--name", "mine"} }, "holds a kernelspec cloudline did not install"},
		{"missing python", nil, func(h jupyterHome) []string { return []string{"--python", filepath.Join(h.root, "nopython")} }, "--python"},
		{"extra argument", nil, func(jupyterHome) []string { return []string{"python3"} }, `unexpected argument "python3"`},
		{"unknown flag", nil, func(jupyterHome) []string { return []string{"--bogus"} }, "flag provided but not defined: -bogus"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newJupyterHome(t)
			if tt.setup != nil {
				tt.setup(t, h)
			}
			before := tree(t, h.root)
			code, out, errs := cli(t, append([]string{"install"}, tt.args(h)...)...)
			if code != 2 || out != "" {
				t.Errorf("status %d stdout %q; want 2 and nothing", code, out)
			}
			if strings.Count(errs, "\n") != 1 || !strings.HasPrefix(errs, "cloudline install: ") || !strings.Contains(errs, tt.want) {
				t.Errorf("stderr %q: want one line starting \"cloudline install: \" containing %q", errs, tt.want)
			}
			if after := tree(t, h.root); after != before {
				t.Errorf("files changed:\nbefore %s\nafter  %s", before, after)
			}
		})
	}
}

func TestInstallHelp(t *testing.T) {
	newJupyterHome(t)
	code, out, errs := cli(t, "install", "-h")
	if code != 0 || out != "" || !strings.Contains(errs, "usage: cloudline install") || !strings.Contains(errs, "-set KEY=VALUE") {
		t.Errorf("status %d stdout %q stderr %q", code, out, errs)
	}
}

func TestListAndUninstall(t *testing.T) {
	h := newJupyterHome(t)
	prefix := filepath.Join(h.root, "prefix")
	for _, args := range [][]string{{"install"}, {"install", "--prefix", prefix, "--name", "elsewhere"}} {
		if code, _, errs := cli(t, args...); code != 0 {
			t.Fatal(errs)
		}
	}
	code, out, errs := cli(t, "list")
	if code != 0 || errs != "" {
		t.Fatalf("list: %d %q", code, errs)
	}
	lines := strings.Split(out, "\n")
	if !strings.HasPrefix(lines[0], "  NAME") || !strings.HasPrefix(lines[1], "* python3-cloudline ") ||
		!strings.HasSuffix(lines[1], "python3") || !strings.Contains(lines[1], "Python 3 (cloudline)") ||
		!strings.HasPrefix(lines[2], "  python3 ") || !strings.Contains(lines[2], filepath.Join(h.venvKernels(), "python3")) {
		t.Errorf("list output:\n%s", out)
	}

	code, out, _ = cli(t, "list", "--json")
	var entries []listEntry
	if err := json.Unmarshal([]byte(out), &entries); code != 0 || err != nil || len(entries) < 2 {
		t.Fatalf("list --json: %d %v %q", code, err, out)
	}
	if e := entries[0]; e.Name != "python3-cloudline" || !e.Cloudline || e.Wraps != "python3" || e.Dir != filepath.Join(h.userKernels(), "python3-cloudline") {
		t.Errorf("first entry %+v", e)
	}
	if e := entries[1]; e.Name != "python3" || e.Cloudline || e.Wraps != "" {
		t.Errorf("second entry %+v", e)
	}

	steps := []struct {
		args      []string
		code      int
		out, errs string // prefixes
	}{
		{[]string{"python3"}, 2, "", "cloudline uninstall: python3 in " + filepath.Join(h.venvKernels(), "python3") + " is not a cloudline kernelspec"},
		{[]string{"elsewhere"}, 2, "", `cloudline uninstall: no such kernelspec "elsewhere"`},
		{[]string{"elsewhere", "--user"}, 2, "", `cloudline uninstall: no such kernelspec "elsewhere"`},
		{[]string{"Elsewhere", "--prefix", prefix}, 0, "removed kernelspec elsewhere from " + filepath.Join(prefix, "share", "jupyter", "kernels", "elsewhere"), ""},
		{[]string{"python3-cloudline"}, 0, "removed kernelspec python3-cloudline from " + filepath.Join(h.userKernels(), "python3-cloudline"), ""},
		{[]string{"python3-cloudline"}, 2, "", `cloudline uninstall: no such kernelspec "python3-cloudline"`},
		{[]string{}, 2, "", "cloudline uninstall: want exactly one kernelspec NAME"},
		{[]string{"a", "b"}, 2, "", "cloudline uninstall: want exactly one kernelspec NAME"},
		{[]string{"x", "--user", "--sys-prefix"}, 2, "", "cloudline uninstall: --user, --sys-prefix and --prefix exclude each other"},
	}
	for _, st := range steps {
		code, out, errs := cli(t, append([]string{"uninstall"}, st.args...)...)
		if code != st.code || !strings.HasPrefix(out, st.out) || !strings.HasPrefix(errs, st.errs) || strings.Count(errs+out, "\n") != 1 {
			t.Errorf("uninstall %q: %d, stdout %q, stderr %q; want %d, %q, %q", st.args, code, out, errs, st.code, st.out, st.errs)
		}
	}
	if got := tree(t, h.userKernels()); got != "" {
		t.Errorf("user kernels left: %s", got)
	}
	if got := tree(t, h.venvKernels()); got != "python3,python3/kernel.json,python3/logo-64x64.png" {
		t.Errorf("wrapped spec touched: %s", got)
	}
}

func TestListSkipsBrokenSpec(t *testing.T) {
	h := newJupyterHome(t)
	broken := filepath.Join(h.userKernels(), "broken", "kernel.json")
	writeFile(t, broken, `{"argv": "python"}`, 0o644)
	code, out, errs := cli(t, "list")
	if code != 0 || !strings.Contains(out, "  python3 ") || strings.Contains(out, "broken") {
		t.Errorf("status %d stdout %q", code, out)
	}
	if strings.Count(errs, "\n") != 1 || !strings.HasPrefix(errs, "cloudline list: skipped: ") || !strings.Contains(errs, broken) {
		t.Errorf("stderr %q: want one line naming %s", errs, broken)
	}
	if code, _, errs := cli(t, "list", "extra"); code != 2 || !strings.HasPrefix(errs, "cloudline list: unexpected argument") {
		t.Errorf("list extra: %d %q", code, errs)
	}
}
