package kernelspec

import (
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"testing"
)

func TestWrap(t *testing.T) {
	wrapped, err := ReadSpec(filepath.Join("testdata", "good", "python3"))
	if err != nil {
		t.Fatal(err)
	}
	wrapped.Argv = append(wrapped.Argv, "--data={resource_dir}/x", "--prefix={prefix}", "--cf={connection_file}")
	wrapped.Env = map[string]string{"A": "1"}
	exe := filepath.Join(string(filepath.Separator), "opt", "bin", "cloudline")
	venvPy := filepath.Join(string(filepath.Separator), "venv", "bin", "python")

	got, err := Wrap(wrapped, WrapOptions{Executable: exe, Python: venvPy, Config: map[string]any{"training_time": "3s"}})
	if err != nil {
		t.Fatal(err)
	}
	wantArgv := []string{exe, "kernel", "-f", "{connection_file}", "--resource-dir", "{resource_dir}", "--",
		venvPy, "-m", "ipykernel_launcher", "-f", "{child_connection_file}",
		"--data=" + wrapped.Dir + "/x", "--prefix={prefix}", "--cf={child_connection_file}"}
	if !reflect.DeepEqual(got.Argv, wantArgv) {
		t.Errorf("argv:\n got %q\nwant %q", got.Argv, wantArgv)
	}
	if got.DisplayName != "Python 3 (cloudline)" || got.Language != "python" || got.InterruptMode != "signal" {
		t.Errorf("display %q language %q interrupt %q", got.DisplayName, got.Language, got.InterruptMode)
	}
	if got.Env["A"] != "1" {
		t.Errorf("env not copied: %v", got.Env)
	}
	meta := got.Metadata
	if string(meta["debugger"]) != "true" || compact(meta["custom"]) != `{"x":1}` {
		t.Errorf("metadata not kept: %v", meta)
	}
	if string(meta["supported_encryption"]) != `["curve"]` {
		t.Errorf("supported_encryption = %s, want the wrapped spec's [\"curve\"]", meta["supported_encryption"])
	}
	if string(meta[MetaConfig]) != `{"training_time":"3s"}` || string(meta[MetaWraps]) != `"python3"` {
		t.Errorf("cloudline metadata: %s, %s", meta[MetaConfig], meta[MetaWraps])
	}
	if !got.IsCloudline() || got.Wraps() != "python3" {
		t.Error("wrapped spec not recognised as cloudline")
	}
	if _, err := Wrap(got, WrapOptions{Executable: exe}); err == nil {
		t.Error("wrapping a cloudline spec succeeded")
	}
	if wrapped.Metadata["supported_encryption"] == nil {
		t.Error("Wrap changed its input's metadata")
	}
}

func TestWrapProgram(t *testing.T) {
	exe := filepath.Join(t.TempDir(), "cloudline")
	bin := t.TempDir()
	// A venv-style python: a symlink that must stay a symlink path.
	target := filepath.Join(bin, "python3.11")
	if err := os.WriteFile(target, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(bin, "python3")
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(bin, "ir"), []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", bin)
	abs := filepath.Join(string(filepath.Separator), "usr", "bin", "julia")

	tests := []struct {
		argv0, python, want string
		wantErr             bool
	}{
		{argv0: "python3", want: link},
		{argv0: "python", python: "python3", want: link},
		{argv0: "python", python: "/x/../venv/bin/python", want: "/venv/bin/python"},
		{argv0: "ir", python: "/venv/bin/python", want: filepath.Join(bin, "ir")},
		{argv0: abs, python: "/venv/bin/python", want: abs},
		{argv0: "missing-program", wantErr: true},
		{argv0: "python", wantErr: true}, // no "python" on PATH
	}
	for _, tt := range tests {
		t.Run(tt.argv0+"/"+tt.python, func(t *testing.T) {
			s := &Spec{Name: "k", Dir: "/specs/k", Argv: []string{tt.argv0, "{connection_file}"}, DisplayName: "K"}
			got, err := Wrap(s, WrapOptions{Executable: exe, Python: tt.python})
			if tt.wantErr {
				if err == nil || !errors.Is(err, exec.ErrNotFound) {
					t.Fatalf("got %v, want a not-found error", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got.Argv[7] != tt.want {
				t.Errorf("program %q, want %q", got.Argv[7], tt.want)
			}
		})
	}
	if _, err := Wrap(&Spec{Argv: []string{"/bin/k"}}, WrapOptions{Executable: "cloudline"}); err == nil {
		t.Error("relative executable accepted")
	}
}

func TestWrappedDisplayName(t *testing.T) {
	for in, want := range map[string]string{
		"Python 3 (ipykernel)": "Python 3 (cloudline)",
		"Python 3":             "Python 3 (cloudline)",
		"R (ipykernel) extra":  "R (ipykernel) extra (cloudline)",
		"":                     "k (cloudline)",
	} {
		if got := WrappedDisplayName(&Spec{Name: "k", DisplayName: in}); got != want {
			t.Errorf("%q -> %q, want %q", in, got, want)
		}
	}
}

func TestWrapKeepsMessageInterrupt(t *testing.T) {
	s := &Spec{Name: "k", Dir: "/k", Argv: []string{"/bin/k"}, InterruptMode: "message"}
	got, err := Wrap(s, WrapOptions{Executable: "/bin/cloudline", DisplayName: "Mine"})
	if err != nil {
		t.Fatal(err)
	}
	if got.InterruptMode != "message" || got.DisplayName != "Mine" {
		t.Errorf("interrupt %q display %q", got.InterruptMode, got.DisplayName)
	}
	var cfg map[string]any
	if err := json.Unmarshal(got.Metadata[MetaConfig], &cfg); err != nil || len(cfg) != 0 {
		t.Errorf("metadata.cloudline = %s, want {}", got.Metadata[MetaConfig])
	}
}

// supported_encryption is declared exactly when the wrapped spec declares
// curve, in any of the forms jupyter_client accepts.
func TestWrapSupportedEncryption(t *testing.T) {
	cases := []struct {
		raw  string // the wrapped spec's value; "" = absent
		want bool
	}{
		{`["curve"]`, true}, {`"curve"`, true}, {`[" CURVE "]`, true}, {`["tls", "curve"]`, true},
		{"", false}, {`[]`, false}, {`["tls"]`, false}, {`null`, false}, {`{"curve": true}`, false},
	}
	for _, c := range cases {
		wrapped, err := ReadSpec(filepath.Join("testdata", "good", "python3"))
		if err != nil {
			t.Fatal(err)
		}
		delete(wrapped.Metadata, "supported_encryption")
		if c.raw != "" {
			wrapped.Metadata["supported_encryption"] = json.RawMessage(c.raw)
		}
		got, err := Wrap(wrapped, WrapOptions{Executable: "/opt/cloudline", Python: "/venv/bin/python"})
		if err != nil {
			t.Fatal(err)
		}
		_, declared := got.Metadata["supported_encryption"]
		if declared != c.want {
			t.Errorf("wrapped %s: declared %v, want %v", c.raw, declared, c.want)
		}
	}
}
