// Package human writes the figures a user reads — byte sizes, durations and
// shares — in the one form every view of cloudline uses: the notes, the
// status line, `cloudline history`, the report and the JupyterLab
// extension's footer and status bar. The extension has its own copy of
// these rules (labextension/src/format.ts); testdata/figures.json is the
// table of cases both are tested against, so the two cannot drift apart.
//
// The rounding is spelled out in float64 operations that JavaScript does
// the same way (a double times ten, plus one half, floored), rather than
// left to strconv's round-half-to-even, which toFixed does not share.
package human

import (
	"math"
	"strconv"
	"time"
)

// iecUnits are the units of Bytes above one KiB, powers of 1024.
var iecUnits = []string{"KiB", "MiB", "GiB", "TiB", "PiB", "EiB"}

// Bytes renders n in IEC units with at most one decimal, trailing ".0"
// dropped: "512 B", "1.4 GiB", "23.5 GiB", "16 GiB". A value that rounds
// up to 1024 of a unit is written in the next one ("1 MiB", not "1024 KiB").
func Bytes(n uint64) string {
	if n < 1024 {
		return strconv.FormatUint(n, 10) + " B"
	}
	v := float64(n)
	i := -1
	for v >= 1024 && i < len(iecUnits)-1 {
		v /= 1024
		i++
	}
	t := tenths(v)
	if t >= 10240 && i < len(iecUnits)-1 {
		t = tenths(v / 1024)
		i++
	}
	return tenthsText(t) + " " + iecUnits[i]
}

// Duration renders d the way a person reads a run time: "0.4s", "42s",
// "12m 05s", "1h 05m", "2d 03h". Below a second it rounds to a tenth;
// above, each form rounds down to its smaller unit (a cell that has run
// 59.9 s has not run a minute). Negative durations render as "0s".
func Duration(d time.Duration) string {
	return Seconds(d.Seconds())
}

// maxSeconds bounds what Seconds writes (about 31 million years), so the
// conversion to an integer stays exact in Go and in JavaScript (2^53).
const maxSeconds = 1e15

// Seconds is Duration of a number of seconds, as the history's and the
// comm's JSON carry them; the rule works on this float, so a duration
// reads the same here and in the extension, which gets d.Seconds().
func Seconds(s float64) string {
	if math.IsNaN(s) || s <= 0 {
		return "0s"
	}
	if s < 1 {
		switch t := tenths(s); {
		case t <= 0:
			return "0s"
		case t >= 10:
			return "1s"
		default:
			return "0." + strconv.FormatInt(t, 10) + "s"
		}
	}
	n := int64(math.Floor(min(s, maxSeconds)))
	switch {
	case n < 60:
		return strconv.FormatInt(n, 10) + "s"
	case n < 3600:
		return strconv.FormatInt(n/60, 10) + "m " + two(n%60) + "s"
	case n < 86400:
		return strconv.FormatInt(n/3600, 10) + "h " + two(n%3600/60) + "m"
	}
	return strconv.FormatInt(n/86400, 10) + "d " + two(n%86400/3600) + "h"
}

// Percent renders a fraction (0.088) as a percentage with at most one
// decimal: "8.8 %", "80 %"; "? %" when it is not a number.
func Percent(f float64) string {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return "? %"
	}
	return tenthsText(tenths(f*100)) + " %"
}

// Share renders "used of limit (percent)", "1.4 GiB of 16 GiB (8.8 %)", or
// used alone when the limit is unknown (0).
func Share(used, limit uint64) string {
	if limit == 0 {
		return Bytes(used)
	}
	return Bytes(used) + " of " + Bytes(limit) + " (" + Percent(float64(used)/float64(limit)) + ")"
}

// maxTenths bounds tenths, exact as an integer in both languages.
const maxTenths = 1 << 53

// tenths is v in tenths, rounded half up: floor(v*10 + 0.5).
func tenths(v float64) int64 {
	return int64(math.Floor(max(min(v*10+0.5, maxTenths), -maxTenths)))
}

// tenthsText writes a count of tenths as "23.5", or "16" for a whole number.
func tenthsText(t int64) string {
	neg := ""
	if t < 0 {
		neg, t = "-", -t
	}
	whole := strconv.FormatInt(t/10, 10)
	if t%10 == 0 {
		return neg + whole
	}
	return neg + whole + "." + strconv.FormatInt(t%10, 10)
}

func two(n int64) string {
	if n < 10 {
		return "0" + strconv.FormatInt(n, 10)
	}
	return strconv.FormatInt(n, 10)
}
