package advisor

import (
	"strings"
	"unicode"
)

// style is the output form a finding's sentences are written in: markdown
// escapes what it quotes, plain text quotes it as is.
type style struct{ markdown bool }

var (
	markdownStyle = style{markdown: true}
	textStyle     = style{}
)

// code quotes user-supplied text (a cell's first line, a path, a metric
// name) as inline code, shortened and with control characters blanked.
func (s style) code(x string) string {
	x = shorten(strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return ' '
		}
		return r
	}, x))
	if !s.markdown {
		return "`" + x + "`"
	}
	// A code span's fence must be longer than any backtick run inside it,
	// and padded when the text starts or ends with a backtick.
	longest, run := 0, 0
	for _, r := range x {
		if r == '`' {
			run++
			longest = max(longest, run)
		} else {
			run = 0
		}
	}
	fence := strings.Repeat("`", longest+1)
	if strings.HasPrefix(x, "`") || strings.HasSuffix(x, "`") || x == "" {
		x = " " + x + " "
	}
	return fence + x + fence
}

// strong emphasises text we wrote ourselves (never user text).
func (s style) strong(x string) string {
	if s.markdown {
		return "**" + x + "**"
	}
	return x
}

// cell names the cell by its first line, or "this cell" when unknown.
func (s style) cell(firstLine string) string {
	if strings.TrimSpace(firstLine) == "" {
		return "this cell"
	}
	return "cell " + s.code(firstLine)
}

// render lays a finding out as advice: a heading line, what was measured,
// why it matters, what to do, and an optional details section.
func render(r *rule, f finding, v vendor) Advice {
	why := r.why
	if f.why != "" {
		why = f.why
	}
	todo := r.todo
	if f.todo != nil {
		todo = f.todo
	}
	next := todo(v)
	return Advice{
		Rule:       r.id,
		Checkpoint: r.checkpoint,
		Title:      f.title,
		Markdown:   renderMarkdown(f, why, next),
		Text:       renderText(f, why, next),
		Evidence:   f.evidence,
	}
}

func renderMarkdown(f finding, why, next string) string {
	s := markdownStyle
	var b strings.Builder
	b.WriteString("**cloudline: " + f.title + "**\n\n")
	b.WriteString(f.measured(s) + "\n\n")
	b.WriteString(why + "\n\n")
	b.WriteString(s.strong("Next:") + " " + next + "\n")
	if f.details != nil {
		if lines := f.details(s); len(lines) > 0 {
			b.WriteString("\n<details><summary>Details</summary>\n\n")
			for _, l := range lines {
				b.WriteString("- " + l + "\n")
			}
			b.WriteString("\n</details>\n")
		}
	}
	return b.String()
}

func renderText(f finding, why, next string) string {
	s := textStyle
	var b strings.Builder
	b.WriteString("cloudline: " + f.title + "\n")
	b.WriteString(f.measured(s) + "\n")
	b.WriteString(why + "\n")
	b.WriteString("Next: " + next + "\n")
	if f.details != nil {
		for _, l := range f.details(s) {
			b.WriteString("  - " + l + "\n")
		}
	}
	return b.String()
}
