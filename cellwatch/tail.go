package cellwatch

import (
	"bytes"
	"encoding/json"
)

// streamText returns the text of a stream message's content, or for a
// large one only its last maxTail bytes (cut at a line start): progress and
// metric lines are read from the tail, and decoding a 20 MB output in full
// would hold the cell's idle for the time it takes.
func streamText(content []byte) (string, bool) {
	if len(content) <= 2*maxTail {
		var s struct {
			Text string `json:"text"`
		}
		if json.Unmarshal(content, &s) != nil {
			return "", false
		}
		return s.Text, true
	}
	raw, ok := rawStringField(content, "text")
	if !ok {
		return "", false
	}
	if len(raw) > maxTail {
		raw = raw[len(raw)-maxTail:]
		// Start after an escaped newline, so no escape sequence is cut.
		if i := escapedNewline(raw); i >= 0 {
			raw = raw[i+2:]
		} else {
			return "", false
		}
	}
	var text string
	quoted := make([]byte, 0, len(raw)+2)
	quoted = append(append(append(quoted, '"'), raw...), '"')
	if json.Unmarshal(quoted, &text) != nil {
		return "", false
	}
	return text, true
}

// streamName is a stream message's name ("stdout", "stderr"), read
// without decoding the text.
func streamName(content []byte) string {
	raw, ok := rawStringField(content, "name")
	if !ok || len(raw) > 16 {
		return ""
	}
	return string(raw)
}

// rawStringField finds the raw (still escaped) value of a string field of a
// JSON object without decoding the object.
func rawStringField(obj []byte, name string) ([]byte, bool) {
	key := []byte(`"` + name + `"`)
	i := bytes.Index(obj, key)
	if i < 0 {
		return nil, false
	}
	rest := bytes.TrimLeft(obj[i+len(key):], " \t\r\n")
	if len(rest) == 0 || rest[0] != ':' {
		return nil, false
	}
	rest = bytes.TrimLeft(rest[1:], " \t\r\n")
	if len(rest) == 0 || rest[0] != '"' {
		return nil, false
	}
	rest = rest[1:]
	for off := 0; ; {
		j := bytes.IndexByte(rest[off:], '"')
		if j < 0 {
			return nil, false
		}
		end := off + j
		if backslashesBefore(rest, end)%2 == 0 {
			return rest[:end], true
		}
		off = end + 1
	}
}

// escapedNewline returns the index of the first `\n` escape in raw (a
// backslash not itself escaped, followed by n), or -1.
func escapedNewline(raw []byte) int {
	for off := 0; ; {
		j := bytes.Index(raw[off:], []byte(`\n`))
		if j < 0 {
			return -1
		}
		at := off + j
		if backslashesBefore(raw, at+1)%2 == 1 {
			return at
		}
		off = at + 1
	}
}

// backslashesBefore counts the backslashes immediately before b[i].
func backslashesBefore(b []byte, i int) int {
	n := 0
	for i > 0 && b[i-1] == '\\' {
		n++
		i--
	}
	return n
}
