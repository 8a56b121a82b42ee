package kernelspec

import (
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// listDir returns the names in dir, sorted.
func listDir(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	sort.Strings(names)
	return names
}

func TestInstallAndReplace(t *testing.T) {
	src := filepath.Join("testdata", "good", "python3")
	wrapped, err := ReadSpec(src)
	if err != nil {
		t.Fatal(err)
	}
	spec, err := Wrap(wrapped, WrapOptions{Executable: "/bin/cloudline", Python: "/venv/bin/python"})
	if err != nil {
		t.Fatal(err)
	}
	kernels := filepath.Join(t.TempDir(), "share", "jupyter", "kernels")
	dest := filepath.Join(kernels, "python3-cloudline")
	if err := Install(spec, wrapped.Dir, dest); err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(listDir(t, dest), ","); got != "kernel.json,logo-32x32.png,logo-svg.svg" {
		t.Errorf("installed files: %s", got)
	}
	back, err := ReadSpec(dest)
	if err != nil {
		t.Fatal(err)
	}
	if back.DisplayName != "Python 3 (cloudline)" || back.Wraps() != "python3" {
		t.Errorf("installed spec: %+v", back)
	}
	fi, err := os.Stat(dest)
	if err != nil || fi.Mode().Perm() != 0o755 {
		t.Errorf("dest mode %v, %v; want 0755", fi.Mode(), err)
	}

	// Replace: the new spec has no resources; the old files must go.
	spec.DisplayName = "Second"
	if err := Install(spec, "", dest); err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(listDir(t, dest), ","); got != "kernel.json" {
		t.Errorf("after replace: %s", got)
	}
	if back, err := ReadSpec(dest); err != nil || back.DisplayName != "Second" {
		t.Errorf("after replace: %+v, %v", back, err)
	}
	if got := strings.Join(listDir(t, kernels), ","); got != "python3-cloudline" {
		t.Errorf("kernels dir holds %s; want no temporary dirs", got)
	}

	if err := Remove(dest); err != nil {
		t.Fatal(err)
	}
	if got := listDir(t, kernels); len(got) != 0 {
		t.Errorf("after Remove: %v", got)
	}
}

func TestInstallUnwritableLeavesNothing(t *testing.T) {
	root := t.TempDir()
	// A file where a directory should be fails even for root.
	if err := os.WriteFile(filepath.Join(root, "share"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	spec := &Spec{Argv: []string{"/bin/k"}, DisplayName: "K"}
	if err := Install(spec, "", filepath.Join(root, "share", "jupyter", "kernels", "k")); err == nil {
		t.Fatal("install under a file succeeded")
	}
	if got := strings.Join(listDir(t, root), ","); got != "share" {
		t.Errorf("left behind: %v", got)
	}
}

func TestInstallBadResourcesLeavesOldSpec(t *testing.T) {
	kernels := t.TempDir()
	dest := filepath.Join(kernels, "k")
	spec := &Spec{Argv: []string{"/bin/k"}, DisplayName: "Old"}
	if err := Install(spec, "", dest); err != nil {
		t.Fatal(err)
	}
	spec.DisplayName = "New"
	if err := Install(spec, filepath.Join(kernels, "no-such-dir"), dest); err == nil {
		t.Fatal("install from a missing resource dir succeeded")
	}
	if back, err := ReadSpec(dest); err != nil || back.DisplayName != "Old" {
		t.Errorf("old spec changed: %+v, %v", back, err)
	}
	if got := strings.Join(listDir(t, kernels), ","); got != "k" {
		t.Errorf("kernels dir holds %s; want only k", got)
	}
}
