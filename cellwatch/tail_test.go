package cellwatch

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestStreamText(t *testing.T) {
	long := strings.Repeat("x = \"quoted\" \\ back\tslash é\n", 20000) + "accuracy=0.93\n"
	cases := []struct {
		name, text string
		wantSuffix string
	}{
		{"small", "epoch 1/3\n", "epoch 1/3\n"},
		{"large keeps the tail", long, "accuracy=0.93\n"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			content, err := json.Marshal(map[string]string{"name": "stdout", "text": tc.text})
			if err != nil {
				t.Fatal(err)
			}
			got, ok := streamText(content)
			if !ok {
				t.Fatal("not decoded")
			}
			if !strings.HasSuffix(got, tc.wantSuffix) {
				t.Errorf("text ends %q, want suffix %q", got[max(0, len(got)-40):], tc.wantSuffix)
			}
			if len(got) > maxTail {
				t.Errorf("decoded %d bytes, want at most %d", len(got), maxTail)
			}
			if !strings.HasSuffix(tc.text, got) {
				t.Error("decoded text is not a tail of the original")
			}
		})
	}
}

func TestStreamTextBroken(t *testing.T) {
	for _, content := range []string{
		`{"name": "stdout"}`,
		`{"text": 3}`,
		`{"text": "unterminated`,
		`not json`,
	} {
		big := content + strings.Repeat(" ", 3*maxTail)
		if _, ok := streamText([]byte(big)); ok && !strings.Contains(content, `"text": "`) {
			t.Errorf("streamText(%q...) decoded", content)
		}
	}
}

func TestRawStringField(t *testing.T) {
	raw, ok := rawStringField([]byte(`{"name": "stdout", "text" : "a\"b\\"}`), "text")
	if !ok || string(raw) != `a\"b\\` {
		t.Fatalf("got %q, %v", raw, ok)
	}
}
