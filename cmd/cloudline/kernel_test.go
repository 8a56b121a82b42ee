package main

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// connJSON is a valid connection file whose ports are all 0 (bind any);
// edit replaces parts of it.
func connJSON(edit ...string) string {
	s := `{"transport": "tcp", "ip": "127.0.0.1", "shell_port": 0, "iopub_port": 0,
  "stdin_port": 0, "control_port": 0, "hb_port": 0,
  "key": "a0436f6c-1916-498b-8eb9-e81ab9368e84", "signature_scheme": "hmac-sha256"}`
	for i := 0; i+1 < len(edit); i += 2 {
		s = strings.Replace(s, edit[i], edit[i+1], 1)
	}
	return s
}

// busyPort returns a TCP port on 127.0.0.1 that stays taken for the test.
func busyPort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	return ln.Addr().(*net.TCPAddr).Port
}

// checkOneLine fails unless stderr is exactly one line from the kernel
// command, mentioning want, and not a panic.
func checkOneLine(t *testing.T, code int, stderr, want string) {
	t.Helper()
	if code != 2 {
		t.Errorf("exit status %d, want 2 (stderr %q)", code, stderr)
	}
	if strings.Count(stderr, "\n") != 1 || !strings.HasSuffix(stderr, "\n") {
		t.Errorf("want exactly one line on stderr, got %q", stderr)
	}
	if !strings.HasPrefix(stderr, "cloudline kernel: ") {
		t.Errorf("stderr %q does not say which command failed", stderr)
	}
	if !strings.Contains(stderr, want) {
		t.Errorf("stderr %q does not mention %q", stderr, want)
	}
	for _, bad := range []string{"panic:", "goroutine ", "%!"} {
		if strings.Contains(stderr, bad) {
			t.Errorf("stderr has %q: %q", bad, stderr)
		}
	}
}

func TestKernelBadArguments(t *testing.T) {
	t.Setenv("XDG_STATE_HOME", t.TempDir())
	conn := filepath.Join(t.TempDir(), "kernel.json")
	writeFile(t, conn, connJSON(), 0o600)
	wrapped := []string{"--", "python3", "-m", "ipykernel_launcher", "-f", "{child_connection_file}"}
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"no arguments", nil, "missing -f"},
		{"no connection file", wrapped, "missing -f"},
		{"unknown flag", append([]string{"--bogus", "-f", conn}, wrapped...), "bogus"},
		{"flag without value", []string{"-f"}, "-f"},
		{"no wrapped kernel", []string{"-f", conn}, "after --"},
		{"no placeholder", []string{"-f", conn, "--", "python3", "-m", "ipykernel_launcher", "-f", "{connection_file}"}, "{child_connection_file}"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, stderr := cli(t, append([]string{"kernel"}, tt.args...)...)
			checkOneLine(t, code, stderr, tt.want)
		})
	}
}

func TestKernelBadConnectionFile(t *testing.T) {
	t.Setenv("XDG_STATE_HOME", t.TempDir())
	dir := t.TempDir()
	shell, iopub := busyPort(t), busyPort(t)
	tests := []struct {
		name string
		body *string // nil: the file does not exist
		want string
	}{
		{"missing", nil, "no such file"},
		{"empty", ptr(""), "empty"},
		{"whitespace", ptr(" \n"), "not a valid connection file"},
		{"malformed", ptr(`{"shell_port": 1,`), "not a valid connection file"},
		{"not an object", ptr(`[1, 2, 3]`), "not a valid connection file"},
		{"binary", ptr("\x00\xff\xfe"), "not a valid connection file"},
		{"port is a string", ptr(connJSON(`"shell_port": 0`, `"shell_port": "53794"`)), "shell_port"},
		{"key is a number", ptr(connJSON(`"key": "a0436f6c-1916-498b-8eb9-e81ab9368e84"`, `"key": 5`)), "key"},
		{"port out of range", ptr(connJSON(`"hb_port": 0`, `"hb_port": 70000`)), "hb_port 70000 out of range"},
		{"negative port", ptr(connJSON(`"stdin_port": 0`, `"stdin_port": -1`)), "stdin_port -1 out of range"},
		{"ip not an address", ptr(connJSON(`"127.0.0.1"`, `"example.com"`)), "example.com"},
		{"unknown transport", ptr(connJSON(`"tcp"`, `"udp"`)), "udp"},
		{"unknown signature scheme", ptr(connJSON(`"hmac-sha256"`, `"hmac-md4"`)), "hmac-md4"},
		{"scheme that is not hmac", ptr(connJSON(`"hmac-sha256"`, `"rsa-sha256"`)), "rsa-sha256"},
		// Encryption asked for and not honoured never becomes a plaintext kernel.
		{"curve public key alone", ptr(connJSON(`"tcp",`, `"tcp", "curve_publickey": "rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf7",`)), "curve_publickey and curve_secretkey must be given together"},
		{"curve key not z85", ptr(connJSON(`"tcp",`, `"tcp", "curve_publickey": "not-a-key", "curve_secretkey": "not-a-key"`+`,`)), "curve_publickey is not a Z85 key"},
		{"curve keys not a pair", ptr(connJSON(`"tcp",`, `"tcp", "curve_publickey": "rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf7", "curve_secretkey": "D:)Q[IlAW!ahhC2ac:9*A}h:p?([4%wOTJ%JR%cs",`)), "curve_publickey does not match curve_secretkey"},
		{"shell port in use", ptr(connJSON(`"shell_port": 0`, fmt.Sprintf(`"shell_port": %d`, shell))), fmt.Sprintf("bind shell socket tcp://127.0.0.1:%d", shell)},
		{"iopub port in use", ptr(connJSON(`"iopub_port": 0`, fmt.Sprintf(`"iopub_port": %d`, iopub))), fmt.Sprintf("bind iopub socket tcp://127.0.0.1:%d", iopub)},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(dir, fmt.Sprintf("kernel-%d.json", i))
			if tt.body != nil {
				writeFile(t, path, *tt.body, 0o600)
			}
			// A wrapped kernel that cannot start: a file that got past the
			// checks fails later with a different message.
			code, _, stderr := cli(t, "kernel", "-f", path, "--", filepath.Join(dir, "no-such-python"), "{child_connection_file}")
			checkOneLine(t, code, stderr, tt.want)
		})
	}
}

func TestKernelWrappedKernelMissing(t *testing.T) {
	t.Setenv("XDG_STATE_HOME", t.TempDir())
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	conn := filepath.Join(t.TempDir(), "kernel.json")
	writeFile(t, conn, connJSON(), 0o600)
	gone := filepath.Join(t.TempDir(), "deleted-venv", "bin", "python")
	code, _, stderr := cli(t, "kernel", "-f", conn, "--", gone, "-m", "ipykernel_launcher", "-f", "{child_connection_file}")
	checkOneLine(t, code, stderr, "start wrapped kernel "+gone)
	if !strings.Contains(stderr, "no such file") {
		t.Errorf("stderr %q does not say the interpreter is missing", stderr)
	}
	if left, _ := os.ReadDir(tmp); len(left) != 0 {
		t.Errorf("left in TMPDIR: %v", left)
	}
}

func ptr(s string) *string { return &s }
