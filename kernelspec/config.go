package kernelspec

import "time"

// Config is cloudline's configuration for one kernel: the
// metadata.cloudline object of its kernel.json, overridden by CLOUDLINE_<KEY>
// environment variables. The zero value is not meaningful; start from
// DefaultConfig.
type Config struct {
	TrainingTime     time.Duration // training_time: a cell running longer is training that belongs in the cloud
	LiveAfter        time.Duration // live_after: cells running longer get a live status line
	MemoryFraction   float64       // memory_fraction: share of the effective memory limit that counts as pressure
	DatasetSize      int64         // dataset_size: bytes; 0 = judge data against free RAM and disk
	DiskFreeFraction float64       // disk_free_fraction: free share of the working dir's disk below which we warn
	Sensitive        bool          // sensitive: the kernelspec is for sensitive work
	SensitivePaths   []string      // sensitive_paths: globs of sensitive data
	StableRuns       int           // stable_runs: runs with steady metrics that count as stable
	Cloud            string        // cloud: azure | aws | gcp | generic; "" = the cloud the kernel runs on, else azure
	RulesOff         []string      // rules_off: rule ids that never fire
	History          string        // history: path of the history file, "off", or "" for the default
	Cooldown         time.Duration // cooldown: a rule is not repeated for the same notebook within this

	// Written holds each key set by kernel.json or the environment as the
	// user wrote it ("4MB", "90m"), so messages quote a limit in the
	// user's own form. Keys left at their default are absent.
	Written map[string]string
}

// WrittenOr returns the value of key as the user wrote it, or def when the
// key was not set.
func (c Config) WrittenOr(key, def string) string {
	if w, ok := c.Written[key]; ok && w != "" {
		return w
	}
	return def
}

// DefaultConfig returns the documented defaults.
func DefaultConfig() Config {
	return Config{
		TrainingTime:     time.Hour,
		LiveAfter:        60 * time.Second,
		MemoryFraction:   0.8,
		DiskFreeFraction: 0.1,
		StableRuns:       3,
		Cooldown:         time.Hour,
	}
}

// RuleOff reports whether the rule id is silenced by rules_off.
func (c Config) RuleOff(id string) bool {
	for _, r := range c.RulesOff {
		if r == id {
			return true
		}
	}
	return false
}
