package advisor

import (
	"strings"

	"github.com/cloudline/cloudline/cellwatch"
)

// The merged note: everything cloudline says about one cell, in one
// display. Its bundle carries three forms; a frontend shows the first it
// can render.
const (
	// NoteMIME is the note's JSON form (NoteJSON), for a frontend
	// extension that renders it natively.
	NoteMIME = "application/vnd.cloudline.note+json"
	// NoteVersion is NoteJSON.V: it changes only when a field changes
	// meaning or goes away (new fields may appear within a version).
	NoteVersion = 1
)

// NoteJSON is the note's application/vnd.cloudline.note+json form.
type NoteJSON struct {
	V        int           `json:"v"`
	Cell     NoteCell      `json:"cell"`
	Findings []NoteFinding `json:"findings"`
	Status   *NoteStatus   `json:"status"` // null when the note has no status line
}

// NoteCell names the cell the note is about.
type NoteCell struct {
	ExecutionCount int    `json:"execution_count,omitempty"` // the "[12]"; absent when unknown
	Line           string `json:"line"`                      // its first line that is not an import or comment
}

// NoteFinding is one finding of the note.
type NoteFinding struct {
	Rule       string         `json:"rule"`
	Checkpoint string         `json:"checkpoint"`
	Headline   string         `json:"headline"` // plain text, one line
	Details    string         `json:"details"`  // markdown: measured, why, next step, how to silence
	Service    string         `json:"service"`  // the vendor's service for the job
	DocsURL    string         `json:"docs_url"` // "" for vendor-neutral wording
	Silence    string         `json:"silence"`  // "rules_off=<id>"
	Evidence   map[string]any `json:"evidence"`
}

// NoteStatus is the note's last line: live while the cell runs, its
// closing summary once it ended.
type NoteStatus struct {
	State    string  `json:"state"` // "running", or how the cell ended: "ok", "error", ...
	Text     string  `json:"text"`  // the plain-text line
	ElapsedS float64 `json:"elapsed_s"`
}

// statusView is a rendered status line.
type statusView struct {
	md, text string
	json     NoteStatus
}

// composeNote renders the note's bundle and metadata: the display's
// data and metadata.
func composeNote(rec cellwatch.Record, findings []Advice, st *statusView) (data, meta map[string]any) {
	doc := NoteJSON{V: NoteVersion, Cell: NoteCell{ExecutionCount: rec.ExecutionCount, Line: CellLine(rec)},
		Findings: []NoteFinding{}}
	rules := make([]string, 0, len(findings))
	metaFindings := make([]map[string]any, 0, len(findings))
	for _, a := range findings {
		doc.Findings = append(doc.Findings, NoteFinding{Rule: a.Rule, Checkpoint: a.Checkpoint, Headline: a.Title,
			Details: a.DetailsMarkdown, Service: a.Service, DocsURL: a.DocsURL, Silence: a.Silence, Evidence: a.Evidence})
		rules = append(rules, a.Rule)
		metaFindings = append(metaFindings, map[string]any{"rule": a.Rule, "checkpoint": a.Checkpoint, "evidence": a.Evidence})
	}
	cl := map[string]any{"rules": rules, "findings": metaFindings}
	if st != nil {
		s := st.json
		doc.Status = &s
		cl["status"] = "final"
		if s.State == string(cellwatch.StatusRunning) {
			cl["status"] = "live"
		}
	}
	data = map[string]any{
		NoteMIME:        doc,
		"text/markdown": noteMarkdown(rec, findings, st),
		"text/plain":    noteText(rec, findings, st),
	}
	return data, map[string]any{"cloudline": cl}
}

// noteMarkdown: a header naming the cell, one headline per finding with
// the service to use, one folded details section, the status line last.
func noteMarkdown(rec cellwatch.Record, findings []Advice, st *statusView) string {
	s := markdownStyle
	var b strings.Builder
	b.WriteString("**cloudline** · " + noteCellName(s, rec))
	if len(findings) == 0 {
		if st != nil {
			b.WriteString(" · " + st.md)
		}
		return b.String() + "\n"
	}
	b.WriteString("\n\n")
	for _, a := range findings {
		b.WriteString("- **" + escapeMarkdown(a.Title) + "** → " + s.link(a.Service, a.DocsURL) + "\n")
	}
	b.WriteString("\n<details><summary>Details</summary>\n\n")
	said := map[string]bool{}
	for _, a := range findings {
		b.WriteString(s.code(a.Rule) + " · " + a.parts.render(s, !said[a.Checkpoint]) + "\n")
		said[a.Checkpoint] = true
	}
	b.WriteString("</details>\n")
	if st != nil {
		b.WriteString("\n" + st.md + "\n")
	}
	return b.String()
}

// noteText is noteMarkdown's plain-text form: headlines, status, then the
// details of each finding.
func noteText(rec cellwatch.Record, findings []Advice, st *statusView) string {
	s := textStyle
	var b strings.Builder
	b.WriteString("cloudline · " + noteCellName(s, rec))
	if len(findings) == 0 {
		if st != nil {
			b.WriteString(" · " + st.text)
		}
		return b.String() + "\n"
	}
	b.WriteString("\n")
	for _, a := range findings {
		b.WriteString("- " + a.Title + " → " + a.Service + "\n")
	}
	if st != nil {
		b.WriteString(st.text + "\n")
	}
	said := map[string]bool{}
	for _, a := range findings {
		d := a.parts.render(s, !said[a.Checkpoint])
		said[a.Checkpoint] = true
		b.WriteString("\n" + a.Rule + ": " + strings.ReplaceAll(strings.TrimRight(d, "\n"), "\n", "\n  ") + "\n")
	}
	return b.String()
}

// noteCellName is the header's name of the cell: "[12] `fit(X, y)`".
func noteCellName(s style, rec cellwatch.Record) string {
	label, line := cellLabel(rec), CellLine(rec)
	switch {
	case line == "" && label == "":
		return "this cell"
	case line == "":
		return label
	case label == "":
		return s.code(line)
	}
	return label + " " + s.code(line)
}

// escapeMarkdown escapes what markdown (and JupyterLab's math) would
// interpret in text that may quote user input.
func escapeMarkdown(x string) string {
	var b strings.Builder
	for _, r := range x {
		if strings.ContainsRune("\\`*_[]<>|~$#", r) {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}
