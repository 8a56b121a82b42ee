package gateway

import (
	"bytes"
	"crypto/aes"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"

	"github.com/cloudline/cloudline/kernel"
)

func sampleInfo() ConnectionInfo {
	return ConnectionInfo{
		ConnectionInfo: kernel.ConnectionInfo{
			Transport: "tcp", IP: "0.0.0.0", ShellPort: 40001, IOPubPort: 40002, StdinPort: 40003,
			HBPort: 40004, ControlPort: 40005, Key: "k3y", SignatureScheme: "hmac-sha256",
		},
		PID: 4242, PGID: 4242, CommPort: 40006, KernelID: "0d5f1c3e-52c5-4c0e-9d1d-3e1f5b6a7c8d",
	}
}

// TestSealOpen decodes a payload step by step as the gateway's
// ResponseManager does, then through Open.
func TestSealOpen(t *testing.T) {
	priv, b64 := gatewayKey(t, 1024) // the gateway's KEY_SIZE
	pub, err := ParsePublicKey(b64)
	if err != nil {
		t.Fatal(err)
	}
	info := sampleInfo()
	payload, err := Seal(info, pub, nil)
	if err != nil {
		t.Fatal(err)
	}

	raw, err := base64.StdEncoding.DecodeString(string(payload))
	if err != nil {
		t.Fatalf("payload is not base64: %v", err)
	}
	var env map[string]any
	if err := json.Unmarshal(raw, &env); err != nil {
		t.Fatalf("payload is not a JSON object: %v", err)
	}
	if env["version"] != float64(1) || len(env) != 3 {
		t.Fatalf("envelope = %v, want version 1, key and conn_info", env)
	}
	sealedKey, _ := base64.StdEncoding.DecodeString(env["key"].(string))
	key, err := rsa.DecryptPKCS1v15(nil, priv, sealedKey)
	if err != nil || len(key) != 16 {
		t.Fatalf("aes key: %d bytes, %v; want 16 under PKCS #1 v1.5", len(key), err)
	}
	body, _ := base64.StdEncoding.DecodeString(env["conn_info"].(string))
	block, _ := aes.NewCipher(key)
	plain := ecb(block, body, block.Decrypt)
	if n := int(plain[len(plain)-1]); n < 1 || n > 16 {
		t.Fatalf("last byte %d is not PKCS #7 padding", n)
	}
	var fields map[string]any
	if err := json.Unmarshal(plain[:len(plain)-int(plain[len(plain)-1])], &fields); err != nil {
		t.Fatalf("connection info: %v", err)
	}
	for _, k := range []string{"shell_port", "iopub_port", "stdin_port", "hb_port", "control_port", "ip", "key", "transport", "signature_scheme", "pid", "pgid", "comm_port", "kernel_id"} {
		if _, ok := fields[k]; !ok {
			t.Errorf("connection info lacks %q: %v", k, fields)
		}
	}

	got, err := Open(payload, priv)
	if err != nil || got != info {
		t.Fatalf("Open = %+v, %v; want %+v", got, err, info)
	}
}

func TestOpenRejects(t *testing.T) {
	priv, b64 := gatewayKey(t, 1024)
	other, _ := gatewayKey(t, 1024)
	pub, _ := ParsePublicKey(b64)
	good, err := Seal(sampleInfo(), pub, nil)
	if err != nil {
		t.Fatal(err)
	}
	envelopeOf := func(v any) []byte {
		b, _ := json.Marshal(v)
		return []byte(base64.StdEncoding.EncodeToString(b))
	}
	for name, tc := range map[string]struct {
		payload []byte
		key     *rsa.PrivateKey
		wantErr string
	}{
		"wrong key":   {good, other, "does not open"},
		"not base64":  {[]byte("%%%"), priv, "not base64"},
		"version 0":   {envelopeOf(map[string]any{"version": 0}), priv, "version 0"},
		"huge":        {bytes.Repeat([]byte("A"), maxPayloadBytes+1), priv, "too long"},
		"bad members": {envelopeOf(map[string]any{"version": 1, "key": "%", "conn_info": "%"}), priv, "not base64"},
	} {
		if _, err := Open(tc.payload, tc.key); err == nil || !strings.Contains(err.Error(), tc.wantErr) {
			t.Errorf("%s: Open error = %v, want %q", name, err, tc.wantErr)
		}
	}
}

func TestPadding(t *testing.T) {
	for n := range 40 {
		b := bytes.Repeat([]byte{'x'}, n)
		p := pad(b, 16)
		if len(p)%16 != 0 || len(p) <= n {
			t.Fatalf("pad(%d bytes) = %d bytes", n, len(p))
		}
		if u, err := unpad(p, 16); err != nil || !bytes.Equal(u, b) {
			t.Fatalf("unpad(pad(%d bytes)) = %q, %v", n, u, err)
		}
	}
	for _, bad := range [][]byte{{}, {0}, bytes.Repeat([]byte{17}, 32), append(bytes.Repeat([]byte{'x'}, 14), 1, 2)} {
		if _, err := unpad(bad, 16); err == nil {
			t.Errorf("unpad(%v) accepted bad padding", bad)
		}
	}
}
