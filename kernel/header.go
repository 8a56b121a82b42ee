package kernel

import (
	"bytes"
	"encoding/json"
	"strings"
	"time"
)

// header holds the header fields the proxy routes on.
type header struct {
	MsgID   string `json:"msg_id"`
	MsgType string `json:"msg_type"`
	Session string `json:"session"`
}

// parseHeader reads the routing fields of a header (or parent header).
// It runs for every message, so instead of a reflective json.Unmarshal it
// first tries scanFlatObject, one pass that validates and extracts;
// anything that pass does not handle goes through json.Valid and a map
// decode. Unparseable headers leave the fields empty and report false;
// valid JSON that is not an object reports true with empty fields. Keys
// match exactly and the last of duplicate keys wins, as with Python's json
// module, which ipykernel and jupyter_client use (Go's json.Unmarshal into
// a struct would also match "MSG_ID").
func parseHeader(obj []byte) (header, bool) {
	if h, ok := scanFlatObject(obj); ok {
		return h, true
	}
	var h header
	if len(obj) < 2 || !json.Valid(obj) {
		return h, false
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

// scanFlatObject is parseHeader's fast path. It accepts only a JSON object,
// optionally surrounded by whitespace, whose values are strings, numbers,
// true, false or null, and whose keys and string values hold only ASCII
// bytes 0x20 to 0x7f and no escapes (ipykernel's headers do). For such
// input it returns the header fields and true; for anything else, valid
// JSON or not, it returns false and the caller decides.
func scanFlatObject(obj []byte) (header, bool) {
	var f fieldValues
	s := flatScanner{b: obj}
	s.skipSpace()
	if !s.consume('{') || !s.members(&f) || !s.consume('}') {
		return header{}, false
	}
	s.skipSpace()
	if s.i != len(s.b) {
		return header{}, false // trailing bytes
	}
	return copyHeader(f.id, f.typ, f.session), true
}

// fieldValues holds the values of the last "msg_id", "msg_type" and
// "session" members seen, as the bytes between their quotes; nil when
// absent or not a string.
type fieldValues struct {
	id, typ, session []byte
}

// copyHeader copies the three field values into one string, one allocation
// rather than three, and slices the fields out of it.
func copyHeader(id, typ, session []byte) header {
	var b strings.Builder
	b.Grow(len(id) + len(typ) + len(session))
	b.Write(id)
	b.Write(typ)
	b.Write(session)
	all := b.String()
	typEnd := len(id) + len(typ)
	return header{MsgID: all[:len(id)], MsgType: all[len(id):typEnd], Session: all[typEnd:]}
}

// flatScanner walks the bytes of a candidate flat object for
// scanFlatObject. Every method checks bounds and reports whether it
// recognised what it was asked for; i only moves past what was accepted.
type flatScanner struct {
	b []byte
	i int // index of the next unread byte
}

// members accepts what is between an object's braces: whitespace, and
// members separated by commas, with whitespace around the commas. It
// records the header fields' values in f. It stops before the first byte
// that cannot continue the list, which should be the closing brace.
func (s *flatScanner) members(f *fieldValues) bool {
	s.skipSpace()
	if s.i < len(s.b) && s.b[s.i] == '}' {
		return true // empty object
	}
	for {
		if !s.member(f) {
			return false
		}
		s.skipSpace()
		if !s.consume(',') {
			return true
		}
		s.skipSpace()
	}
}

// member accepts one member, a key as str accepts it, a colon with
// optional whitespace around it, and a value as value accepts it, and
// records the value in f if the key is a header field's (exact match).
func (s *flatScanner) member(f *fieldValues) bool {
	key, ok := s.str()
	if !ok {
		return false
	}
	s.skipSpace()
	if !s.consume(':') {
		return false
	}
	s.skipSpace()
	val, ok := s.value()
	if !ok {
		return false
	}
	switch string(key) { // compared in place, no allocation
	case "msg_id":
		f.id = val
	case "msg_type":
		f.typ = val
	case "session":
		f.session = val
	}
	return true
}

// skipSpace moves past the whitespace JSON allows between tokens: space,
// tab, carriage return and line feed.
func (s *flatScanner) skipSpace() {
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case ' ', '\t', '\r', '\n':
			s.i++
		default:
			return
		}
	}
}

// consume moves past c if it is the next byte, and says whether it was.
func (s *flatScanner) consume(c byte) bool {
	if s.i < len(s.b) && s.b[s.i] == c {
		s.i++
		return true
	}
	return false
}

// str accepts a string of bytes 0x20 through 0x7f other than backslash,
// between double quotes, and returns the bytes between the quotes (not
// copied). Escapes, other bytes and an unterminated string are refused.
func (s *flatScanner) str() ([]byte, bool) {
	if !s.consume('"') {
		return nil, false
	}
	rest := s.b[s.i:]
	for n, c := range rest {
		if c == '"' {
			s.i += n + 1
			return rest[:n], true
		}
		if c < 0x20 || c >= 0x80 || c == '\\' {
			return nil, false
		}
	}
	return nil, false
}

// value accepts an object member's value when it is a string as str
// accepts it, a number, true, false or null. For a string it returns the
// bytes between the quotes; for the others, nil.
func (s *flatScanner) value() ([]byte, bool) {
	if s.i >= len(s.b) {
		return nil, false
	}
	switch c := s.b[s.i]; {
	case c == '"':
		return s.str()
	case c == '-' || isDigit(c):
		return nil, s.number()
	case c == 't':
		return nil, s.literal("true")
	case c == 'f':
		return nil, s.literal("false")
	case c == 'n':
		return nil, s.literal("null")
	}
	return nil, false
}

// literal moves past word if the input continues with it.
func (s *flatScanner) literal(word string) bool {
	if !bytes.HasPrefix(s.b[s.i:], []byte(word)) {
		return false
	}
	s.i += len(word)
	return true
}

// number accepts a number as JSON's grammar has it: an optional minus, an
// integer part that is 0 or does not start with 0, an optional fraction
// of one or more digits and an optional exponent of one or more digits
// with an optional sign. It does not look at what follows: "01" is
// accepted as 0 followed by 1, which the caller then refuses.
func (s *flatScanner) number() bool {
	s.consume('-')
	if !s.consume('0') && !s.digits() { // a leading 0 stands alone
		return false
	}
	if s.consume('.') && !s.digits() {
		return false
	}
	if s.consume('e') || s.consume('E') {
		if !s.consume('+') {
			s.consume('-')
		}
		if !s.digits() {
			return false
		}
	}
	return true
}

// digits moves past one or more decimal digits, and says whether there
// was at least one.
func (s *flatScanner) digits() bool {
	start := s.i
	for s.i < len(s.b) && isDigit(s.b[s.i]) {
		s.i++
	}
	return s.i > start
}

// isDigit reports whether c is an ASCII decimal digit.
func isDigit(c byte) bool { return '0' <= c && c <= '9' }

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
