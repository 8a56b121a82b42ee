package kernelspec

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
)

// field is one configuration key: set parses a JSON value into c (notes
// are parts of the value that were dropped, like an unknown rule id), get
// returns the typed value as it is written to kernel.json.
type field struct {
	key string
	set func(c *Config, v json.RawMessage) (notes []string, err error)
	get func(c Config) any
}

func fieldByKey(key string) *field {
	for i := range fields {
		if fields[i].key == key {
			return &fields[i]
		}
	}
	return nil
}

var fields = []field{
	{"training_time", func(c *Config, v json.RawMessage) ([]string, error) {
		d, err := parseDuration(v)
		if err == nil && d <= 0 {
			err = fmt.Errorf("%w: want a duration above zero", errWant)
		}
		c.TrainingTime = d
		return nil, err
	}, func(c Config) any { return FormatDuration(c.TrainingTime) }},

	{"live_after", func(c *Config, v json.RawMessage) ([]string, error) {
		d, err := parseDuration(v)
		if err == nil && d <= 0 {
			err = fmt.Errorf("%w: want a duration above zero", errWant)
		}
		c.LiveAfter = d
		return nil, err
	}, func(c Config) any { return FormatDuration(c.LiveAfter) }},

	{"memory_fraction", func(c *Config, v json.RawMessage) ([]string, error) {
		f, err := parseFloat(v)
		if err == nil && (f <= 0 || f > 1) {
			err = fmt.Errorf("%w: want a fraction above 0 and at most 1", errWant)
		}
		c.MemoryFraction = f
		return nil, err
	}, func(c Config) any { return c.MemoryFraction }},

	{"dataset_size", func(c *Config, v json.RawMessage) ([]string, error) {
		n, err := parseSize(v)
		c.DatasetSize = n
		return nil, err
	}, func(c Config) any { return c.DatasetSize }},

	{"disk_free_fraction", func(c *Config, v json.RawMessage) ([]string, error) {
		f, err := parseFloat(v)
		if err == nil && (f < 0 || f >= 1) {
			err = fmt.Errorf("%w: want a fraction of at least 0 and below 1", errWant)
		}
		c.DiskFreeFraction = f
		return nil, err
	}, func(c Config) any { return c.DiskFreeFraction }},

	{"sensitive", func(c *Config, v json.RawMessage) ([]string, error) {
		b, err := parseBool(v)
		c.Sensitive = b
		return nil, err
	}, func(c Config) any { return c.Sensitive }},

	{"sensitive_paths", func(c *Config, v json.RawMessage) ([]string, error) {
		globs, err := parseList(v)
		if err != nil {
			return nil, err
		}
		var notes []string
		c.SensitivePaths, notes = validGlobs(globs)
		return notes, nil
	}, func(c Config) any { return nonNil(c.SensitivePaths) }},

	{"stable_runs", func(c *Config, v json.RawMessage) ([]string, error) {
		n, err := parseInt(v)
		if err == nil && n < 2 {
			err = fmt.Errorf("%w: want a whole number of at least 2", errWant)
		}
		c.StableRuns = n
		return nil, err
	}, func(c Config) any { return c.StableRuns }},

	{"cloud", func(c *Config, v json.RawMessage) ([]string, error) {
		s, ok := jsonString(v)
		s = strings.ToLower(strings.TrimSpace(s))
		if !ok || !slices.Contains(Clouds, s) {
			return nil, fmt.Errorf("%w: want one of %s", errWant, strings.Join(Clouds, ", "))
		}
		c.Cloud = s
		return nil, nil
	}, func(c Config) any {
		if c.Cloud == "" {
			return "the cloud the kernel runs on, else azure"
		}
		return c.Cloud
	}},

	{"rules_off", func(c *Config, v json.RawMessage) ([]string, error) {
		ids, err := parseList(v)
		if err != nil {
			return nil, err
		}
		var notes []string
		c.RulesOff = []string{}
		for _, id := range ids {
			id = strings.ToLower(id)
			if !slices.Contains(RuleIDs, id) {
				notes = append(notes, fmt.Sprintf("unknown rule id %q ignored (rule ids: %s)", id, strings.Join(RuleIDs, ", ")))
				continue
			}
			if !slices.Contains(c.RulesOff, id) {
				c.RulesOff = append(c.RulesOff, id)
			}
		}
		return notes, nil
	}, func(c Config) any { return nonNil(c.RulesOff) }},

	{"history", func(c *Config, v json.RawMessage) ([]string, error) {
		s, ok := jsonString(v)
		if !ok {
			return nil, fmt.Errorf("%w: want a file path, \"off\" or \"\"", errWant)
		}
		c.History = strings.TrimSpace(s)
		if strings.EqualFold(c.History, "off") {
			c.History = "off"
		}
		return nil, nil
	}, func(c Config) any { return c.History }},

	{"cooldown", func(c *Config, v json.RawMessage) ([]string, error) {
		d, err := parseDuration(v)
		if err == nil && d < 0 {
			err = fmt.Errorf("%w: want a duration of zero or more", errWant)
		}
		c.Cooldown = d
		return nil, err
	}, func(c Config) any { return FormatDuration(c.Cooldown) }},
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
