package kernel

import (
	"bytes"
	"encoding/binary"
	"io"
	"runtime"
	"strings"
	"testing"
)

func TestGreeting(t *testing.T) {
	g := greeting()
	if err := checkGreeting(g); err != nil {
		t.Fatalf("our own greeting is refused: %v", err)
	}
	if len(g) != 64 || g[10] != 3 || g[11] != 0 || g[32] != 0 {
		t.Errorf("greeting = %x", g)
	}
	mod := func(f func(g []byte)) []byte {
		c := greeting()
		f(c)
		return c
	}
	tests := []struct {
		name    string
		g       []byte
		wantErr string
	}{
		{"short", greeting()[:63], "not a ZMTP peer"},
		{"empty", nil, "not a ZMTP peer"},
		{"long", append(greeting(), 0), "not a ZMTP peer"},
		{"bad signature", mod(func(g []byte) { g[0] = 0 }), "not a ZMTP peer"},
		{"bad padding flag", mod(func(g []byte) { g[9] = 0 }), "not a ZMTP peer"},
		{"ZMTP 2", mod(func(g []byte) { g[10] = 2 }), "not supported"},
		{"CURVE", mod(func(g []byte) { copy(g[12:32], "CURVE\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00") }), "CURVE"},
		{"PLAIN", mod(func(g []byte) { copy(g[12:32], "PLAIN") }), "PLAIN"},
		{"ZMTP 3.1 accepted", mod(func(g []byte) { g[11] = 1 }), ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := checkGreeting(tt.g)
			if tt.wantErr == "" {
				if err != nil {
					t.Errorf("checkGreeting: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("checkGreeting error = %v, want %q", err, tt.wantErr)
			}
		})
	}
}

func TestReadyCommandRoundTrip(t *testing.T) {
	props := map[string]string{"Socket-Type": "PUB", "Identity": "", "X": strings.Repeat("v", 300)}
	name, data, err := parseCommand(readyCommand(props))
	if err != nil || name != "READY" {
		t.Fatalf("parseCommand = %q, %v", name, err)
	}
	got, err := parseProperties(data)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(props) {
		t.Fatalf("properties = %v", got)
	}
	for k, v := range props {
		if got[k] != v {
			t.Errorf("property %s = %q, want %q", k, got[k], v)
		}
	}
}

func TestParseCommand(t *testing.T) {
	tests := []struct {
		name     string
		body     []byte
		wantErr  bool
		wantName string
		wantData string
	}{
		{name: "empty", body: nil, wantErr: true},
		{name: "name longer than body", body: []byte{5, 'R', 'E'}, wantErr: true},
		{name: "max name length, short body", body: []byte{255}, wantErr: true},
		{name: "zero-length name", body: []byte{0, 'x'}, wantData: "x"},
		{name: "name only", body: []byte{4, 'P', 'I', 'N', 'G'}, wantName: "PING"},
		{name: "name and data", body: []byte{4, 'P', 'I', 'N', 'G', 0, 1, 'c'}, wantName: "PING", wantData: "\x00\x01c"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			name, data, err := parseCommand(tt.body)
			if tt.wantErr {
				if err == nil {
					t.Errorf("parseCommand(%x) accepted malformed input as %q", tt.body, name)
				}
				return
			}
			if err != nil || name != tt.wantName || string(data) != tt.wantData {
				t.Errorf("parseCommand(%x) = %q, %q, %v", tt.body, name, data, err)
			}
		})
	}
}

