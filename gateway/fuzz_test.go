package gateway

import (
	"testing"
)

// FuzzParseRequest: what anyone reaching the communication port can send.
func FuzzParseRequest(f *testing.F) {
	for _, s := range []string{`{"signum": 0}`, `{"signum": 2}`, `{"shutdown": 1}`, `{"signum": 15, "shutdown": true}`, `{"signum": 1e99}`, `[]`, ``} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := ParseRequest(data)
		if err == nil && (r.Signal < 0 || r.Signal > 64 || (!r.IsSignal && r.Signal != 0)) {
			t.Fatalf("ParseRequest(%q) = %+v", data, r)
		}
	})
}

// FuzzPortRange: the gateway's --port-range argument.
func FuzzPortRange(f *testing.F) {
	for _, s := range []string{"0..0", "40000..41000", "1024..65535", "a..b", "..", "9999999999999999999..1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		r, err := ParsePortRange(s, DefaultMinPortRangeSize)
		if err != nil {
			return
		}
		if !r.Any() && (r.Lower < lowestPort || r.Upper > highestPort || r.Upper-r.Lower < DefaultMinPortRangeSize) {
			t.Fatalf("ParsePortRange(%q) = %v", s, r)
		}
	})
}
