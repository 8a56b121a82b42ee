package advisor

import (
	"strings"
	"unicode"

	"github.com/cloudline/cloudline/cellwatch"
)

// style is the output form a finding's sentences are written in: markdown
// escapes what it quotes, plain text quotes it as is.
type style struct{ markdown bool }

var (
	markdownStyle = style{markdown: true}
	textStyle     = style{}
)

// code quotes user-supplied text (a cell's line, a path, a metric name) as
// inline code, shortened and with control characters blanked.
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

// link renders text linked to url (plain text puts the URL in brackets).
func (s style) link(text, url string) string {
	switch {
	case url == "":
		return text
	case s.markdown:
		return "[" + text + "](" + url + ")"
	}
	return text + ": " + url
}

// cell names the cell as JupyterLab shows it: "cell [12] `fit(X, y)`".
func (s style) cell(rec cellwatch.Record) string {
	label := cellLabel(rec)
	line := CellLine(rec)
	switch {
	case label == "" && line == "":
		return "this cell"
	case line == "":
		return "cell " + label
	case label == "":
		return "cell " + s.code(line)
	}
	return "cell " + label + " " + s.code(line)
}

// render lays a finding out as advice: its headline, and details saying
// what was measured, why it matters, what to do and how to silence it.
func render(r *rule, f finding, v vendor, in Input) Advice {
	why := r.why
	if f.why != "" {
		why = f.why
	}
	todo := r.todo
	if f.todo != nil {
		todo = f.todo
	}
	next := todo(v)
	name, url := v.service(r.service)
	a := Advice{
		Rule:       r.id,
		Checkpoint: r.checkpoint,
		Title:      f.title,
		Service:    name,
		DocsURL:    url,
		Silence:    "rules_off=" + r.id,
		Subjects:   f.subjects,
		Evidence:   f.evidence,
	}
	a.parts = detailParts{why: why, url: url}
	lowered := loweredNote(in.Config, r.keys)
	for i, s := range []style{markdownStyle, textStyle} {
		measured := f.measured(s)
		if f.extra != nil {
			if x := f.extra(s); x != "" {
				measured += " " + x
			}
		}
		if lowered != "" {
			measured += " " + lowered
		}
		a.parts.measured[i] = measured
		a.parts.next[i] = s.strong("Next:") + " " + next
		a.parts.silence[i] = "Silence with " + s.code(a.Silence) + "."
		if f.details != nil {
			a.parts.bullets[i] = f.details(s)
		}
	}
	a.DetailsMarkdown = a.parts.render(markdownStyle, true)
	a.DetailsText = a.parts.render(textStyle, true)
	a.Markdown = "**cloudline: " + a.Title + "**\n\n" + a.DetailsMarkdown
	a.Text = "cloudline: " + a.Title + "\n" + a.DetailsText
	return a
}

// render lays the details out: in markdown one paragraph each for the
// measurement, the reason (when why is set: a note says each checkpoint's
// reason once) and the next step, then the list; in plain text one line
// each, the documentation's address after the next step, the list
// indented.
func (p detailParts) render(s style, why bool) string {
	i, sep, bullet := 1, "\n", "  - "
	if s.markdown {
		i, sep, bullet = 0, "\n\n", "- "
	}
	var b strings.Builder
	b.WriteString(p.measured[i] + sep)
	if why {
		b.WriteString(p.why + sep)
	}
	if s.markdown {
		b.WriteString(p.next[i] + " " + p.silence[i] + "\n")
	} else {
		b.WriteString(p.next[i] + "\n")
		if p.url != "" {
			b.WriteString("Docs: " + p.url + "\n")
		}
		b.WriteString(p.silence[i] + "\n")
	}
	if len(p.bullets[i]) > 0 {
		if s.markdown {
			b.WriteString("\n")
		}
		for _, l := range p.bullets[i] {
			b.WriteString(bullet + l + "\n")
		}
	}
	return b.String()
}
