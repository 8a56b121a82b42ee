package advisor

// Advice is one rendered piece of advice for a cell.
type Advice struct {
	Rule       string         // rule id, e.g. "long-training"
	Checkpoint string         // "compliance", "storage", "compute", "stability"
	Title      string         // heading line, plain text
	Markdown   string         // full text/markdown body
	Text       string         // text/plain body
	Evidence   map[string]any // the numbers behind it, for metadata.cloudline.evidence
}
