package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestEnvInterpreter(t *testing.T) {
	touch := func(p string) {
		t.Helper()
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, nil, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	root := t.TempDir()
	venv, conda, plain, bare := filepath.Join(root, "venv"), filepath.Join(root, "conda"), filepath.Join(root, "usr"), filepath.Join(root, "bare")
	touch(filepath.Join(venv, "pyvenv.cfg"))
	touch(filepath.Join(venv, "bin", "python3"))
	touch(filepath.Join(venv, "bin", "python"))
	touch(filepath.Join(conda, "conda-meta", "history"))
	touch(filepath.Join(conda, "bin", "python"))
	touch(filepath.Join(plain, "bin", "python3"))
	touch(filepath.Join(bare, "pyvenv.cfg")) // a venv without an interpreter

	tests := []struct {
		prefix, python, env string
	}{
		{venv, filepath.Join(venv, "bin", "python3"), "the virtualenv " + venv},
		{conda, filepath.Join(conda, "bin", "python"), "the conda env " + conda},
		{plain, "", ""},
		{bare, "", ""},
	}
	for _, tt := range tests {
		py, env, ok := envInterpreter(filepath.Join(tt.prefix, "bin", "cloudline"))
		if py != tt.python || env != tt.env || ok != (tt.python != "") {
			t.Errorf("%s: got %q, %q, %v; want %q, %q", filepath.Base(tt.prefix), py, env, ok, tt.python, tt.env)
		}
	}
}

func TestVersionFlag(t *testing.T) {
	for _, arg := range []string{"--version", "-V", "version"} {
		code, out, errs := cli(t, arg)
		if code != 0 || errs != "" || !strings.HasPrefix(out, "cloudline "+version+" (commit ") || !strings.HasSuffix(out, ")\n") {
			t.Errorf("%s: status %d, stdout %q, stderr %q", arg, code, out, errs)
		}
	}
}
