package kernelspec

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

// RuleIDs are the advisor's rule ids, the valid entries of rules_off: the
// list of record (the advisor cannot be imported here; its test
// TestRuleIDsMatchKernelspec ties its rules to this list).
var RuleIDs = []string{
	"long-training", "projected-training", "memory-pressure", "dataset-size",
	"disk-space", "compute-saturated", "gpu-saturated", "parallel-load",
	"sensitive-data", "stable-model", "local-serving", "kernel-died",
}

// Clouds are the valid values of the cloud key.
var Clouds = []string{"azure", "aws", "gcp", "generic"}

// EnvPrefix starts the environment variables that override a key:
// CLOUDLINE_TRAINING_TIME overrides training_time.
const EnvPrefix = "CLOUDLINE_"

// ConfigKeys returns the configuration keys in documentation order.
func ConfigKeys() []string {
	keys := make([]string, len(fields))
	for i, f := range fields {
		keys[i] = f.key
	}
	return keys
}

// EnvName returns the environment variable that overrides key.
func EnvName(key string) string { return EnvPrefix + strings.ToUpper(key) }

// ParseConfig builds the Config from raw, the metadata.cloudline object of
// a kernel.json (nil or null means none), overridden by CLOUDLINE_<KEY>
// entries of environ ("KEY=VALUE" strings, as os.Environ returns; empty
// values are ignored). It never fails: each bad value, unknown key or
// unknown rule id becomes a warning that says what was wrong and what is
// used instead, and the rest of the configuration still applies.
func ParseConfig(raw json.RawMessage, environ []string) (Config, []string) {
	c := DefaultConfig()
	var warnings []string
	fromSpec := map[string]bool{}

	var obj map[string]json.RawMessage
	if t := bytes.TrimSpace(raw); len(t) > 0 && !bytes.Equal(t, []byte("null")) {
		if err := json.Unmarshal(t, &obj); err != nil {
			warnings = append(warnings, fmt.Sprintf("metadata.cloudline: want an object, got %s; using the defaults", describe(t)))
		}
	}
	var unknown []string
	for k := range obj {
		if fieldByKey(k) == nil {
			unknown = append(unknown, k)
		}
	}
	sort.Strings(unknown)
	for _, k := range unknown {
		warnings = append(warnings, fmt.Sprintf("metadata.cloudline: unknown key %q ignored (known keys: %s)", k, strings.Join(ConfigKeys(), ", ")))
	}

	env := envValues(environ)
	for i := range fields {
		f := &fields[i]
		if v, ok := obj[f.key]; ok {
			w, used := apply(&c, f, v, "metadata.cloudline."+f.key, "the default ")
			fromSpec[f.key] = used
			warnings = append(warnings, w...)
			if used {
				written(&c, f.key, v)
			}
		}
		if s, ok := env[EnvName(f.key)]; ok {
			source := "the default "
			if fromSpec[f.key] {
				source = "kernel.json's "
			}
			v, _ := json.Marshal(s)
			w, used := apply(&c, f, v, EnvName(f.key), source)
			warnings = append(warnings, w...)
			if used {
				written(&c, f.key, v)
			}
		}
	}
	expandHome(&c, environ)
	return c, warnings
}

// expandHome expands a leading ~ in the history path and the sensitive
// path globs with HOME from environ, as a shell would.
func expandHome(c *Config, environ []string) {
	home := ""
	for _, kv := range environ {
		if v, ok := strings.CutPrefix(kv, "HOME="); ok {
			home = v
		}
	}
	if home == "" {
		return
	}
	expand := func(p string) string {
		if p == "~" {
			return home
		}
		if rest, ok := strings.CutPrefix(p, "~/"); ok {
			return filepath.Join(home, rest)
		}
		return p
	}
	c.History = expand(c.History)
	for i, p := range c.SensitivePaths {
		c.SensitivePaths[i] = expand(p)
	}
}

