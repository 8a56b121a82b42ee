package advisor

// Advice is one rendered finding for a cell. A cell's findings are shown
// together in one note (see Note and ComposeNote); Markdown and Text are
// the finding on its own, as the per-rule golden files show it.
type Advice struct {
	Rule       string // rule id, e.g. "long-training"
	Checkpoint string // "compliance", "storage", "compute", "stability"
	// Title is the one-line headline: what was measured against which
	// limit (plain text).
	Title   string
	Service string // the configured vendor's service for the job
	DocsURL string // its documentation; "" for vendor-neutral wording
	Silence string // the setting that silences the rule: "rules_off=<id>"

	// DetailsMarkdown and DetailsText are the finding's part of the note's
	// folded details: what was measured, why it matters, what to do, how
	// to silence it, and an optional list.
	DetailsMarkdown string
	DetailsText     string

	Markdown string // text/markdown of the finding alone
	Text     string // text/plain of the finding alone

	// Subjects are what the finding is about ("path:/data/x.csv",
	// "port:8000", "kernelspec", "disk"): within a kernel session a
	// finding whose subjects were all told already is not told again
	// (Cooldown.Admit). Empty for findings about the cell itself.
	Subjects []string
	Evidence map[string]any // the numbers behind it, for metadata.cloudline

	parts detailParts // what the details are made of, for the merged note
}

// detailParts are a finding's rendered sentences, markdown and plain text.
type detailParts struct {
	measured, next, silence [2]string // markdown, text
	bullets                 [2][]string
	why, url                string
}
