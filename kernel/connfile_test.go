package kernel

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestReadConnectionFile(t *testing.T) {
	tests := []struct {
		file    string
		wantErr string // substring; "" = success
		check   func(t *testing.T, ci ConnectionInfo)
	}{
		{file: "valid.json", check: func(t *testing.T, ci ConnectionInfo) {
			if ci.ShellPort != 53794 || ci.IOPubPort != 53795 || ci.StdinPort != 53796 || ci.ControlPort != 53797 || ci.HBPort != 53798 {
				t.Errorf("ports = %+v", ci)
			}
			if ci.Key != "a0436f6c-1916-498b-8eb9-e81ab9368e84" || ci.SignatureScheme != "hmac-sha256" || ci.KernelName != "python3" {
				t.Errorf("key/scheme/name = %q %q %q", ci.Key, ci.SignatureScheme, ci.KernelName)
			}
		}},
		{file: "minimal.json", check: func(t *testing.T, ci ConnectionInfo) {
			if ci.Transport != "tcp" || ci.SignatureScheme != "hmac-sha256" {
				t.Errorf("defaults not applied: transport %q scheme %q", ci.Transport, ci.SignatureScheme)
			}
		}},
		{file: "ipc.json", check: func(t *testing.T, ci ConnectionInfo) {
			if got := ci.Endpoint(ci.ShellPort); got != "ipc://kernel-abc-1" {
				t.Errorf("ipc endpoint = %q", got)
			}
		}},
		{file: "empty.json", wantErr: "empty file"},
		{file: "truncated.json", wantErr: "not a valid connection file"},
		{file: "garbage.json", wantErr: "not a valid connection file"},
		{file: "array.json", wantErr: "not a valid connection file"},
		{file: "string_port.json", wantErr: "shell_port"},
		{file: "unknown_transport.json", wantErr: `unknown transport "udp"`},
		{file: "unknown_scheme.json", wantErr: "hmac-md5"},
		{file: "missing.json", wantErr: "read connection file"},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			path := filepath.Join("testdata", "connfiles", tt.file)
			ci, err := ReadConnectionFile(path)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("ReadConnectionFile: %v", err)
				}
				tt.check(t, ci)
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("error = %v, want one containing %q", err, tt.wantErr)
			}
			if tt.file != "missing.json" && !strings.Contains(err.Error(), tt.file) {
				t.Errorf("error %q does not name the file", err)
			}
		})
	}
	t.Run("missing is ErrNotExist", func(t *testing.T) {
		_, err := ReadConnectionFile(filepath.Join(t.TempDir(), "nope.json"))
		if !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("error %v does not wrap fs.ErrNotExist", err)
		}
	})
}

func TestParseConnectionInfo(t *testing.T) {
	tests := []struct {
		name    string
		data    string
		wantErr bool
	}{
		{name: "port too large", data: `{"ip":"127.0.0.1","shell_port":70000}`, wantErr: true},
		{name: "negative port", data: `{"ip":"127.0.0.1","hb_port":-1}`, wantErr: true},
		{name: "float port", data: `{"ip":"127.0.0.1","hb_port":1.5}`, wantErr: true},
		{name: "null", data: `null`, wantErr: true},
		{name: "bad ip", data: `{"ip":"not an ip"}`, wantErr: true},
		{name: "missing ip", data: `{}`, wantErr: true},
		{name: "ipc without ip", data: `{"transport":"ipc"}`, wantErr: true},
		{name: "key wrong type", data: `{"ip":"127.0.0.1","key":5}`, wantErr: true},
		{name: "localhost", data: `{"ip":"localhost"}`},
		{name: "any address", data: `{"ip":"*"}`},
		{name: "ipv6", data: `{"ip":"::1"}`},
		{name: "unknown scheme without key", data: `{"ip":"127.0.0.1","signature_scheme":"rot13"}`},
		{name: "unknown scheme with key", data: `{"ip":"127.0.0.1","key":"k","signature_scheme":"rot13"}`, wantErr: true},
		{name: "unknown fields ignored", data: `{"ip":"127.0.0.1","jupyter_session":"x","extra":[1]}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseConnectionInfo([]byte(tt.data))
			if (err != nil) != tt.wantErr {
				t.Errorf("ParseConnectionInfo(%s) error = %v, wantErr %v", tt.data, err, tt.wantErr)
			}
		})
	}
}

func TestEndpoint(t *testing.T) {
	tests := []struct {
		ci   ConnectionInfo
		port int
		want string
	}{
		{ConnectionInfo{Transport: "tcp", IP: "127.0.0.1"}, 5555, "tcp://127.0.0.1:5555"},
		{ConnectionInfo{Transport: "tcp", IP: "*"}, 1, "tcp://0.0.0.0:1"},
		{ConnectionInfo{Transport: "tcp", IP: "::1"}, 80, "tcp://[::1]:80"},
		{ConnectionInfo{Transport: "tcp", IP: "localhost"}, 0, "tcp://localhost:0"},
		{ConnectionInfo{Transport: "ipc", IP: "dir/kernel"}, 3, "ipc://dir/kernel-3"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			if got := tt.ci.Endpoint(tt.port); got != tt.want {
				t.Errorf("Endpoint = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestConnectionFileWriteRoundTrip(t *testing.T) {
	path := filepath.Join(t.TempDir(), "conn.json")
	in := ConnectionInfo{Transport: "tcp", IP: "127.0.0.1", ShellPort: 1, ControlPort: 2, StdinPort: 3,
		IOPubPort: 4, HBPort: 5, Key: "k", SignatureScheme: "hmac-sha512"}
	if err := in.Write(path); err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Errorf("connection file mode %v, want 0600", st.Mode().Perm())
	}
	out, err := ReadConnectionFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if out != in {
		t.Errorf("round trip: %+v != %+v", out, in)
	}
	if err := in.Write(filepath.Join(t.TempDir(), "no", "such", "dir.json")); err == nil {
		t.Error("Write into a missing directory succeeded")
	}
}
