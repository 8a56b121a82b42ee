package advisor

import (
	"math"
	"strings"
	"testing"
	"time"
)

func TestFormatBytes(t *testing.T) {
	tests := []struct {
		in   uint64
		want string
	}{
		{0, "0 B"},
		{1023, "1023 B"},
		{1024, "1 KiB"},
		{1536, "1.5 KiB"},
		{64 << 20, "64 MiB"},
		{1503238553, "1.4 GiB"},
		{16 << 30, "16 GiB"},
		{13743895347, "12.8 GiB"},
		{3 << 40, "3 TiB"},
		{math.MaxUint64, "16 EiB"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			if got := FormatBytes(tt.in); got != tt.want {
				t.Errorf("FormatBytes(%d) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestFormatDuration(t *testing.T) {
	tests := []struct {
		in   time.Duration
		want string
	}{
		{-time.Second, "0s"},
		{0, "0s"},
		{400 * time.Millisecond, "0.4s"},
		{time.Second, "1s"},
		{59*time.Second + 900*time.Millisecond, "59s"},
		{12*time.Minute + 5*time.Second, "12m 05s"},
		{time.Hour, "1h 00m"},
		{65*time.Minute + 59*time.Second, "1h 05m"},
		{23*time.Hour + 59*time.Minute, "23h 59m"},
		{51 * time.Hour, "2d 03h"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			if got := FormatDuration(tt.in); got != tt.want {
				t.Errorf("FormatDuration(%v) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestFormatPercent(t *testing.T) {
	tests := []struct {
		in   float64
		want string
	}{
		{0.088, "8.8 %"},
		{0.8, "80 %"},
		{1, "100 %"},
		{0.0004, "0 %"},
		{math.NaN(), "? %"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			if got := FormatPercent(tt.in); got != tt.want {
				t.Errorf("FormatPercent(%v) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestFormatShare(t *testing.T) {
	if got, want := formatShare(1503238553, 16<<30), "1.4 GiB of 16 GiB (8.7 %)"; got != want {
		t.Errorf("formatShare = %q, want %q", got, want)
	}
	if got, want := formatShare(2<<30, 0), "2 GiB"; got != want {
		t.Errorf("formatShare without limit = %q, want %q", got, want)
	}
}

func TestStyleCode(t *testing.T) {
	tests := []struct {
		name, in, md, text string
	}{
		{"plain", "df = load()", "`df = load()`", "`df = load()`"},
		{"backtick inside", "x = `a`", "`` x = `a` ``", "`x = `a``"},
		{"double backticks", "a``b", "```a``b```", "`a``b`"},
		{"control chars", "a\tb\rc", "`a b c`", "`a b c`"},
		{"long", strings.Repeat("x", 100), "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			md, text := markdownStyle.code(tt.in), textStyle.code(tt.in)
			if tt.name == "long" {
				if n := len([]rune(text)); n != maxLineRunes+2 {
					t.Errorf("long text quoted to %d runes, want %d", n, maxLineRunes+2)
				}
				return
			}
			if md != tt.md || text != tt.text {
				t.Errorf("code(%q) = %q / %q, want %q / %q", tt.in, md, text, tt.md, tt.text)
			}
		})
	}
}