func TestParsePropertiesMalformed(t *testing.T) {
	be := func(n uint32) []byte { var b [4]byte; binary.BigEndian.PutUint32(b[:], n); return b[:] }
	cat := func(parts ...[]byte) []byte { return bytes.Join(parts, nil) }
	tests := []struct {
		name string
		data []byte
	}{
		{"name length past end", []byte{10, 'a'}},
		{"no value length", []byte{1, 'a'}},
		{"partial value length", []byte{1, 'a', 0, 0}},
		{"value past end", cat([]byte{1, 'a'}, be(5), []byte("abc"))},
		{"value length 2^32-1", cat([]byte{1, 'a'}, be(0xffffffff))},
		{"second property truncated", cat([]byte{1, 'a'}, be(1), []byte("x"), []byte{3, 'b'})},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if props, err := parseProperties(tt.data); err == nil {
				t.Errorf("parseProperties(%x) = %v, want an error", tt.data, props)
			}
		})
	}
	t.Run("empty is no properties", func(t *testing.T) {
		props, err := parseProperties(nil)
		if err != nil || len(props) != 0 {
			t.Errorf("parseProperties(nil) = %v, %v", props, err)
		}
	})
}

func TestFrameRoundTrip(t *testing.T) {
	for _, size := range []int{0, 1, 255, 256, 70000} {
		var buf bytes.Buffer
		body := bytes.Repeat([]byte{'z'}, size)
		if err := writeFrame(&buf, body, flagMore); err != nil {
			t.Fatal(err)
		}
		wantHdr := 2
		if size > 255 {
			wantHdr = 9
		}
		if buf.Len() != wantHdr+size {
			t.Errorf("size %d: frame of %d bytes, want %d", size, buf.Len(), wantHdr+size)
		}
		got, flags, err := readFrame(&buf, 1<<20)
		if err != nil || !bytes.Equal(got, body) || flags&flagMore == 0 {
			t.Errorf("size %d: readFrame = %d bytes, flags %x, %v", size, len(got), flags, err)
		}
	}
}

func TestReadFrameRefusesHugeFrame(t *testing.T) {
	hdr := make([]byte, 9)
	hdr[0] = flagLong
	binary.BigEndian.PutUint64(hdr[1:], 1<<62)
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	body, _, err := readFrame(bytes.NewReader(hdr), maxSubscriberFrame)
	runtime.ReadMemStats(&after)
	if err == nil || body != nil {
		t.Fatalf("readFrame accepted a 2^62-byte frame header")
	}
	if grew := after.TotalAlloc - before.TotalAlloc; grew > 1<<20 {
		t.Errorf("readFrame allocated %d bytes for a refused frame", grew)
	}
	// Just above the limit is refused too; at the limit it reads.
	for _, size := range []int{maxSubscriberFrame + 1, maxSubscriberFrame} {
		var buf bytes.Buffer
		_ = writeFrame(&buf, make([]byte, size), 0)
		_, _, err := readFrame(&buf, maxSubscriberFrame)
		if (err != nil) != (size > maxSubscriberFrame) {
			t.Errorf("frame of %d bytes: err = %v", size, err)
		}
	}
}

func TestReadFrameTruncated(t *testing.T) {
	tests := []struct {
		name string
		in   []byte
	}{
		{"empty", nil},
		{"one header byte", []byte{0}},
		{"long header cut", []byte{flagLong, 0, 0}},
		{"body cut", []byte{0, 5, 'a', 'b'}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, _, err := readFrame(bytes.NewReader(tt.in), 1<<20); err == nil {
				t.Error("readFrame accepted a truncated frame")
			} else if tt.name == "empty" && err != io.EOF {
				t.Errorf("empty input: err = %v, want io.EOF", err)
			}
		})
	}
}

func TestEncodeMessage(t *testing.T) {
	msg := [][]byte{[]byte("topic"), bytes.Repeat([]byte{'x'}, 300), {}}
	var buf bytes.Buffer
	bufs := encodeMessage(msg)
	if _, err := bufs.WriteTo(&buf); err != nil {
		t.Fatal(err)
	}
	for i, want := range msg {
		got, flags, err := readFrame(&buf, 1<<20)
		if err != nil || !bytes.Equal(got, want) {
			t.Fatalf("frame %d: %q, %v", i, got, err)
		}
		if more := flags&flagMore != 0; more != (i < len(msg)-1) {
			t.Errorf("frame %d: MORE flag %v", i, more)
		}
	}
	if buf.Len() != 0 {
		t.Errorf("%d bytes left over", buf.Len())
	}
}
