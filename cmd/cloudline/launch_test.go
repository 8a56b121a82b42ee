package main

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"io"
	"log/slog"
	"net"
	"os"
	"strings"
	"syscall"
	"testing"

	"github.com/cloudline/cloudline/gateway"
	"github.com/cloudline/cloudline/kernel"
)

const testKernelID = "0d5f1c3e-52c5-4c0e-9d1d-3e1f5b6a7c8d"

// gatewayKeyPair is the gateway's key pair, the public half as the
// gateway passes it to launchers.
func gatewayKeyPair(t *testing.T) (*rsa.PrivateKey, string) {
	t.Helper()
	priv, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKIXPublicKey(&priv.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	return priv, base64.StdEncoding.EncodeToString(der)
}

func TestLaunchBadArguments(t *testing.T) {
	t.Setenv("XDG_STATE_HOME", t.TempDir())
	for _, k := range []string{"KERNEL_ID", "RESPONSE_ADDRESS", "EG_RESPONSE_ADDRESS", "PUBLIC_KEY", "EG_PUBLIC_KEY", "PORT_RANGE", "EG_PORT_RANGE", "MIN_PORT_RANGE_SIZE", "EG_MIN_PORT_RANGE_SIZE"} {
		os.Unsetenv(k) // t.Setenv restores what the environment had
		t.Setenv(k, "")
	}
	_, key := gatewayKeyPair(t)
	good := map[string]string{
		"--kernel-id": testKernelID, "--response-address": "127.0.0.1:8877", "--public-key": key, "--port-range": "0..0",
	}
	wrapped := []string{"--", "python3", "-m", "ipykernel_launcher", "-f", "{child_connection_file}"}
	args := func(edit ...string) []string {
		m := map[string]string{}
		for k, v := range good {
			m[k] = v
		}
		for i := 0; i+1 < len(edit); i += 2 {
			m[edit[i]] = edit[i+1]
		}
		var out []string
		for _, k := range []string{"--kernel-id", "--response-address", "--public-key", "--port-range"} {
			if m[k] != "-" {
				out = append(out, k, m[k])
			}
		}
		return append(out, wrapped...)
	}
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"nothing", nil, "missing --kernel-id"},
		{"no kernel id", args("--kernel-id", "-"), "missing --kernel-id (or $KERNEL_ID)"},
		{"kernel id not a uuid", args("--kernel-id", "k1"), `--kernel-id "k1" is not a kernel id`},
		{"no response address", args("--response-address", "-"), "missing --response-address"},
		{"response address without port", args("--response-address", "10.0.0.1"), "want IP:PORT"},
		{"no public key", args("--public-key", "-"), "missing --public-key"},
		{"public key garbage", args("--public-key", "abc$"), "public key: not base64"},
		{"public key not DER", args("--public-key", "aGVsbG8="), "not a DER public key"},
		{"port range reversed", args("--port-range", "50000..40000"), "port range"},
		{"port range too small", args("--port-range", "40000..40100"), "fewer than the minimum 1000"},
		{"port range words", args("--port-range", "low..high"), "two integers"},
		{"unknown flag", append([]string{"--bogus"}, args()...), "bogus"},
		{"spark", append([]string{"--spark-context-initialization-mode", "eager"}, args()...), "no Spark context"},
		{"bad ip", append([]string{"--ip", "localhost:1"}, args()...), "--ip"},
		{"no wrapped kernel", args()[:8], "after --"},
		{"no placeholder", append(args()[:9], "python3", "-f", "{connection_file}"), "{child_connection_file}"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, stderr := cli(t, append([]string{"launch"}, tt.args...)...)
			if code != 2 || strings.Count(stderr, "\n") != 1 || !strings.HasPrefix(stderr, "cloudline launch: ") ||
				!strings.Contains(stderr, tt.want) || strings.Contains(stderr, "panic") {
				t.Errorf("status %d, stderr %q; want 2 and one line with %q", code, stderr, tt.want)
			}
		})
	}
	t.Run("bad EG_MIN_PORT_RANGE_SIZE", func(t *testing.T) {
		t.Setenv("EG_MIN_PORT_RANGE_SIZE", "lots")
		code, _, stderr := cli(t, append([]string{"launch"}, args()...)...)
		if code != 2 || !strings.Contains(stderr, "EG_MIN_PORT_RANGE_SIZE") {
			t.Errorf("status %d, stderr %q", code, stderr)
		}
	})
}

