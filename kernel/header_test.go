package kernel

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"
	"unicode/utf8"
)

func TestDecode(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	tests := []struct {
		name                       string
		header, parent             string
		msgID, msgType, session    string
		parentMsgID, parentMsgType string
	}{
		{
			name:   "request without parent",
			header: `{"msg_id":"m1","msg_type":"execute_request","session":"s1","username":"u","date":"","version":"5.3"}`,
			parent: `{}`, msgID: "m1", msgType: "execute_request", session: "s1",
		},
		{
			name:   "reply with parent",
			header: `{"msg_id":"m2","msg_type":"status","session":"k"}`,
			parent: `{"msg_id":"m1","msg_type":"execute_request","session":"s1"}`,
			msgID:  "m2", msgType: "status", session: "k", parentMsgID: "m1", parentMsgType: "execute_request",
		},
		{name: "broken header", header: `{"msg_id":`, parent: `{"msg_id":"p"}`, parentMsgID: "p"},
		{name: "broken parent", header: `{"msg_id":"m"}`, parent: `{"msg_id"`, msgID: "m"},
		{name: "header not an object", header: `[1,2]`, parent: `"x"`},
		{name: "wrong field types", header: `{"msg_id":5,"msg_type":["x"]}`, parent: `{}`},
		{name: "empty frames", header: ``, parent: ``},
		{name: "empty parent with spaces", header: `{}`, parent: `{ }`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := Frames{Header: []byte(tt.header), ParentHeader: []byte(tt.parent), Metadata: []byte(`{"md":1}`),
				Content: []byte(`{"c":1}`), Buffers: [][]byte{[]byte("b")}}
			m := decode(&f, IOPub, FromKernel, now)
			if m.MsgID != tt.msgID || m.MsgType != tt.msgType || m.Session != tt.session {
				t.Errorf("header fields = %q %q %q, want %q %q %q", m.MsgID, m.MsgType, m.Session, tt.msgID, tt.msgType, tt.session)
			}
			if m.ParentMsgID != tt.parentMsgID || m.ParentMsgType != tt.parentMsgType {
				t.Errorf("parent fields = %q %q, want %q %q", m.ParentMsgID, m.ParentMsgType, tt.parentMsgID, tt.parentMsgType)
			}
			if m.Channel != IOPub || m.Direction != FromKernel || !m.Time.Equal(now) {
				t.Errorf("channel %v direction %v time %v", m.Channel, m.Direction, m.Time)
			}
			if string(m.Header) != tt.header || string(m.Content) != `{"c":1}` || string(m.Metadata) != `{"md":1}` || len(m.Buffers) != 1 {
				t.Errorf("raw fields not passed through: %q %q %q %d", m.Header, m.Content, m.Metadata, len(m.Buffers))
			}
		})
	}
}

func TestIsIdle(t *testing.T) {
	tests := []struct {
		content string
		want    bool
	}{
		{`{"execution_state":"idle"}`, true},
		{`{"execution_state": "idle"}`, true},
		{`{"execution_state":"busy"}`, false},
		{`{"execution_state":"starting"}`, false},
		{``, false},
	}
	for _, tt := range tests {
		t.Run(tt.content, func(t *testing.T) {
			if got := isIdle([]byte(tt.content)); got != tt.want {
				t.Errorf("isIdle(%s) = %v", tt.content, got)
			}
		})
	}
}

func TestChannelAndDirectionNames(t *testing.T) {
	tests := []struct {
		got, want string
	}{
		{Shell.String(), "shell"}, {Control.String(), "control"}, {Stdin.String(), "stdin"},
		{IOPub.String(), "iopub"}, {Heartbeat.String(), "hb"}, {Channel(200).String(), "unknown"},
		{FromFrontend.String(), "frontend"}, {FromKernel.String(), "kernel"},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("got %q, want %q", tt.got, tt.want)
		}
	}
}

