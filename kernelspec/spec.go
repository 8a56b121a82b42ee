package kernelspec

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
)

// SpecFile is the name of the file that makes a directory a kernelspec.
const SpecFile = "kernel.json"

// Metadata keys cloudline writes into the specs it installs.
const (
	MetaConfig = "cloudline"       // metadata.cloudline: the Config object
	MetaWraps  = "cloudline_wraps" // metadata.cloudline_wraps: name of the wrapped spec
)

// Spec is one kernelspec: the fields of kernel.json plus where it was found.
type Spec struct {
	Name string // directory name, lower-cased as jupyter_client does
	Dir  string // absolute directory holding kernel.json

	Argv                  []string
	DisplayName           string
	Language              string
	InterruptMode         string // "signal" or "message"; "" means signal
	Env                   map[string]string
	Metadata              map[string]json.RawMessage // every key kept, known or not
	KernelProtocolVersion string
	Mimetype              string
	Extra                 map[string]json.RawMessage // unknown top-level keys, kept for round trips
}

var namePattern = regexp.MustCompile(`^[a-z0-9._-]+$`)

// ValidName reports whether name is a valid kernelspec name. Names are
// case-insensitive; callers should lower-case them.
func ValidName(name string) bool {
	return namePattern.MatchString(strings.ToLower(name))
}

// ReadSpec reads dir/kernel.json. The spec's Name is the lower-cased base
// name of dir.
func ReadSpec(dir string) (*Spec, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("kernelspec %s: %w", dir, err)
	}
	file := filepath.Join(abs, SpecFile)
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("read kernelspec: %w", err)
	}
	s, err := Parse(data)
	if err != nil {
		return nil, fmt.Errorf("kernelspec %s: %w", file, err)
	}
	s.Name = strings.ToLower(filepath.Base(abs))
	s.Dir = abs
	return s, nil
}

// known maps each known kernel.json key to the field it fills.
var known = map[string]func(s *Spec, raw json.RawMessage) error{
	"argv":           func(s *Spec, raw json.RawMessage) error { return strictUnmarshal(raw, &s.Argv, "a list of strings") },
	"display_name":   func(s *Spec, raw json.RawMessage) error { return strictUnmarshal(raw, &s.DisplayName, "a string") },
	"language":       func(s *Spec, raw json.RawMessage) error { return strictUnmarshal(raw, &s.Language, "a string") },
	"interrupt_mode": func(s *Spec, raw json.RawMessage) error { return strictUnmarshal(raw, &s.InterruptMode, "a string") },
	"env":            func(s *Spec, raw json.RawMessage) error { return strictUnmarshal(raw, &s.Env, "an object of strings") },
	"metadata":       func(s *Spec, raw json.RawMessage) error { return strictUnmarshal(raw, &s.Metadata, "an object") },
	"kernel_protocol_version": func(s *Spec, raw json.RawMessage) error {
		return strictUnmarshal(raw, &s.KernelProtocolVersion, "a string")
	},
	"mimetype": func(s *Spec, raw json.RawMessage) error { return strictUnmarshal(raw, &s.Mimetype, "a string") },
}

// strictUnmarshal decodes raw into v; null leaves v unset.
func strictUnmarshal(raw json.RawMessage, v any, want string) error {
	if bytes.Equal(bytes.TrimSpace(raw), []byte("null")) {
		return nil
	}
	if err := json.Unmarshal(raw, v); err != nil {
		return fmt.Errorf("want %s, got %s", want, describe(raw))
	}
	return nil
}

// Parse decodes the contents of a kernel.json file. It needs a non-empty
// argv and an interrupt_mode of "signal" or "message" (case-insensitive, as
// in jupyter_client) when one is given.
func Parse(data []byte) (*Spec, error) {
	var top map[string]json.RawMessage
	if err := json.Unmarshal(data, &top); err != nil {
		var syn *json.SyntaxError
		if errors.As(err, &syn) {
			return nil, fmt.Errorf("invalid JSON at byte %d: %w", syn.Offset, err)
		}
		return nil, fmt.Errorf("want a JSON object: %w", err)
	}
	if top == nil {
		return nil, errors.New("want a JSON object, got null")
	}
	s := &Spec{}
	for key, raw := range top {
		fill, ok := known[key]
		if !ok {
			if s.Extra == nil {
				s.Extra = map[string]json.RawMessage{}
			}
			s.Extra[key] = raw
			continue
		}
		if err := fill(s, raw); err != nil {
			return nil, fmt.Errorf("%s: %w", key, err)
		}
	}
	if len(s.Argv) == 0 {
		return nil, errors.New("argv: missing or empty")
	}
	if s.Argv[0] == "" {
		return nil, errors.New("argv: first element (the program) is empty")
	}
	switch m := strings.ToLower(s.InterruptMode); m {
	case "", "signal", "message":
		s.InterruptMode = m
	default:
		return nil, fmt.Errorf("interrupt_mode: want \"signal\" or \"message\", got %q", s.InterruptMode)
	}
	return s, nil
}

// describe names the JSON type of raw for error messages.
func describe(raw json.RawMessage) string {
	t := bytes.TrimSpace(raw)
	if len(t) == 0 {
		return "nothing"
	}
	switch t[0] {
	case '{':
		return "an object"
	case '[':
		return "a list"
	case '"':
		return "a string " + string(t)
	case 't', 'f':
		return "a boolean"
	case 'n':
		return "null"
	default:
		return "the number " + string(t)
	}
}

// MarshalJSON writes the spec as kernel.json (keys sorted), empty
// optional fields left out, Extra keys kept.
func (s *Spec) MarshalJSON() ([]byte, error) {
	out := map[string]any{}
	for k, v := range s.Extra {
		out[k] = v
	}
	out["argv"] = s.Argv
	out["display_name"] = s.DisplayName
	out["language"] = s.Language
	if s.InterruptMode != "" {
		out["interrupt_mode"] = s.InterruptMode
	}
	if len(s.Env) > 0 {
		out["env"] = s.Env
	}
	if len(s.Metadata) > 0 {
		out["metadata"] = s.Metadata
	}
	if s.KernelProtocolVersion != "" {
		out["kernel_protocol_version"] = s.KernelProtocolVersion
	}
	if s.Mimetype != "" {
		out["mimetype"] = s.Mimetype
	}
	return json.MarshalIndent(out, "", " ")
}

// IsCloudline reports whether the spec is one cloudline installed: it
// carries metadata.cloudline_wraps, or its argv runs "cloudline kernel".
func (s *Spec) IsCloudline() bool {
	if _, ok := s.Metadata[MetaWraps]; ok {
		return true
	}
	return len(s.Argv) > 1 && s.Argv[1] == "kernel" &&
		strings.HasPrefix(filepath.Base(s.Argv[0]), "cloudline")
}

// Wraps returns the name of the spec a cloudline spec wraps, or "".
func (s *Spec) Wraps() string {
	var name string
	if raw, ok := s.Metadata[MetaWraps]; ok {
		_ = json.Unmarshal(raw, &name) // a non-string leaves ""
	}
	return name
}
