package kernelspec

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// fakePython writes an executable python3 into a new directory that prints
// prefix as sys.prefix, puts that directory alone on PATH and returns the
// script's path.
func fakePython(t *testing.T, prefix string) string {
	t.Helper()
	bin := t.TempDir()
	py := filepath.Join(bin, "python3")
	script := "#!/bin/sh\necho '" + prefix + "'\n"
	if err := os.WriteFile(py, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", bin)
	return py
}

// writeSpec writes dataDir/kernels/name/kernel.json with the display name.
func writeSpec(t *testing.T, dataDir, name, display string) string {
	t.Helper()
	dir := filepath.Join(dataDir, "kernels", name)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	body := `{"argv":["python3","-m","ipykernel_launcher","-f","{connection_file}"],"display_name":"` + display + `","language":"python"}`
	if err := os.WriteFile(filepath.Join(dir, SpecFile), []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

// jupyterEnv isolates the Jupyter variables and returns fresh dirs for
// JUPYTER_PATH (two entries), the user data dir, sys.prefix and system.
type jupyterDirs struct{ path1, path2, user, prefix, system string }

func jupyterEnv(t *testing.T) jupyterDirs {
	t.Helper()
	root := t.TempDir()
	d := jupyterDirs{
		path1:  filepath.Join(root, "p1"),
		path2:  filepath.Join(root, "p2"),
		user:   filepath.Join(root, "user"),
		prefix: filepath.Join(root, "venv"),
		system: filepath.Join(root, "system"),
	}
	t.Setenv("JUPYTER_PATH", d.path1+string(os.PathListSeparator)+d.path2)
	t.Setenv("JUPYTER_DATA_DIR", d.user)
	t.Setenv("JUPYTER_PREFER_ENV_PATH", "")
	t.Setenv("HOME", filepath.Join(root, "home"))
	fakePython(t, d.prefix)
	return d
}

func TestSearchPathOrder(t *testing.T) {
	d := jupyterEnv(t)
	opts := Options{SystemDirs: []string{d.system}}
	got := SearchPath(context.Background(), opts)
	want := []DataDir{
		{d.path1, "JUPYTER_PATH"}, {d.path2, "JUPYTER_PATH"}, {d.user, "user"},
		{filepath.Join(d.prefix, "share", "jupyter"), "sys-prefix"}, {d.system, "system"},
	}
	if !equalDirs(got, want) {
		t.Fatalf("search path:\n got %v\nwant %v", got, want)
	}

	t.Run("prefer env path", func(t *testing.T) {
		t.Setenv("JUPYTER_PREFER_ENV_PATH", "1")
		got := SearchPath(context.Background(), opts)
		if got[2].Kind != "sys-prefix" || got[3].Kind != "user" {
			t.Errorf("with JUPYTER_PREFER_ENV_PATH=1: %v", got)
		}
	})
	t.Run("home default and no python", func(t *testing.T) {
		t.Setenv("JUPYTER_DATA_DIR", "")
		t.Setenv("XDG_DATA_HOME", "")
		t.Setenv("JUPYTER_PATH", "")
		t.Setenv("PATH", t.TempDir()) // no python3: its dir is skipped
		got := SearchPath(context.Background(), opts)
		home := os.Getenv("HOME")
		want := []DataDir{{filepath.Join(home, ".local", "share", "jupyter"), "user"}, {d.system, "system"}}
		if !equalDirs(got, want) {
			t.Errorf("got %v, want %v", got, want)
		}
	})
	t.Run("explicit python and duplicates", func(t *testing.T) {
		py := fakePython(t, d.user) // sys.prefix/share/jupyter is not the user dir...
		t.Setenv("PATH", t.TempDir())
		opts := Options{Python: py, SystemDirs: []string{d.path1}} // ...but system repeats JUPYTER_PATH
		got := SearchPath(context.Background(), opts)
		if len(got) != 4 || got[3].Path != filepath.Join(d.user, "share", "jupyter") {
			t.Errorf("got %v: want 4 dirs, the duplicate dropped, sys.prefix from --python", got)
		}
	})
}

func equalDirs(a, b []DataDir) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestFindFirstMatchWins(t *testing.T) {
	d := jupyterEnv(t)
	opts := Options{SystemDirs: []string{d.system}}
	ctx := context.Background()
	writeSpec(t, d.system, "python3", "system")
	writeSpec(t, filepath.Join(d.prefix, "share", "jupyter"), "python3", "prefix")
	writeSpec(t, filepath.Join(d.prefix, "share", "jupyter"), "OnlyPrefix", "only prefix")
	writeSpec(t, d.user, "python3", "user")
	writeSpec(t, d.path2, "python3", "path2")
	writeSpec(t, d.system, "sys-only", "system only")

	steps := []struct {
		name, want string
		remove     string // data dir whose python3 is removed after the step
	}{
		{"python3", "path2", d.path2},
		{"PYTHON3", "user", d.user},
		{"python3", "prefix", filepath.Join(d.prefix, "share", "jupyter")},
		{"python3", "system", ""},
		{"onlyprefix", "only prefix", ""},
		{"sys-only", "system only", ""},
	}
	for _, st := range steps {
		s, err := Find(ctx, st.name, opts)
		if err != nil {
			t.Fatalf("Find(%q): %v", st.name, err)
		}
		if s.DisplayName != st.want {
			t.Errorf("Find(%q) found %q in %s, want %q", st.name, s.DisplayName, s.Dir, st.want)
		}
		if st.remove != "" {
			if err := os.RemoveAll(filepath.Join(st.remove, "kernels", "python3")); err != nil {
				t.Fatal(err)
			}
		}
	}
	if s, _ := Find(ctx, "onlyprefix", opts); s == nil || s.Name != "onlyprefix" {
		t.Errorf("mixed-case directory: got %+v, want name onlyprefix", s)
	}

	_, err := Find(ctx, "nope", opts)
	if !errors.Is(err, ErrNotFound) || !strings.Contains(err.Error(), d.user) {
		t.Errorf("missing spec: %v; want ErrNotFound naming the searched dirs", err)
	}
	if _, err := Find(ctx, "bad name", opts); err == nil || errors.Is(err, ErrNotFound) {
		t.Errorf("bad name: %v; want a name error", err)
	}
}

func TestFindBrokenShadows(t *testing.T) {
	d := jupyterEnv(t)
	opts := Options{SystemDirs: []string{d.system}}
	writeSpec(t, d.system, "python3", "system")
	dir := filepath.Join(d.user, "kernels", "python3")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, SpecFile), []byte("{"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := Find(context.Background(), "python3", opts)
	if err == nil || !strings.Contains(err.Error(), filepath.Join(dir, SpecFile)) {
		t.Fatalf("got %v; want an error naming the broken file", err)
	}
	specs, errs := List(context.Background(), opts)
	if len(specs) != 0 || len(errs) != 1 {
		t.Errorf("List: %d specs, %d errors; want the broken spec reported, the shadowed one not listed", len(specs), len(errs))
	}
}

func TestList(t *testing.T) {
	d := jupyterEnv(t)
	opts := Options{SystemDirs: []string{d.system}}
	writeSpec(t, d.system, "python3", "system")
	writeSpec(t, d.user, "python3", "user")
	writeSpec(t, d.user, "r", "R")
	if err := os.MkdirAll(filepath.Join(d.user, "kernels", "empty"), 0o755); err != nil {
		t.Fatal(err)
	}
	specs, errs := List(context.Background(), opts)
	if len(errs) != 0 {
		t.Fatal(errs)
	}
	var got []string
	for _, s := range specs {
		got = append(got, s.Name+"="+s.DisplayName)
	}
	if strings.Join(got, ",") != "python3=user,r=R" {
		t.Errorf("List = %v, want python3 from the user dir and r", got)
	}
}
