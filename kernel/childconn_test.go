package kernel

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"testing"
)

// Once the wrapped kernel is up, its connection file describes the
// frontend's sockets and keeps the frontend file's base name: a link to the
// frontend's file when there is one, else a 0600 copy; its directory is
// 0700 and goes when the proxy stops.
func TestChildConnectionFileDescribesFrontend(t *testing.T) {
	for _, frontendFileExists := range []bool{true, false} {
		t.Run(map[bool]string{true: "link", false: "copy"}[frontendFileExists], func(t *testing.T) {
			fe := frontendInfo(t, "tcp")
			feFile := filepath.Join(t.TempDir(), "kernel-1234-abcd.json")
			if frontendFileExists {
				if err := fe.Write(feFile); err != nil {
					t.Fatal(err)
				}
			}
			h := startProxy(t, fe, func(p *Proxy) { p.ConnectionFile = feFile })
			c := dialClient(t, h.ci)
			c.kernelInfo()
			path := h.p.child.path
			if filepath.Base(path) != "kernel-1234-abcd.json" {
				t.Errorf("child connection file %s, want the frontend's base name", path)
			}
			var got ConnectionInfo
			pollUntil(t, "the file to describe the frontend", func() bool {
				data, err := os.ReadFile(path)
				return err == nil && json.Unmarshal(data, &got) == nil && got.ShellPort == fe.ShellPort
			})
			if got != fe {
				t.Errorf("child connection file = %+v, want the frontend's %+v", got, fe)
			}
			st, err := os.Lstat(path)
			if err != nil {
				t.Fatal(err)
			}
			if isLink := st.Mode()&os.ModeSymlink != 0; isLink != frontendFileExists {
				t.Errorf("symlink = %v, want %v", isLink, frontendFileExists)
			}
			if !frontendFileExists && st.Mode().Perm() != 0o600 {
				t.Errorf("copy's mode %v, want 0600", st.Mode())
			}
			if st, err := os.Stat(filepath.Dir(path)); err != nil || st.Mode().Perm() != 0o700 {
				t.Errorf("dir mode %v, %v; want 0700", st.Mode(), err)
			}
			h.stop()
			if _, err := os.Stat(filepath.Dir(path)); !os.IsNotExist(err) {
				t.Errorf("private directory left after stop: %v", err)
			}
		})
	}
}

func TestChildFileName(t *testing.T) {
	for in, want := range map[string]string{
		"/run/jupyter/kernel-9f1c.json": "kernel-9f1c.json",
		"kernel-x.json":                 "kernel-x.json",
		"":                              "kernel.json",
		"/tmp/conn":                     "kernel.json",
	} {
		if got := childFileName(in); got != want {
			t.Errorf("childFileName(%q) = %q, want %q", in, got, want)
		}
	}
}

// Only directories of kernels that are gone, and ours, are swept.
func TestSweepStale(t *testing.T) {
	tmp := t.TempDir()
	mine := privateDirPrefix + strconv.Itoa(os.Getpid()) + "-live"
	gone := privateDirPrefix + "999999999-dead"
	other := "cloudline-notours"
	for _, d := range []string{mine, gone, other} {
		if err := os.Mkdir(filepath.Join(tmp, d), 0o700); err != nil {
			t.Fatal(err)
		}
	}
	sweepStale(tmp)
	for d, want := range map[string]bool{mine: true, gone: false, other: true} {
		_, err := os.Stat(filepath.Join(tmp, d))
		if exists := err == nil; exists != want {
			t.Errorf("%s exists = %v, want %v", d, exists, want)
		}
	}
}
