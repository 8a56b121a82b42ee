package kernel

import (
	"crypto/subtle"
	"errors"
	"fmt"
	"strings"

	"golang.org/x/crypto/curve25519"
)

// This file and the other curve*.go files are the server side of the CURVE
// security mechanism (RFC 26 CurveZMQ, RFC 25 ZMTP-CURVE) as libzmq
// implements it: jupyter_client 8.10 provisions a keypair in the
// connection file (curve_publickey, curve_secretkey, Z85) when its
// transport_encryption policy asks for it, and every client socket then
// authenticates the kernel by that public key. cloudline serves it on the
// five frontend sockets; the hop to the wrapped kernel stays private
// instead (child.go). Clients are not authenticated (libzmq without a ZAP
// handler does the same): whoever holds the connection file may connect,
// as with the HMAC key.

// CurveKeys is a kernel's long-term CURVE keypair.
type CurveKeys struct {
	Public, Secret [32]byte
}

// ParseCurveKeys decodes a Z85 keypair as jupyter_client writes it and
// checks that the public key belongs to the secret one (a mismatched pair
// would let no client in, a failure better reported at start).
func ParseCurveKeys(public, secret string) (CurveKeys, error) {
	var k CurveKeys
	pub, err := z85Decode(public)
	if err != nil || len(pub) != 32 {
		return k, fmt.Errorf("curve_publickey is not a Z85 key of 32 bytes")
	}
	sec, err := z85Decode(secret)
	if err != nil || len(sec) != 32 {
		return k, fmt.Errorf("curve_secretkey is not a Z85 key of 32 bytes")
	}
	copy(k.Public[:], pub)
	copy(k.Secret[:], sec)
	derived, err := curve25519.X25519(k.Secret[:], curve25519.Basepoint)
	if err != nil {
		return k, fmt.Errorf("curve_secretkey: %w", err)
	}
	if subtle.ConstantTimeCompare(derived, k.Public[:]) != 1 {
		return k, errors.New("curve_publickey does not match curve_secretkey")
	}
	return k, nil
}

// z85Alphabet is ZeroMQ's Z85 encoding (RFC 32).
const z85Alphabet = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.-:+=^!/*?&<>()[]{}@%$#"

// z85Decode decodes a Z85 string (its length a multiple of 5).
func z85Decode(s string) ([]byte, error) {
	if len(s)%5 != 0 {
		return nil, errors.New("z85: length not a multiple of 5")
	}
	out := make([]byte, 0, len(s)/5*4)
	for i := 0; i < len(s); i += 5 {
		var v uint64
		for _, c := range []byte(s[i : i+5]) {
			d := strings.IndexByte(z85Alphabet, c)
			if d < 0 {
				return nil, fmt.Errorf("z85: invalid character %q", c)
			}
			v = v*85 + uint64(d)
		}
		if v > 0xffffffff {
			return nil, errors.New("z85: group out of range")
		}
		out = append(out, byte(v>>24), byte(v>>16), byte(v>>8), byte(v))
	}
	return out, nil
}

// z85Encode encodes b (its length a multiple of 4) as Z85.
func z85Encode(b []byte) string {
	var sb strings.Builder
	for i := 0; i+4 <= len(b); i += 4 {
		v := uint32(b[i])<<24 | uint32(b[i+1])<<16 | uint32(b[i+2])<<8 | uint32(b[i+3])
		var g [5]byte
		for j := 4; j >= 0; j-- {
			g[j] = z85Alphabet[v%85]
			v /= 85
		}
		sb.Write(g[:])
	}
	return sb.String()
}
