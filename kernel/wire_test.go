package kernel

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/hex"
	"errors"
	"hash"
	"testing"
)

func frames(parts ...string) [][]byte {
	out := make([][]byte, len(parts))
	for i, p := range parts {
		out[i] = []byte(p)
	}
	return out
}

func TestParse(t *testing.T) {
	tests := []struct {
		name        string
		raw         [][]byte
		wantErr     error
		wantIdents  int
		wantBuffers int
		wantHeader  string
	}{
		{name: "nil", raw: nil, wantErr: ErrNoDelimiter},
		{name: "empty frames", raw: [][]byte{{}, {}}, wantErr: ErrNoDelimiter},
		{name: "no delimiter", raw: frames("id", "sig", "{}", "{}", "{}", "{}"), wantErr: ErrNoDelimiter},
		{name: "delimiter last", raw: frames("id", "<IDS|MSG>"), wantErr: ErrShortMessage},
		{name: "delimiter only", raw: frames("<IDS|MSG>"), wantErr: ErrShortMessage},
		{name: "four after delimiter", raw: frames("<IDS|MSG>", "sig", "{}", "{}", "{}"), wantErr: ErrShortMessage},
		{name: "delimiter prefix is not a delimiter", raw: frames("<IDS|MSG", "s", "h", "p", "m", "c"), wantErr: ErrNoDelimiter},
		{name: "minimal", raw: frames("<IDS|MSG>", "sig", "h", "p", "m", "c"), wantHeader: "h"},
		{name: "identities", raw: frames("a", "b", "<IDS|MSG>", "sig", "h", "p", "m", "c"), wantIdents: 2, wantHeader: "h"},
		{name: "buffers", raw: frames("a", "<IDS|MSG>", "sig", "h", "p", "m", "c", "b1", "b2"), wantIdents: 1, wantBuffers: 2, wantHeader: "h"},
		{name: "first delimiter wins", raw: frames("<IDS|MSG>", "sig", "h", "p", "m", "<IDS|MSG>"), wantHeader: "h"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := Parse(tt.raw)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("Parse error = %v, want %v", err, tt.wantErr)
			}
			if err != nil {
				return
			}
			if len(f.Idents) != tt.wantIdents || len(f.Buffers) != tt.wantBuffers {
				t.Errorf("idents %d buffers %d, want %d and %d", len(f.Idents), len(f.Buffers), tt.wantIdents, tt.wantBuffers)
			}
			if string(f.Header) != tt.wantHeader || string(f.Signature) != "sig" {
				t.Errorf("header %q signature %q", f.Header, f.Signature)
			}
			if string(f.ParentHeader) != "p" || string(f.Metadata) != "m" {
				t.Errorf("parent %q metadata %q", f.ParentHeader, f.Metadata)
			}
		})
	}
}

func TestParseAliasesInput(t *testing.T) {
	raw := frames("<IDS|MSG>", "sig", "h", "p", "m", "c")
	f, err := Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	if &f.Header[0] != &raw[2][0] {
		t.Error("Parse copied the header frame; it must alias the input")
	}
}

func TestSignerSchemes(t *testing.T) {
	key := []byte("secret")
	parts := [][]byte{[]byte(`{"msg_id":"1"}`), []byte(`{}`), []byte(`{}`), []byte(`{"code":"1"}`)}
	want := func(h func() hash.Hash) string {
		m := hmac.New(h, key)
		for _, p := range parts {
			m.Write(p)
		}
		return hex.EncodeToString(m.Sum(nil))
	}
	tests := []struct {
		scheme  string
		key     []byte
		want    string
		wantErr bool
	}{
		{scheme: "hmac-sha256", key: key, want: want(sha256.New)},
		{scheme: "hmac-sha512", key: key, want: want(sha512.New)},
		{scheme: "hmac-sha384", key: key, want: want(sha512.New384)},
		{scheme: "hmac-sha224", key: key, want: want(sha256.New224)},
		{scheme: "hmac-sha1", key: key, want: want(sha1.New)},
		{scheme: "hmac-md5", key: key, wantErr: true},
		{scheme: "sha256", key: key, wantErr: true},
		{scheme: "", key: key, wantErr: true},
		{scheme: "hmac-", key: key, wantErr: true},
		{scheme: "hmac-sha256", key: nil, want: ""},
		{scheme: "anything-goes-unsigned", key: nil, want: ""},
	}
	for _, tt := range tests {
		t.Run(tt.scheme+"/key="+string(tt.key), func(t *testing.T) {
			s, err := NewSigner(tt.scheme, tt.key)
			if tt.wantErr {
				if err == nil {
					t.Fatalf("NewSigner(%q) accepted an unsupported scheme", tt.scheme)
				}
				return
			}
			if err != nil {
				t.Fatalf("NewSigner(%q): %v", tt.scheme, err)
			}
			got := string(s.Sign(parts[0], parts[1], parts[2], parts[3]))
			if got != tt.want {
				t.Errorf("Sign = %q, want %q", got, tt.want)
			}
			if s.Signing() != (len(tt.key) > 0) {
				t.Errorf("Signing() = %v with key %q", s.Signing(), tt.key)
			}
			f := Frames{Signature: []byte(got), Header: parts[0], ParentHeader: parts[1], Metadata: parts[2], Content: parts[3]}
			if err := s.Verify(&f); err != nil {
				t.Errorf("Verify of own signature: %v", err)
			}
		})
	}
}

