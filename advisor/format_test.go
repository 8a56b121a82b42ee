package advisor

import (
	"strings"
	"testing"
)

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
