package advisor

import (
	"strings"
	"time"

	"github.com/cloudline/cloudline/human"
)

// FormatBytes renders n in IEC units with at most one decimal, trailing
// ".0" dropped: "512 B", "1.4 GiB", "16 GiB". It is human.Bytes: every view
// of cloudline writes a figure the same way.
func FormatBytes(n uint64) string { return human.Bytes(n) }

// FormatDuration renders d the way a person reads a run time: "0.4s",
// "42s", "12m 05s", "1h 05m", "2d 03h" (human.Duration).
func FormatDuration(d time.Duration) string { return human.Duration(d) }

// FormatPercent renders a fraction (0.088) as a percentage with at most one
// decimal: "8.8 %", "80 %" (human.Percent).
func FormatPercent(f float64) string { return human.Percent(f) }

// formatShare renders "used of limit (percent)", e.g. "1.4 GiB of 16 GiB (8.7 %)".
func formatShare(used, limit uint64) string { return human.Share(used, limit) }

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
