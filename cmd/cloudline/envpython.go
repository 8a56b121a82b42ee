package main

import (
	"os"
	"path/filepath"
)

// envInterpreter finds the Python environment the cloudline executable
// was installed into (pip puts it in PREFIX/bin): a virtualenv
// (PREFIX/pyvenv.cfg) or a conda env (PREFIX/conda-meta). It returns that
// environment's interpreter and a phrase naming the environment, or ok
// false when exe is not in one (built from source, a system-wide bin, pip
// --user).
func envInterpreter(exe string) (python, env string, ok bool) {
	bin := filepath.Dir(exe)
	prefix := filepath.Dir(bin)
	var kind string
	switch {
	case isFile(filepath.Join(prefix, "pyvenv.cfg")):
		kind = "virtualenv"
	case isDir(filepath.Join(prefix, "conda-meta")):
		kind = "conda env"
	default:
		return "", "", false
	}
	for _, name := range []string{"python3", "python"} {
		if py := filepath.Join(bin, name); isFile(py) {
			return py, "the " + kind + " " + prefix, true
		}
	}
	return "", "", false
}

// isFile reports whether p is a regular file (symlinks followed).
func isFile(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.Mode().IsRegular()
}

func isDir(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.IsDir()
}