// parseHeaderCases are parseHeader's edge cases; fast says whether
// scanFlatObject handles the input or leaves it to the general path. They
// also seed FuzzParseHeader.
var parseHeaderCases = []struct {
	name, obj string
	want      header
	ok, fast  bool
}{
	{"ipykernel", benchHeaderIpykernel, header{"4f3c2a1e-7d6b4c5a_1234_17", "execute_request", "0a1b2c3d-4e5f-6789-abcd-ef0123456789"}, true, true},
	{"compact", `{"msg_type":"status","msg_id":"b","session":"s"}`, header{"b", "status", "s"}, true, true},
	{"empty object", `{}`, header{}, true, true},
	{"empty object with spaces", " \t\r\n{ \t\r\n} \t\r\n", header{}, true, true},
	{"whitespace everywhere", " { \"msg_id\" :\t\"a\" ,\r\n\"session\"\n: \"s\" } ", header{MsgID: "a", Session: "s"}, true, true},
	{"empty value", `{"msg_id": ""}`, header{}, true, true},
	{"duplicate, last wins", `{"msg_id": "a", "msg_type": "t", "msg_id": "b"}`, header{MsgID: "b", MsgType: "t"}, true, true},
	{"duplicate, last not a string", `{"msg_id": "a", "msg_id": 1}`, header{}, true, true},
	{"duplicate, last a string", `{"msg_id": null, "msg_id": "a"}`, header{MsgID: "a"}, true, true},
	{"keys are case-sensitive", `{"msg_Id": "00", "MSG_TYPE": "x", "Session": "s"}`, header{}, true, true},
	{"keys match whole", `{"msg_id_x": "a", "msg": "b", "session ": "c"}`, header{}, true, true},
	{"keys inside values", `{"username": "msg_id", "msg_type": "session", "x": "msg_id: y"}`, header{MsgType: "session"}, true, true},
	{"key text as value", `{"username": "msg_id: fake", "msg_id": "real"}`, header{MsgID: "real"}, true, true},
	{"DEL in a string", "{\"msg_id\": \"a\x7fb\"}", header{MsgID: "a\x7fb"}, true, true},
	{"numbers", `{"a": -0, "b": 1e5, "c": -1.5E+10, "d": 0.25e-3, "e": 10, "msg_id": "x"}`, header{MsgID: "x"}, true, true},
	{"literals", `{"a": true, "b": false, "c": null, "msg_id": "x"}`, header{MsgID: "x"}, true, true},
	{"wrong field types", `{"msg_id": 5, "msg_type": true, "session": null}`, header{}, true, true},
	{"number 01", `{"a": 01}`, header{}, false, false},
	{"number -01", `{"a": -01}`, header{}, false, false},
	{"number 1.", `{"a": 1.}`, header{}, false, false},
	{"number .5", `{"a": .5}`, header{}, false, false},
	{"number 1e", `{"a": 1e}`, header{}, false, false},
	{"number 1e+", `{"a": 1e+}`, header{}, false, false},
	{"number +1", `{"a": +1}`, header{}, false, false},
	{"number -", `{"a": -}`, header{}, false, false},
	{"number at end", `{"a": 1`, header{}, false, false},
	{"literal cut short", `{"a": tru}`, header{}, false, false},
	{"literal run on", `{"a": nullx}`, header{}, false, false},
	{"trailing garbage", `{"msg_id": "a"}x`, header{}, false, false},
	{"trailing brace", `{"msg_id": "a"}}`, header{}, false, false},
	{"second object", `{"msg_id": "a"} {}`, header{}, false, false},
	{"trailing comma", `{"msg_id": "a",}`, header{}, false, false},
	{"missing comma", `{"a": 1 "msg_id": "a"}`, header{}, false, false},
	{"missing colon", `{"msg_id" "a"}`, header{}, false, false},
	{"missing value", `{"msg_id": }`, header{}, false, false},
	{"leading comma", `{, "msg_id": "a"}`, header{}, false, false},
	{"key not a string", `{msg_id: "a"}`, header{}, false, false},
	{"unterminated value", `{"msg_id": "a`, header{}, false, false},
	{"unterminated key", `{"msg_id`, header{}, false, false},
	{"unterminated object", `{"msg_id": "a"`, header{}, false, false},
	{"open brace", `{`, header{}, false, false},
	{"control character", "{\"msg_id\": \"a\tb\"}", header{}, false, false},
	{"control character in key", "{\"msg\nid\": \"a\"}", header{}, false, false},
	{"escaped quote", `{"msg_id": "a\"b"}`, header{MsgID: `a"b`}, true, false},
	{"escaped key", `{"msg\u005fid": "x"}`, header{MsgID: "x"}, true, false},
	{"unicode escape", `{"msg_id": "caf\u00e9"}`, header{MsgID: "café"}, true, false},
	{"key inside an escaped value", `{"x": "\"msg_id\": \"y\"", "msg_type": "t"}`, header{MsgType: "t"}, true, false},
	{"bad escape", `{"msg_id": "a\qb"}`, header{}, false, false},
	{"non-ASCII", `{"msg_id": "café"}`, header{MsgID: "café"}, true, false},
	{"invalid UTF-8", "{\"msg_id\": \"a\xffb\"}", header{MsgID: "a\uFFFDb"}, true, false},
	{"nested object", `{"content": {"msg_id": "inner"}, "msg_id": "outer"}`, header{MsgID: "outer"}, true, false},
	{"array value", `{"msg_type": ["x"], "msg_id": "a"}`, header{MsgID: "a"}, true, false},
	{"array", `[1,2]`, header{}, true, false},
	{"string", `"x"`, header{}, true, false},
	{"one byte", `1`, header{}, false, false},
	{"empty", ``, header{}, false, false},
}

