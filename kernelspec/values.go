package kernelspec

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode"
)

// The value parsers below take one JSON value. Every key also accepts a
// JSON string (that is how CLOUDLINE_<KEY> variables and --set arrive), so
// each parser handles the string form of its type too.

// jsonString returns the string raw holds and whether it is a string.
func jsonString(raw json.RawMessage) (string, bool) {
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return "", false
	}
	return s, true
}

// jsonNumber returns the number raw holds and whether it is a number.
func jsonNumber(raw json.RawMessage) (float64, bool) {
	t := bytes.TrimSpace(raw)
	if len(t) == 0 || (t[0] != '-' && (t[0] < '0' || t[0] > '9')) {
		return 0, false
	}
	var f float64
	if err := json.Unmarshal(t, &f); err != nil {
		return 0, false
	}
	return f, true
}

var errWant = errors.New("bad value")

// parseDuration accepts a Go duration string ("90s", "1h30m"), a number of
// seconds as a JSON number or a plain numeric string.
func parseDuration(raw json.RawMessage) (time.Duration, error) {
	secs, isNum := jsonNumber(raw)
	if !isNum {
		s, ok := jsonString(raw)
		if !ok {
			return 0, fmt.Errorf("%w: want a duration like \"90s\" or \"1h30m\" or a number of seconds", errWant)
		}
		s = strings.TrimSpace(s)
		if f, err := strconv.ParseFloat(s, 64); err == nil {
			secs, isNum = f, true
		} else {
			d, err := time.ParseDuration(s)
			if err != nil {
				return 0, fmt.Errorf("%w: want a duration like \"90s\" or \"1h30m\" or a number of seconds", errWant)
			}
			return d, nil
		}
	}
	if math.IsNaN(secs) || math.IsInf(secs, 0) || math.Abs(secs) > float64(math.MaxInt64)/1e9 {
		return 0, fmt.Errorf("%w: duration out of range", errWant)
	}
	return time.Duration(secs * float64(time.Second)), nil
}

// parseFloat accepts a JSON number or a numeric string.
func parseFloat(raw json.RawMessage) (float64, error) {
	f, ok := jsonNumber(raw)
	if !ok {
		s, isStr := jsonString(raw)
		var err error
		if f, err = strconv.ParseFloat(strings.TrimSpace(s), 64); !isStr || err != nil {
			return 0, fmt.Errorf("%w: want a number", errWant)
		}
	}
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return 0, fmt.Errorf("%w: want a finite number", errWant)
	}
	return f, nil
}

// parseInt accepts a whole JSON number or an integer string.
func parseInt(raw json.RawMessage) (int, error) {
	f, err := parseFloat(raw)
	if err != nil || f != math.Trunc(f) || math.Abs(f) > math.MaxInt32 {
		return 0, fmt.Errorf("%w: want a whole number", errWant)
	}
	return int(f), nil
}

// parseBool accepts true/false and the strings true/false, yes/no, on/off,
// 1/0 (any case).
func parseBool(raw json.RawMessage) (bool, error) {
	var b bool
	if json.Unmarshal(raw, &b) == nil {
		return b, nil
	}
	if s, ok := jsonString(raw); ok {
		switch strings.ToLower(strings.TrimSpace(s)) {
		case "true", "yes", "on", "1":
			return true, nil
		case "false", "no", "off", "0":
			return false, nil
		}
	}
	return false, fmt.Errorf("%w: want true or false", errWant)
}

// parseList accepts a JSON array of strings or a comma-separated string.
// Items are trimmed; empty items are dropped.
func parseList(raw json.RawMessage) ([]string, error) {
	var items []string
	if s, ok := jsonString(raw); ok {
		items = strings.Split(s, ",")
	} else if err := json.Unmarshal(raw, &items); err != nil {
		return nil, fmt.Errorf("%w: want a list of strings or a comma-separated string", errWant)
	}
	out := []string{}
	for _, it := range items {
		if it = strings.TrimSpace(it); it != "" {
			out = append(out, it)
		}
	}
	return out, nil
}

// byteUnits maps lower-case unit suffixes to their size: SI units are
// powers of 1000, IEC units powers of 1024.
var byteUnits = map[string]float64{
	"": 1, "b": 1,
	"k": 1e3, "kb": 1e3, "m": 1e6, "mb": 1e6, "g": 1e9, "gb": 1e9, "t": 1e12, "tb": 1e12, "p": 1e15, "pb": 1e15,
	"ki": 1 << 10, "kib": 1 << 10, "mi": 1 << 20, "mib": 1 << 20, "gi": 1 << 30, "gib": 1 << 30,
	"ti": 1 << 40, "tib": 1 << 40, "pi": 1 << 50, "pib": 1 << 50,
}

// ParseBytes parses a size like "20MB", "4GiB", "512k", "1.5 GB" or
// "1000" into bytes. Units are case-insensitive; SI units (k, MB, ...)
// are powers of 1000 and IEC units (KiB, Mi, ...) powers of 1024.
func ParseBytes(s string) (int64, error) {
	s = strings.TrimSpace(s)
	i := strings.IndexFunc(s, func(r rune) bool { return unicode.IsLetter(r) })
	num, unit := s, ""
	if i >= 0 {
		num, unit = strings.TrimSpace(s[:i]), strings.ToLower(s[i:])
	}
	mult, ok := byteUnits[unit]
	if !ok {
		return 0, fmt.Errorf("%w: unknown unit %q, use B, kB, MB, GB, TB, KiB, MiB, GiB or TiB", errWant, s[i:])
	}
	f, err := strconv.ParseFloat(num, 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		return 0, fmt.Errorf("%w: want a size like \"20MB\", \"4GiB\" or a number of bytes", errWant)
	}
	return bytesOf(f * mult)
}

func bytesOf(f float64) (int64, error) {
	if f < 0 {
		return 0, fmt.Errorf("%w: a size cannot be negative", errWant)
	}
	if f >= math.MaxInt64 {
		return 0, fmt.Errorf("%w: size out of range", errWant)
	}
	return int64(f), nil
}

// parseSize accepts a JSON number of bytes or a ParseBytes string.
func parseSize(raw json.RawMessage) (int64, error) {
	if f, ok := jsonNumber(raw); ok {
		return bytesOf(f)
	}
	if s, ok := jsonString(raw); ok {
		return ParseBytes(s)
	}
	return 0, fmt.Errorf("%w: want a size like \"20MB\", \"4GiB\" or a number of bytes", errWant)
}

// FormatDuration writes d the short way: "1h", "90s" -> "1m30s", "1h30m".
// The result parses with time.ParseDuration.
func FormatDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}
