package kernel

import (
	"encoding/json"
	"testing"
	"time"
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

func TestStringField(t *testing.T) {
	cases := []struct{ obj, key, want string }{
		{`{"msg_id": "a1", "msg_type": "status"}`, `"msg_id"`, "a1"},
		{`{"msg_type":"status","msg_id":"b"}`, `"msg_id"`, "b"},
		{`{"username": "msg_id", "msg_id": "real"}`, `"msg_id"`, "real"},
		{`{"msg_id": "with \"quote\" and \\ slash"}`, `"msg_id"`, `with "quote" and \ slash`},
		{`{"msg_id": "caf\u00e9"}`, `"msg_id"`, "café"},
		{`{"msg_id": 3}`, `"msg_id"`, ""},
		{`{"session": "s"}`, `"msg_id"`, ""},
	}
	for _, tc := range cases {
		t.Run(tc.obj, func(t *testing.T) {
			if got := stringField([]byte(tc.obj), tc.key); got != tc.want {
				t.Errorf("stringField(%s, %s) = %q, want %q", tc.obj, tc.key, got, tc.want)
			}
		})
	}
}

func FuzzParseHeader(f *testing.F) {
	f.Add([]byte(`{"msg_id": "a", "msg_type": "execute_request", "session": "s", "username": "u", "date": "2026-01-01T00:00:00Z", "version": "5.3"}`))
	f.Add([]byte(`{"msg_id": "a\"b"}`))
	f.Add([]byte(`{"msg_Id":"00"}`))
	f.Add([]byte(`{"msg_id":"a","msg_id":"b"}`))
	f.Add([]byte(`{"content":{"msg_id":"inner"},"msg_id":"outer"}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		h, ok := parseHeader(b)
		if !ok {
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