func TestParseHeader(t *testing.T) {
	for _, tc := range parseHeaderCases {
		t.Run(tc.name, func(t *testing.T) {
			h, ok := parseHeader([]byte(tc.obj))
			if h != tc.want || ok != tc.ok {
				t.Errorf("parseHeader(%q) = %q, %v; want %q, %v", tc.obj, h, ok, tc.want, tc.ok)
			}
			if _, fast := scanFlatObject([]byte(tc.obj)); fast != tc.fast {
				t.Errorf("scanFlatObject(%q) handles it: %v, want %v", tc.obj, fast, tc.fast)
			}
			if wh, wok := parseHeaderBefore([]byte(tc.obj)); h != wh || ok != wok {
				t.Errorf("parseHeader(%q) = %q, %v; the previous version said %q, %v", tc.obj, h, ok, wh, wok)
			}
		})
	}
}

// parseHeaderBefore is parseHeader as it was before scanFlatObject, kept
// as FuzzParseHeader's oracle: the two must agree on every input.
func parseHeaderBefore(obj []byte) (header, bool) {
	var h header
	if len(obj) < 2 || !json.Valid(obj) {
		return h, false
	}
	if obj[0] == '{' && bytes.IndexAny(obj[1:], "{[\\") < 0 && utf8.Valid(obj) {
		h.MsgID = stringFieldBefore(obj, `"msg_id"`)
		h.MsgType = stringFieldBefore(obj, `"msg_type"`)
		h.Session = stringFieldBefore(obj, `"session"`)
		return h, true
	}
	var m map[string]json.RawMessage
	if json.Unmarshal(obj, &m) != nil {
		return h, true
	}
	str := func(raw json.RawMessage) string {
		var s string
		_ = json.Unmarshal(raw, &s)
		return s
	}
	h.MsgID, h.MsgType, h.Session = str(m["msg_id"]), str(m["msg_type"]), str(m["session"])
	return h, true
}

// stringFieldBefore is parseHeaderBefore's scan for the string value of a
// top-level key (quoted) of a valid, flat JSON object without escapes.
func stringFieldBefore(obj []byte, key string) string {
	var found []byte
	for off := 0; ; {
		i := bytes.Index(obj[off:], []byte(key))
		if i < 0 {
			break
		}
		rest := bytes.TrimLeft(obj[off+i+len(key):], " \t\r\n")
		off += i + len(key)
		if len(rest) == 0 || rest[0] != ':' {
			continue
		}
		found = bytes.TrimLeft(rest[1:], " \t\r\n")
	}
	if len(found) == 0 || found[0] != '"' {
		return ""
	}
	end := bytes.IndexByte(found[1:], '"')
	if end < 0 {
		return ""
	}
	return string(found[1 : 1+end])
}

func FuzzParseHeader(f *testing.F) {
	f.Add([]byte(`{"msg_id": "a", "msg_type": "execute_request", "session": "s", "username": "u", "date": "2026-01-01T00:00:00Z", "version": "5.3"}`))
	f.Add([]byte(`{"msg_id": "a\"b"}`))
	f.Add([]byte(`{"msg_Id":"00"}`))
	f.Add([]byte(`{"msg_id":"a","msg_id":"b"}`))
	f.Add([]byte(`{"content":{"msg_id":"inner"},"msg_id":"outer"}`))
	for _, tc := range parseHeaderCases {
		f.Add([]byte(tc.obj))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		h, ok := parseHeader(b)
		if wh, wok := parseHeaderBefore(b); h != wh || ok != wok {
			t.Fatalf("parseHeader = %q, %v; the previous version said %q, %v", h, ok, wh, wok)
		}
		if valid := len(b) >= 2 && json.Valid(b); ok != valid {
			t.Fatalf("ok = %v for input json.Valid says is %v", ok, valid)
		}
		if !ok {
			if h != (header{}) {
				t.Errorf("fields %q from an invalid header", h)
			}
			return
		}
		// The reference: exact keys, the last duplicate wins (Python's
		// json, which ipykernel and jupyter_client use).
		var m map[string]json.RawMessage
		if json.Unmarshal(b, &m) != nil {
			return // valid JSON but not an object: no fields
		}
		for key, got := range map[string]string{"msg_id": h.MsgID, "msg_type": h.MsgType, "session": h.Session} {
			var want string
			if json.Unmarshal(m[key], &want) != nil {
				want = "" // missing, or not a string
			}
			if got != want {
				t.Errorf("%s %q, json says %q", key, got, want)
			}
		}
	})
}

// benchHeaderIpykernel is a header as ipykernel writes it: Python's
// json.dumps with ", " and ": " separators.
const benchHeaderIpykernel = `{"msg_id": "4f3c2a1e-7d6b4c5a_1234_17", "msg_type": "execute_request", "username": "user", ` +
	`"session": "0a1b2c3d-4e5f-6789-abcd-ef0123456789", "date": "2026-11-24T05:00:00.123456Z", "version": "5.4"}`

func BenchmarkParseHeader(b *testing.B) {
	obj := []byte(benchHeaderIpykernel)
	b.ReportAllocs()
	for b.Loop() {
		if h, ok := parseHeader(obj); !ok || h.MsgType != "execute_request" {
			b.Fatalf("parseHeader = %+v, %v", h, ok)
		}
	}
}
