package gateway

import (
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
)

// Enterprise Gateway's defaults for its port-range settings. The gateway
// passes its values to the kernel's environment as EG_MIN_PORT_RANGE_SIZE
// and EG_MAX_PORT_RANGE_RETRIES; its launchers also read the unprefixed
// names first.
const (
	DefaultMinPortRangeSize = 1000
	DefaultMaxPortRetries   = 5

	envMinPortRangeSize    = "MIN_PORT_RANGE_SIZE"
	envMaxPortRangeRetries = "MAX_PORT_RANGE_RETRIES"
	envPrefix              = "EG_"
)

// The gateway accepts port ranges within these ports only.
const lowestPort, highestPort = 1024, 65535

const portRangeSeparator = ".."

// Bounds on the public key: the gateway's is 1024 bits (its KEY_SIZE);
// a 4096-bit key is 550 bytes of DER.
const (
	maxPublicKeyBytes      = 16 << 10
	minRSABits, maxRSABits = 1024, 8192
)

// PortRange is the range the gateway allows for the kernel's ports. The
// zero value (the gateway's "0..0") means any port the system picks.
type PortRange struct {
	Lower, Upper int
}

// Any reports whether the range leaves the choice to the system.
func (r PortRange) Any() bool { return r.Upper == r.Lower }

func (r PortRange) String() string {
	return strconv.Itoa(r.Lower) + portRangeSeparator + strconv.Itoa(r.Upper)
}

// ParsePortRange parses "LOWER..UPPER" as the gateway writes it. An empty
// string and a zero-size range mean any port; otherwise the range must lie
// within 1024..65535 and span at least minSize ports (the gateway's
// EG_MIN_PORT_RANGE_SIZE).
func ParsePortRange(s string, minSize int) (PortRange, error) {
	if s == "" {
		return PortRange{}, nil
	}
	lo, hi, ok := strings.Cut(s, portRangeSeparator)
	if !ok {
		return PortRange{}, fmt.Errorf("port range %q: want LOWER..UPPER", s)
	}
	lower, err1 := strconv.Atoi(lo)
	upper, err2 := strconv.Atoi(hi)
	if err := errors.Join(err1, err2); err != nil {
		return PortRange{}, fmt.Errorf("port range %q: want LOWER..UPPER, two integers", s)
	}
	r := PortRange{Lower: lower, Upper: upper}
	if r.Any() {
		return PortRange{}, nil
	}
	if lower < lowestPort || upper > highestPort || lower > upper {
		return PortRange{}, fmt.Errorf("port range %q: want %d <= LOWER < UPPER <= %d", s, lowestPort, highestPort)
	}
	if upper-lower < minSize {
		return PortRange{}, fmt.Errorf("port range %q spans %d ports, fewer than the minimum %d (EG_MIN_PORT_RANGE_SIZE)", s, upper-lower, minSize)
	}
	return r, nil
}

// ParsePublicKey parses the gateway's public key: the base64 of a DER
// SubjectPublicKeyInfo (a PEM "PUBLIC KEY" body without its header,
// footer and newlines). PEM armour is accepted too.
func ParsePublicKey(s string) (*rsa.PublicKey, error) {
	if len(s) > maxPublicKeyBytes {
		return nil, fmt.Errorf("public key: %d bytes, too long", len(s))
	}
	body := s
	body = strings.ReplaceAll(body, "-----BEGIN PUBLIC KEY-----", "")
	body = strings.ReplaceAll(body, "-----END PUBLIC KEY-----", "")
	body = strings.Join(strings.Fields(body), "")
	der, err := base64.StdEncoding.DecodeString(body)
	if err != nil {
		return nil, errors.New("public key: not base64")
	}
	key, err := x509.ParsePKIXPublicKey(der)
	if err != nil {
		return nil, errors.New("public key: not a DER public key")
	}
	pub, ok := key.(*rsa.PublicKey)
	if !ok {
		return nil, fmt.Errorf("public key: %T, want an RSA key", key)
	}
	if bits := pub.N.BitLen(); bits < minRSABits || bits > maxRSABits {
		return nil, fmt.Errorf("public key: %d bits, want %d to %d", bits, minRSABits, maxRSABits)
	}
	return pub, nil
}

// ParseResponseAddress checks the gateway's "IP:PORT" response address.
func ParseResponseAddress(s string) (string, error) {
	host, port, err := net.SplitHostPort(s)
	if err != nil || host == "" {
		return "", fmt.Errorf("response address %q: want IP:PORT", s)
	}
	if p, err := strconv.Atoi(port); err != nil || p < 1 || p > highestPort {
		return "", fmt.Errorf("response address %q: bad port", s)
	}
	return s, nil
}

// Limits are the port-range settings from the environment, as the
// gateway's launchers read them: NAME, then EG_NAME, then the default.
// A value that is not a positive integer is an error.
func Limits(getenv func(string) string) (minSize, retries int, err error) {
	if getenv == nil {
		getenv = os.Getenv
	}
	minSize, err1 := envInt(getenv, envMinPortRangeSize, DefaultMinPortRangeSize)
	retries, err2 := envInt(getenv, envMaxPortRangeRetries, DefaultMaxPortRetries)
	return minSize, retries, errors.Join(err1, err2)
}

func envInt(getenv func(string) string, name string, def int) (int, error) {
	for _, n := range []string{name, envPrefix + name} {
		v := getenv(n)
		if v == "" {
			continue
		}
		i, err := strconv.Atoi(v)
		if err != nil || i < 0 {
			return def, fmt.Errorf("%s=%q: want a non-negative integer", n, v)
		}
		return i, nil
	}
	return def, nil
}