// apply sets one field from v. It reports whether the value was used, and
// the warnings to show: a rejected value leaves c unchanged.
func apply(c *Config, f *field, v json.RawMessage, where, source string) ([]string, bool) {
	next := *c
	notes, err := f.set(&next, v)
	if err != nil {
		return []string{fmt.Sprintf("%s: bad value %s (%s); using %s%s", where, compact(v),
			strings.TrimPrefix(err.Error(), errWant.Error()+": "), source, show(f.get(*c)))}, false
	}
	*c = next
	var out []string
	for _, n := range notes {
		out = append(out, where+": "+n)
	}
	return out, true
}

// written records the value of key as the user wrote it: a string's
// text, anything else in compact JSON.
func written(c *Config, key string, v json.RawMessage) {
	if c.Written == nil {
		c.Written = map[string]string{}
	}
	if s, ok := jsonString(v); ok {
		c.Written[key] = strings.TrimSpace(s)
		return
	}
	c.Written[key] = compact(v)
}

// envValues picks the non-empty CLOUDLINE_ entries of environ; the last of
// duplicates wins, as with os.Getenv on most systems.
func envValues(environ []string) map[string]string {
	m := map[string]string{}
	for _, kv := range environ {
		k, v, ok := strings.Cut(kv, "=")
		if ok && strings.HasPrefix(k, EnvPrefix) && v != "" {
			m[k] = v
		}
	}
	return m
}

// compact renders a JSON value on one line for messages.
func compact(v json.RawMessage) string {
	var b bytes.Buffer
	if err := json.Compact(&b, v); err != nil {
		return string(v)
	}
	return b.String()
}

// show renders a typed config value for messages.
func show(v any) string {
	if s, ok := v.(string); ok && s != "" {
		return s
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

// LoadConfig reads <resourceDir>/kernel.json and returns ParseConfig of its
// metadata.cloudline with environ's overrides. If kernel.json cannot be read
// it returns the error together with the defaults plus environ's
// overrides, so a caller may warn and carry on.
func LoadConfig(resourceDir string, environ []string) (Config, []string, error) {
	spec, err := ReadSpec(resourceDir)
	if err != nil {
		c, w := ParseConfig(nil, environ)
		return c, w, fmt.Errorf("load cloudline config: %w", err)
	}
	c, w := ParseConfig(spec.Metadata[MetaConfig], environ)
	return c, w, nil
}

// SetValue validates a KEY=VALUE setting given on the command line and
// returns the typed value to store under metadata.cloudline[key]: durations
// as strings like "3s", numbers as numbers, booleans as booleans, lists as
// arrays. Unlike ParseConfig, anything wrong is an error.
func SetValue(key, value string) (any, error) {
	key = strings.ToLower(strings.TrimSpace(key))
	f := fieldByKey(key)
	if f == nil {
		return nil, fmt.Errorf("unknown key %q (known keys: %s)", key, strings.Join(ConfigKeys(), ", "))
	}
	raw, err := json.Marshal(value)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", key, err)
	}
	c := DefaultConfig()
	notes, err := f.set(&c, raw)
	if err != nil {
		return nil, fmt.Errorf("%s=%s: %s", key, value, strings.TrimPrefix(err.Error(), errWant.Error()+": "))
	}
	if len(notes) > 0 {
		return nil, fmt.Errorf("%s=%s: %s", key, value, strings.Join(notes, "; "))
	}
	if keptAsWritten[key] {
		if _, err := strconv.ParseUint(strings.TrimSpace(value), 10, 64); err != nil {
			return strings.TrimSpace(value), nil
		}
	}
	return f.get(c), nil
}

// keptAsWritten are the keys whose value SetValue stores as the user wrote
// it once checked ("4MB", not 4000000): the notes quote a configured limit
// as written, and 4000000 is no way to read 4MB.
var keptAsWritten = map[string]bool{"dataset_size": true}

// validGlobs drops the patterns filepath.Match rejects, saying which.
func validGlobs(globs []string) (ok []string, notes []string) {
	ok = []string{}
	for _, g := range globs {
		if _, err := filepath.Match(g, ""); errors.Is(err, filepath.ErrBadPattern) {
			notes = append(notes, fmt.Sprintf("bad glob %q ignored", g))
			continue
		}
		ok = append(ok, g)
	}
	return ok, notes
}
