package gateway

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"math/big"
	"strings"
	"testing"
)

func TestParsePortRange(t *testing.T) {
	for _, tc := range []struct {
		in      string
		want    PortRange
		wantErr string
	}{
		{"", PortRange{}, ""},
		{"0..0", PortRange{}, ""},
		{"40000..41000", PortRange{40000, 41000}, ""},
		{"1024..65535", PortRange{1024, 65535}, ""},
		{"40000..40999", PortRange{}, "fewer than the minimum 1000"},
		{"1000..3000", PortRange{}, "want 1024 <= LOWER"},
		{"50000..70000", PortRange{}, "want 1024 <= LOWER"},
		{"42000..41000", PortRange{}, "want 1024 <= LOWER"},
		{"40000-41000", PortRange{}, "want LOWER..UPPER"},
		{"a..b", PortRange{}, "two integers"},
		{"40000..", PortRange{}, "two integers"},
	} {
		t.Run(tc.in, func(t *testing.T) {
			got, err := ParsePortRange(tc.in, DefaultMinPortRangeSize)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("ParsePortRange(%q) error = %v, want %q", tc.in, err, tc.wantErr)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("ParsePortRange(%q) = %v, %v; want %v", tc.in, got, err, tc.want)
			}
		})
	}
}

// gatewayKey returns a key pair and the public key as the gateway passes
// it: the PEM body without armour or newlines.
func gatewayKey(t *testing.T, bits int) (*rsa.PrivateKey, string) {
	t.Helper()
	priv, err := rsa.GenerateKey(rand.Reader, bits)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKIXPublicKey(&priv.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	return priv, base64.StdEncoding.EncodeToString(der)
}

func TestParsePublicKey(t *testing.T) {
	priv, b64 := gatewayKey(t, 1024)
	der, _ := base64.StdEncoding.DecodeString(b64)
	armoured := string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))
	for name, in := range map[string]string{"gateway form": b64, "pem": armoured} {
		pub, err := ParsePublicKey(in)
		if err != nil || !pub.Equal(&priv.PublicKey) {
			t.Errorf("%s: ParsePublicKey = %v, %v; want the key", name, pub, err)
		}
	}
	ec, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	ecDER, _ := x509.MarshalPKIXPublicKey(&ec.PublicKey)
	// Go refuses to generate keys under 1024 bits; a 512-bit modulus
	// still encodes.
	smallN := new(big.Int).Lsh(big.NewInt(1), 511)
	smallDER, _ := x509.MarshalPKIXPublicKey(&rsa.PublicKey{N: smallN.Add(smallN, big.NewInt(1)), E: 65537})
	for name, tc := range map[string]struct{ in, wantErr string }{
		"not base64": {"not*base64", "not base64"},
		"not DER":    {base64.StdEncoding.EncodeToString([]byte("hello")), "not a DER public key"},
		"not RSA":    {base64.StdEncoding.EncodeToString(ecDER), "want an RSA key"},
		"too small":  {base64.StdEncoding.EncodeToString(smallDER), "512 bits"},
		"huge":       {strings.Repeat("A", maxPublicKeyBytes+1), "too long"},
	} {
		if _, err := ParsePublicKey(tc.in); err == nil || !strings.Contains(err.Error(), tc.wantErr) {
			t.Errorf("%s: error = %v, want %q", name, err, tc.wantErr)
		}
	}
}

func TestParseResponseAddress(t *testing.T) {
	for in, ok := range map[string]bool{
		"10.0.0.5:8877": true, "[::1]:8877": true, "gw.example:8877": true,
		"10.0.0.5": false, ":8877": false, "10.0.0.5:0": false, "10.0.0.5:x": false, "": false,
	} {
		if _, err := ParseResponseAddress(in); (err == nil) != ok {
			t.Errorf("ParseResponseAddress(%q) error = %v, want ok=%v", in, err, ok)
		}
	}
}

func TestLimits(t *testing.T) {
	env := map[string]string{}
	get := func(k string) string { return env[k] }
	if m, r, err := Limits(get); err != nil || m != 1000 || r != 5 {
		t.Fatalf("defaults = %d, %d, %v", m, r, err)
	}
	env["EG_MIN_PORT_RANGE_SIZE"] = "10"
	env["EG_MAX_PORT_RANGE_RETRIES"] = "7"
	env["MAX_PORT_RANGE_RETRIES"] = "3" // the unprefixed name wins, as in the launchers
	if m, r, err := Limits(get); err != nil || m != 10 || r != 3 {
		t.Fatalf("from env = %d, %d, %v", m, r, err)
	}
	env["MIN_PORT_RANGE_SIZE"] = "many"
	if _, _, err := Limits(get); err == nil || !strings.Contains(err.Error(), "MIN_PORT_RANGE_SIZE") {
		t.Fatalf("bad value: error = %v", err)
	}
}
