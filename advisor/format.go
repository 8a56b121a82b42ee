package advisor

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// FormatBytes renders n in IEC units with at most one decimal, trailing
// ".0" dropped: "512 B", "1.4 GiB", "16 GiB".
func FormatBytes(n uint64) string {
	const unit = 1024
	if n < unit {
		return strconv.FormatUint(n, 10) + " B"
	}
	units := []string{"KiB", "MiB", "GiB", "TiB", "PiB", "EiB"}
	v := float64(n)
	i := -1
	for v >= unit && i < len(units)-1 {
		v /= unit
		i++
	}
	return trimZero(strconv.FormatFloat(v, 'f', 1, 64)) + " " + units[i]
}

// FormatDuration renders d the way a person reads a run time: "0.4s",
// "42s", "12m 05s", "1h 05m", "2d 03h". Each form rounds down to its
// smaller unit; negative durations render as "0s".
func FormatDuration(d time.Duration) string {
	if d < 0 {
		d = 0
	}
	switch {
	case d < time.Second && d > 0:
		return trimZero(strconv.FormatFloat(d.Seconds(), 'f', 1, 64)) + "s"
	case d < time.Minute:
		return fmt.Sprintf("%ds", int64(d/time.Second))
	case d < time.Hour:
		return fmt.Sprintf("%dm %02ds", int64(d/time.Minute), int64(d%time.Minute/time.Second))
	case d < 24*time.Hour:
		return fmt.Sprintf("%dh %02dm", int64(d/time.Hour), int64(d%time.Hour/time.Minute))
	default:
		return fmt.Sprintf("%dd %02dh", int64(d/(24*time.Hour)), int64(d%(24*time.Hour)/time.Hour))
	}
}

// FormatPercent renders a fraction (0.088) as a percentage with at most one
// decimal: "8.8 %", "80 %".
func FormatPercent(f float64) string {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return "? %"
	}
	return trimZero(strconv.FormatFloat(f*100, 'f', 1, 64)) + " %"
}

// formatShare renders "used of limit (percent)", e.g. "1.4 GiB of 16 GiB (8.8 %)".
func formatShare(used, limit uint64) string {
	if limit == 0 {
		return FormatBytes(used)
	}
	return fmt.Sprintf("%s of %s (%s)", FormatBytes(used), FormatBytes(limit),
		FormatPercent(float64(used)/float64(limit)))
}

func trimZero(s string) string {
	return strings.TrimSuffix(s, ".0")
}

// maxLineRunes bounds how much of a cell's first line or a path advice quotes.
const maxLineRunes = 72

// shorten cuts s to at most maxLineRunes runes, marking the cut with "…".
func shorten(s string) string {
	s = strings.TrimSpace(s)
	r := []rune(s)
	if len(r) <= maxLineRunes {
		return s
	}
	return string(r[:maxLineRunes-1]) + "…"
}
