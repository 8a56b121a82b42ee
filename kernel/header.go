package kernel

import (
	"bytes"
	"encoding/json"
	"time"
	"unicode/utf8"
)

// header holds the header fields the proxy routes on.
type header struct {
	MsgID   string `json:"msg_id"`
	MsgType string `json:"msg_type"`
	Session string `json:"session"`
}

// parseHeader reads the routing fields of a header (or parent header).
// It runs for every message, so instead of a reflective json.Unmarshal it
// validates the object and picks the three string fields out of it;
// unparseable headers leave the fields empty. Keys match exactly and the
// last of duplicate keys wins, as with Python's json module, which
// ipykernel and jupyter_client use (Go's json.Unmarshal into a struct
// would also match "MSG_ID").
func parseHeader(obj []byte) (header, bool) {
	var h header
	if len(obj) < 2 || !json.Valid(obj) {
		return h, false
	}
	if obj[0] == '{' && bytes.IndexAny(obj[1:], "{[\\") < 0 && utf8.Valid(obj) {
		// A flat object without escapes (Jupyter headers are): every
		// quote delimits a string, so the fast path cannot misread.
		h.MsgID = stringField(obj, `"msg_id"`)
		h.MsgType = stringField(obj, `"msg_type"`)
		h.Session = stringField(obj, `"session"`)
		return h, true
	}
	var m map[string]json.RawMessage
	if json.Unmarshal(obj, &m) != nil {
		return h, true // valid JSON, not an object
	}
	str := func(raw json.RawMessage) string {
		var s string
		_ = json.Unmarshal(raw, &s)
		return s
	}
	h.MsgID, h.MsgType, h.Session = str(m["msg_id"]), str(m["msg_type"]), str(m["session"])
	return h, true
}

// stringField returns the string value of a top-level key (quoted) of a
// valid, flat JSON object, or "". In such an object an unescaped key
// followed by a colon is a key, never text inside a value; the last one
// wins.
func stringField(obj []byte, key string) string {
	var found []byte // what follows the last key and its colon
	for off := 0; ; {
		i := bytes.Index(obj[off:], []byte(key))
		if i < 0 {
			break
		}
		rest := bytes.TrimLeft(obj[off+i+len(key):], " \t\r\n")
		off += i + len(key)
		if len(rest) == 0 || rest[0] != ':' {
			continue // the key's text as a value
		}
		found = bytes.TrimLeft(rest[1:], " \t\r\n")
	}
	rest := found
	if len(rest) == 0 || rest[0] != '"' {
		return ""
	}
	end := bytes.IndexByte(rest[1:], '"')
	if end < 0 {
		return ""
	}
	raw := rest[1 : 1+end]
	if bytes.IndexByte(raw, '\\') < 0 {
		return string(raw)
	}
	// Escapes: let the JSON decoder handle the (rare) general case.
	var s string
	if json.NewDecoder(bytes.NewReader(rest)).Decode(&s) == nil {
		return s
	}
	return ""
}

// decode builds the observer's view of a parsed message. Unparseable
// headers leave the decoded fields empty: the bytes are forwarded anyway.
func decode(f *Frames, ch Channel, dir Direction, now time.Time) *Message {
	m := &Message{
		Time:         now,
		Channel:      ch,
		Direction:    dir,
		Header:       f.Header,
		ParentHeader: f.ParentHeader,
		Metadata:     f.Metadata,
		Content:      f.Content,
		Buffers:      f.Buffers,
	}
	if h, ok := parseHeader(f.Header); ok {
		m.MsgID, m.MsgType, m.Session = h.MsgID, h.MsgType, h.Session
	}
	if len(f.ParentHeader) > 2 { // "{}" has no parent
		if p, ok := parseHeader(f.ParentHeader); ok {
			m.ParentMsgID, m.ParentMsgType = p.MsgID, p.MsgType
		}
	}
	return m
}

// isIdle reports whether an iopub status message says the kernel went idle.
// It looks at the bytes rather than decoding the content: it runs for every
// status message on the forwarding path.
func isIdle(content []byte) bool {
	return bytes.Contains(content, []byte(`"idle"`))
}

// digestHistory remembers recent signatures so a replayed message can be
// dropped, as jupyter_client's Session does. It is not safe for concurrent
// use; each receiving loop owns one.
type digestHistory struct {
	seen map[string]struct{}
	ring []string
	next int
}

const digestHistorySize = 1 << 16

// add records sig and reports whether it was new.
func (d *digestHistory) add(sig []byte) bool {
	if len(sig) == 0 {
		return true // unsigned connections have no signatures to replay
	}
	if d.seen == nil {
		d.seen = make(map[string]struct{}, 1024)
		d.ring = make([]string, digestHistorySize)
	}
	if _, dup := d.seen[string(sig)]; dup {
		return false
	}
	s := string(sig)
	if old := d.ring[d.next]; old != "" {
		delete(d.seen, old)
	}
	d.ring[d.next] = s
	d.next = (d.next + 1) % len(d.ring)
	d.seen[s] = struct{}{}
	return true
}