func TestSignerVerifyRejects(t *testing.T) {
	s, err := NewSigner("hmac-sha256", []byte("secret"))
	if err != nil {
		t.Fatal(err)
	}
	good := Frames{Header: []byte(`{"msg_id":"1"}`), ParentHeader: []byte("{}"), Metadata: []byte("{}"), Content: []byte("{}")}
	sig := s.Sign(good.Header, good.ParentHeader, good.Metadata, good.Content)
	other, _ := NewSigner("hmac-sha256", []byte("other key"))
	tests := []struct {
		name string
		sig  []byte
		edit func(f *Frames)
	}{
		{name: "empty signature", sig: []byte{}},
		{name: "nil signature", sig: nil},
		{name: "short signature", sig: sig[:len(sig)-2]},
		{name: "one byte", sig: sig[:1]},
		{name: "long signature", sig: append(bytes.Clone(sig), '0')},
		{name: "flipped digit", sig: flipLast(sig)},
		{name: "uppercase hex", sig: bytes.ToUpper(sig)},
		{name: "other key", sig: other.Sign(good.Header, good.ParentHeader, good.Metadata, good.Content)},
		{name: "content changed", sig: sig, edit: func(f *Frames) { f.Content = []byte(`{"x":1}`) }},
		{name: "header changed", sig: sig, edit: func(f *Frames) { f.Header = []byte(`{"msg_id":"2"}`) }},
		{name: "frames swapped", sig: sig, edit: func(f *Frames) { f.Header, f.Content = f.Content, f.Header }},
		{name: "oversized signature", sig: bytes.Repeat([]byte("a"), 1<<16)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := good
			f.Signature = tt.sig
			if tt.edit != nil {
				tt.edit(&f)
			}
			if err := s.Verify(&f); !errors.Is(err, ErrBadSignature) {
				t.Errorf("Verify = %v, want ErrBadSignature", err)
			}
		})
	}
	t.Run("buffers are not signed", func(t *testing.T) {
		f := good
		f.Signature = sig
		f.Buffers = [][]byte{[]byte("anything")}
		if err := s.Verify(&f); err != nil {
			t.Errorf("Verify with buffers: %v", err)
		}
	})
	t.Run("unsigned signer accepts anything", func(t *testing.T) {
		u, _ := NewSigner("hmac-sha256", nil)
		f := good
		f.Signature = []byte("garbage")
		if err := u.Verify(&f); err != nil {
			t.Errorf("unsigned Verify = %v", err)
		}
	})
}

func flipLast(sig []byte) []byte {
	out := bytes.Clone(sig)
	if out[len(out)-1] == '0' {
		out[len(out)-1] = '1'
	} else {
		out[len(out)-1] = '0'
	}
	return out
}

func TestEncodeRoundTrip(t *testing.T) {
	for _, key := range []string{"", "k3y"} {
		t.Run("key="+key, func(t *testing.T) {
			s, err := NewSigner("hmac-sha256", []byte(key))
			if err != nil {
				t.Fatal(err)
			}
			in := Frames{
				Idents: frames("id1", "id2"), Header: []byte(`{"msg_id":"a"}`), ParentHeader: []byte("{}"),
				Metadata: []byte(`{"m":1}`), Content: []byte(`{"c":2}`), Buffers: frames("buf", ""),
			}
			raw := s.Encode(in)
			if len(raw) != 2+6+2 {
				t.Fatalf("Encode made %d frames, want 10", len(raw))
			}
			out, err := Parse(raw)
			if err != nil {
				t.Fatal(err)
			}
			if err := s.Verify(&out); err != nil {
				t.Fatalf("Verify of encoded message: %v", err)
			}
			for i, pair := range [][2][]byte{
				{in.Header, out.Header}, {in.ParentHeader, out.ParentHeader},
				{in.Metadata, out.Metadata}, {in.Content, out.Content},
			} {
				if !bytes.Equal(pair[0], pair[1]) {
					t.Errorf("frame %d: %q != %q", i, pair[0], pair[1])
				}
			}
			if len(out.Idents) != 2 || string(out.Idents[1]) != "id2" || len(out.Buffers) != 2 || string(out.Buffers[0]) != "buf" {
				t.Errorf("idents %q buffers %q", out.Idents, out.Buffers)
			}
		})
	}
}

func TestDigestHistory(t *testing.T) {
	t.Run("replay rejected", func(t *testing.T) {
		var d digestHistory
		if !d.add([]byte("a")) || !d.add([]byte("b")) {
			t.Fatal("new signatures rejected")
		}
		if d.add([]byte("a")) {
			t.Error("replayed signature accepted")
		}
	})
	t.Run("unsigned never a replay", func(t *testing.T) {
		var d digestHistory
		for i := 0; i < 3; i++ {
			if !d.add(nil) || !d.add([]byte{}) {
				t.Fatal("empty signature treated as a replay")
			}
		}
	})
	t.Run("ring eviction", func(t *testing.T) {
		var d digestHistory
		sig := func(i int) []byte { return []byte{byte(i >> 16), byte(i >> 8), byte(i), 'x'} }
		for i := 0; i < digestHistorySize; i++ {
			if !d.add(sig(i)) {
				t.Fatalf("signature %d rejected", i)
			}
		}
		if d.add(sig(0)) {
			t.Fatal("signature 0 accepted while still in the ring")
		}
		if !d.add(sig(digestHistorySize)) { // evicts sig(0)
			t.Fatal("new signature rejected")
		}
		if !d.add(sig(0)) {
			t.Error("evicted signature still rejected")
		}
		if d.add(sig(2)) {
			t.Error("signature 2 was evicted too early")
		}
		if len(d.seen) != digestHistorySize {
			t.Errorf("history holds %d entries, want %d", len(d.seen), digestHistorySize)
		}
	})
}