func TestLaunchArgumentsFromEnvironment(t *testing.T) {
	_, key := gatewayKeyPair(t)
	env := map[string]string{
		"KERNEL_ID": testKernelID, "EG_RESPONSE_ADDRESS": "10.1.2.3:8877", "PUBLIC_KEY": key,
		"EG_PORT_RANGE": "40000..42000", "EG_MIN_PORT_RANGE_SIZE": "2000",
	}
	la, err := parseLaunchArgs([]string{"--RemoteProcessProxy.kernel-id", testKernelID, "--", "py", "{child_connection_file}"},
		func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	if la.kernelID != testKernelID || la.responseAddr != "10.1.2.3:8877" || la.ports != (gateway.PortRange{Lower: 40000, Upper: 42000}) ||
		la.ip != "0.0.0.0" || la.retries != gateway.DefaultMaxPortRetries || len(la.ka.argv) != 2 ||
		!la.ka.detached { // the launch's parent (nohup's shell) exits at once: not watched
		t.Fatalf("parsed %+v", la)
	}
}

// fakeGateway is the gateway's response address: it returns the decoded
// payload of the first connection.
func fakeGateway(t *testing.T, priv *rsa.PrivateKey) (string, <-chan gateway.ConnectionInfo) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	got := make(chan gateway.ConnectionInfo, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		data, _ := io.ReadAll(c)
		info, err := gateway.Open(data, priv)
		if err != nil {
			t.Errorf("the gateway could not open the payload: %v", err)
		}
		got <- info
	}()
	return ln.Addr().String(), got
}

// TestLauncherContract runs the launcher's side against a fake gateway:
// the connection info arrives sealed for the gateway's key, and the
// communication port takes polls and a shutdown.
func TestLauncherContract(t *testing.T) {
	priv, key := gatewayKeyPair(t)
	pub, _ := gateway.ParsePublicKey(key)
	addr, got := fakeGateway(t, priv)
	comm, err := gateway.Listen("127.0.0.1", gateway.PortRange{}, 0)
	if err != nil {
		t.Fatal(err)
	}
	ci := kernel.ConnectionInfo{Transport: "tcp", IP: "127.0.0.1", ShellPort: 1, IOPubPort: 2, StdinPort: 3, HBPort: 4, ControlPort: 5, Key: "k", SignatureScheme: "hmac-sha256"}
	l := &launcher{la: launchArgs{kernelID: testKernelID, responseAddr: addr, publicKey: pub}, ci: ci, comm: comm}
	cancelled := make(chan struct{})
	p := &kernel.Proxy{Log: slog.New(slog.DiscardHandler)}
	if err := l.prepare(p, func() { close(cancelled) }); err != nil {
		t.Fatal(err)
	}
	p.Started(4242)

	info := <-got
	want := gateway.ConnectionInfo{ConnectionInfo: ci, PID: os.Getpid(), PGID: syscall.Getpgrp(),
		CommPort: comm.Addr().(*net.TCPAddr).Port, KernelID: testKernelID}
	if info != want {
		t.Fatalf("gateway got %+v\nwant %+v", info, want)
	}
	commAddr := comm.Addr().String()
	for _, req := range []string{`{"signum": 0}`, `{"shutdown": 1}`} {
		c, err := net.Dial("tcp", commAddr)
		if err != nil {
			t.Fatal(err)
		}
		c.Write([]byte(req))
		c.Close()
	}
	<-cancelled // the shutdown request stops the kernel after the grace (0 here)
	l.close()
	if _, err := net.Dial("tcp", commAddr); err == nil {
		t.Fatal("communication port still open after close")
	}
}

// TestLauncherGatewayUnreachable: a launcher that cannot return its
// connection info stops the kernel instead of running unseen.
func TestLauncherGatewayUnreachable(t *testing.T) {
	_, key := gatewayKeyPair(t)
	pub, _ := gateway.ParsePublicKey(key)
	gone, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := gone.Addr().String()
	gone.Close()
	comm, err := gateway.Listen("127.0.0.1", gateway.PortRange{}, 0)
	if err != nil {
		t.Fatal(err)
	}
	l := &launcher{la: launchArgs{kernelID: testKernelID, responseAddr: addr, publicKey: pub}, comm: comm}
	cancelled := false
	p := &kernel.Proxy{Log: slog.New(slog.DiscardHandler)}
	l.prepare(p, func() { cancelled = true })
	p.Started(1)
	l.close()
	if !cancelled {
		t.Fatal("kernel not stopped when the gateway is unreachable")
	}
}
