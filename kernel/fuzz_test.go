package kernel

import (
	"bytes"
	"encoding/binary"
	"testing"
	"time"
)

// joinFrames packs frames into one fuzz input: each frame is a 2-byte
// big-endian length followed by its bytes.
func joinFrames(fr [][]byte) []byte {
	var b []byte
	for _, f := range fr {
		b = binary.BigEndian.AppendUint16(b, uint16(len(f)))
		b = append(b, f...)
	}
	return b
}

// splitFrames is joinFrames' inverse; a short tail becomes the last frame.
func splitFrames(b []byte) [][]byte {
	var out [][]byte
	for len(b) >= 2 {
		n := int(binary.BigEndian.Uint16(b))
		b = b[2:]
		if n > len(b) {
			n = len(b)
		}
		out = append(out, b[:n])
		b = b[n:]
	}
	if len(b) > 0 {
		out = append(out, b)
	}
	return out
}

// seedMessages are real messages as the proxy sees them on each socket.
func seedMessages() [][][]byte {
	s, _ := NewSigner("hmac-sha256", []byte("a0436f6c-1916-498b-8eb9-e81ab9368e84"))
	exec := Frames{
		Idents:       [][]byte{[]byte("7f3a0c2e-client")},
		Header:       []byte(`{"msg_id":"d3b5e1","msg_type":"execute_request","username":"u","session":"c1","date":"2026-01-01T00:00:00.000000Z","version":"5.4"}`),
		ParentHeader: []byte(`{}`),
		Metadata:     []byte(`{"cellId":"abc"}`),
		Content:      []byte(`{"code":"print(1)","silent":false,"store_history":true,"user_expressions":{},"allow_stdin":true,"stop_on_error":true}`),
	}
	status := Frames{
		Idents:       [][]byte{[]byte("kernel.k1.status")},
		Header:       []byte(`{"msg_id":"s1","msg_type":"status","username":"u","session":"k1","date":"2026-01-01T00:00:00.000001Z","version":"5.4"}`),
		ParentHeader: exec.Header,
		Metadata:     []byte(`{}`),
		Content:      []byte(`{"execution_state":"idle"}`),
	}
	comm := status
	comm.Idents = [][]byte{[]byte("kernel.k1.comm_msg")}
	comm.Content = []byte(`{"comm_id":"w","data":{"buffer_paths":[["x"]]}}`)
	comm.Buffers = [][]byte{{0, 1, 2, 3}, {}}
	return [][][]byte{
		s.Encode(exec), s.Encode(status), s.Encode(comm),
		{Delimiter}, {[]byte("id"), Delimiter, []byte("sig")}, {},
	}
}

func FuzzParse(f *testing.F) {
	for _, m := range seedMessages() {
		f.Add(joinFrames(m))
	}
	signer, _ := NewSigner("hmac-sha256", []byte("a0436f6c-1916-498b-8eb9-e81ab9368e84"))
	f.Fuzz(func(t *testing.T, data []byte) {
		raw := splitFrames(data)
		fr, err := Parse(raw)
		if err != nil {
			return
		}
		n := len(fr.Idents) + 6 + len(fr.Buffers)
		if n != len(raw) {
			t.Fatalf("parsed %d frames out of %d", n, len(raw))
		}
		if !bytes.Equal(raw[len(fr.Idents)], Delimiter) {
			t.Fatalf("identities run past the delimiter")
		}
		_ = signer.Verify(&fr)
		m := decode(&fr, Shell, FromFrontend, time.Time{})
		if !bytes.Equal(m.Content, fr.Content) {
			t.Fatalf("decode changed the content")
		}
		// Re-encoding with our key yields a message we accept.
		again, err := Parse(signer.Encode(fr))
		if err != nil {
			t.Fatalf("re-encoded message does not parse: %v", err)
		}
		if err := signer.Verify(&again); err != nil {
			t.Fatalf("re-encoded message does not verify: %v", err)
		}
	})
}

func FuzzParseProperties(f *testing.F) {
	f.Add(readyCommand(map[string]string{"Socket-Type": "SUB", "Identity": ""})[6:])
	f.Add([]byte{1, 'a', 0xff, 0xff, 0xff, 0xff})
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, data []byte) {
		props, err := parseProperties(data)
		if err != nil {
			return
		}
		total := 0
		for k, v := range props {
			total += 1 + len(k) + 4 + len(v)
		}
		if total > len(data) {
			t.Fatalf("properties take %d bytes of a %d-byte input", total, len(data))
		}
	})
}

func FuzzReadFrame(f *testing.F) {
	var buf bytes.Buffer
	_ = writeFrame(&buf, []byte{1}, 0)
	f.Add(buf.Bytes())
	buf.Reset()
	_ = writeFrame(&buf, readyCommand(map[string]string{"Socket-Type": "SUB"}), flagCommand)
	f.Add(buf.Bytes())
	f.Add([]byte{flagLong, 0x40, 0, 0, 0, 0, 0, 0, 0}) // 2^62 bytes
	f.Add([]byte{flagLong | flagMore, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff})
	const limit = 4096
	f.Fuzz(func(t *testing.T, data []byte) {
		body, _, err := readFrame(bytes.NewReader(data), limit)
		if err == nil && (len(body) > limit || len(body) > len(data)) {
			t.Fatalf("readFrame returned %d bytes from %d input bytes", len(body), len(data))
		}
	})
}
