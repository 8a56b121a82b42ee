package kernelspec

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
)

func TestReadSpecGood(t *testing.T) {
	s, err := ReadSpec(filepath.Join("testdata", "good", "python3"))
	if err != nil {
		t.Fatal(err)
	}
	if s.Name != "python3" || !filepath.IsAbs(s.Dir) {
		t.Errorf("name %q dir %q: want python3 and an absolute dir", s.Name, s.Dir)
	}
	if got := strings.Join(s.Argv, " "); got != "python -m ipykernel_launcher -f {connection_file}" {
		t.Errorf("argv = %q", got)
	}
	if s.DisplayName != "Python 3 (ipykernel)" || s.Language != "python" || s.KernelProtocolVersion != "5.5" {
		t.Errorf("fields: %+v", s)
	}
	if string(s.Metadata["debugger"]) != "true" || s.Metadata["custom"] == nil {
		t.Errorf("metadata lost keys: %v", s.Metadata)
	}
	if string(s.Extra["future_key"]) != "7" {
		t.Errorf("unknown top-level key not kept: %v", s.Extra)
	}
	if s.IsCloudline() {
		t.Error("ipykernel spec reported as cloudline")
	}
}

func TestReadSpecBroken(t *testing.T) {
	tests := []struct {
		dir  string
		want string // in the error, after the file name
	}{
		{"not-json", "invalid JSON at byte"},
		{"not-object", "want a JSON object"},
		{"null", "want a JSON object, got null"},
		{"argv-missing", "argv: missing or empty"},
		{"argv-empty", "argv: missing or empty"},
		{"argv-not-list", `argv: want a list of strings, got a string "python -m ipykernel"`},
		{"argv-number", "argv: want a list of strings, got a list"},
		{"argv0-empty", "argv: first element (the program) is empty"},
		{"env-not-strings", "env: want an object of strings"},
		{"interrupt-bad", `interrupt_mode: want "signal" or "message", got "sigint"`},
		{"metadata-list", "metadata: want an object, got a list"},
		{"display-number", "display_name: want a string, got the number 3"},
	}
	for _, tt := range tests {
		t.Run(tt.dir, func(t *testing.T) {
			dir := filepath.Join("testdata", "broken", tt.dir)
			_, err := ReadSpec(dir)
			if err == nil {
				t.Fatal("no error")
			}
			file := filepath.Join(dir, SpecFile)
			if !strings.Contains(err.Error(), file) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q: want it to name %s and say %q", err, file, tt.want)
			}
		})
	}
	t.Run("missing", func(t *testing.T) {
		dir := t.TempDir()
		_, err := ReadSpec(dir)
		if err == nil || !strings.Contains(err.Error(), filepath.Join(dir, SpecFile)) || !strings.Contains(err.Error(), "no such file") {
			t.Errorf("error %v: want it to name the missing kernel.json", err)
		}
	})
}

func TestParseInterruptModeCaseless(t *testing.T) {
	s, err := Parse([]byte(`{"argv":["x"],"interrupt_mode":"Message"}`))
	if err != nil || s.InterruptMode != "message" {
		t.Fatalf("got %+v, %v; want interrupt_mode message", s, err)
	}
}

func TestMarshalRoundTrip(t *testing.T) {
	s, err := ReadSpec(filepath.Join("testdata", "good", "python3"))
	if err != nil {
		t.Fatal(err)
	}
	data, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	back, err := Parse(data)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(back.Argv, " ") != strings.Join(s.Argv, " ") || back.DisplayName != s.DisplayName ||
		compact(back.Metadata["custom"]) != `{"x":1}` || string(back.Extra["future_key"]) != "7" {
		t.Errorf("round trip changed the spec:\n%s", data)
	}
}

func TestValidName(t *testing.T) {
	for name, want := range map[string]bool{
		"python3": true, "Python3": true, "my.kernel_1-x": true,
		"": false, "a b": false, "a/b": false, "..x/": false, "ü": false,
	} {
		if got := ValidName(name); got != want {
			t.Errorf("ValidName(%q) = %v, want %v", name, got, want)
		}
	}
}

func FuzzParse(f *testing.F) {
	f.Add([]byte(`{"argv":["python","-f","{connection_file}"],"metadata":{"debugger":true}}`))
	f.Add([]byte(`{"argv":[],"env":{"A":"1"}}`))
	f.Add([]byte(`null`))
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := Parse(data)
		if err != nil {
			return
		}
		if len(s.Argv) == 0 || s.Argv[0] == "" {
			t.Fatalf("accepted a spec with no program: %q", data)
		}
		if _, err := json.Marshal(s); err != nil {
			t.Fatalf("cannot re-encode accepted spec %q: %v", data, err)
		}
	})
}
