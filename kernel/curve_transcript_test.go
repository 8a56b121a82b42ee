package kernel

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/crypto/nacl/box"
)

// transcript is a recorded CURVE session between two libzmq peers
// (testdata/curve_transcript.py, pyzmq 27.3 / libzmq 4.3.5).
type transcript struct {
	ServerPublic string `json:"server_public"`
	ServerSecret string `json:"server_secret"`
	C2S          string `json:"client_to_server"`
	S2C          string `json:"server_to_client"`
}

type recFrame struct {
	flags byte
	body  []byte
}

// recorded splits one direction of the recording into its greeting and frames.
func recorded(t *testing.T, hexed string) ([]byte, []recFrame) {
	t.Helper()
	raw, err := hex.DecodeString(hexed)
	if err != nil {
		t.Fatal(err)
	}
	r := bytes.NewReader(raw[64:])
	var frames []recFrame
	for r.Len() > 0 {
		body, flags, err := readFrame(r, 1<<20)
		if err != nil {
			t.Fatal(err)
		}
		frames = append(frames, recFrame{flags, body})
	}
	return raw[:64], frames
}

// Our server side reads libzmq's client commands, and libzmq's server
// commands have the layouts ours have: HELLO opens with the server key,
// WELCOME carries the cookie INITIATE returns, READY and MESSAGE frames
// count their nonces as we do (READY 1, then 2, 3...; the client's
// messages after its INITIATE's 2), MESSAGE frames carry no ZMTP flags.
func TestCurveLibzmqTranscript(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("testdata", "curve_transcript.json"))
	if err != nil {
		t.Fatal(err)
	}
	var tr transcript
	if err := json.Unmarshal(data, &tr); err != nil {
		t.Fatal(err)
	}
	keys, err := ParseCurveKeys(tr.ServerPublic, tr.ServerSecret)
	if err != nil {
		t.Fatal(err)
	}
	cg, c2s := recorded(t, tr.C2S)
	sg, s2c := recorded(t, tr.S2C)
	if err := checkCurveGreeting(cg); err != nil {
		t.Fatalf("libzmq's client greeting: %v", err)
	}
	// The mechanism field matches; libzmq 4.3.5 sends as-server 0 from
	// both sides and ignores the peer's, so our RFC 23 value (1) is moot.
	if ours := curveGreeting(); !bytes.Equal(sg[12:32], ours[12:32]) {
		t.Errorf("libzmq's server greeting mechanism %x, ours %x", sg[12:32], ours[12:32])
	}
	if len(c2s) < 3 || len(s2c) < 3 {
		t.Fatalf("%d client and %d server frames recorded", len(c2s), len(s2c))
	}
	h := curveHandshake{keys: &keys}
	if err := h.hello(c2s[0].body); err != nil || c2s[0].flags != flagCommand {
		t.Fatalf("libzmq's HELLO refused: %v", err)
	}
	w := s2c[0].body
	if len(w) != welcomeSize || string(w[:8]) != "\x07WELCOME" {
		t.Fatalf("libzmq's WELCOME: %d bytes %q", len(w), w[:8])
	}
	plain, ok := box.Open(nil, w[24:], longNonce(prefixWelcome, w[8:24]), &h.client, &keys.Secret)
	if !ok || len(plain) != 128 {
		t.Fatal("libzmq's WELCOME does not open as ours is sealed")
	}
	init := c2s[1].body
	if len(init) < minInitiateSize || string(init[:9]) != "\x08INITIATE" || !bytes.Equal(init[9:105], plain[32:]) {
		t.Fatal("libzmq's INITIATE does not return the WELCOME's cookie where we read it")
	}
	if binary.BigEndian.Uint64(init[105:113]) != 2 {
		t.Errorf("INITIATE nonce %d, want 2", binary.BigEndian.Uint64(init[105:113]))
	}
	ready := s2c[1].body
	if string(ready[:6]) != "\x05READY" || binary.BigEndian.Uint64(ready[6:14]) != 1 {
		t.Errorf("libzmq's READY: %q nonce %d", ready[:6], binary.BigEndian.Uint64(ready[6:14]))
	}
	for name, frames := range map[string][]recFrame{"client": c2s[2:], "server": s2c[2:]} {
		next := uint64(2)
		if name == "client" {
			next = 3
		}
		for _, f := range frames {
			if f.flags&(flagMore|flagCommand) != 0 || len(f.body) < curveFrameOverhead || string(f.body[:8]) != "\x07MESSAGE" {
				t.Fatalf("%s MESSAGE frame: flags %x, %q", name, f.flags, f.body[:8])
			}
			if n := binary.BigEndian.Uint64(f.body[8:16]); n != next {
				t.Errorf("%s MESSAGE nonce %d, want %d", name, n, next)
			}
			next++
		}
	}
	if got := len(c2s[2:]); got != 2 {
		t.Errorf("client sent %d MESSAGE frames for a 2-frame message", got)
	}
}
