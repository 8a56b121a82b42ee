package kernelspec

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestParseConfigKeys(t *testing.T) {
	def := DefaultConfig()
	tests := []struct {
		name string
		json string   // metadata.cloudline
		env  []string // environ
		want func(c *Config)
		warn []string // each must appear in one warning, in order; nil = no warnings
	}{
		{"defaults", ``, nil, func(c *Config) {}, nil},
		{"null", `null`, nil, func(c *Config) {}, nil},
		{"not an object", `[1]`, nil, func(c *Config) {}, []string{"metadata.cloudline: want an object, got a list; using the defaults"}},
		{"unknown key", `{"trainng_time":"1s"}`, nil, func(c *Config) {}, []string{`unknown key "trainng_time"`}},

		{"training_time string", `{"training_time":"1h30m"}`, nil, func(c *Config) { c.TrainingTime = 90 * time.Minute }, nil},
		{"training_time seconds", `{"training_time":90}`, nil, func(c *Config) { c.TrainingTime = 90 * time.Second }, nil},
		{"training_time numeric string", `{"training_time":"2.5"}`, nil, func(c *Config) { c.TrainingTime = 2500 * time.Millisecond }, nil},
		{"training_time zero", `{"training_time":"0s"}`, nil, func(c *Config) {},
			[]string{`metadata.cloudline.training_time: bad value "0s" (want a duration above zero); using the default 1h`}},
		{"training_time garbage", `{"training_time":"soon"}`, nil, func(c *Config) {},
			[]string{`metadata.cloudline.training_time: bad value "soon" (want a duration like "90s"`, `); using the default 1h`}},
		{"training_time bool", `{"training_time":true}`, nil, func(c *Config) {}, []string{`training_time: bad value true (want a duration`}},
		{"training_time huge", `{"training_time":1e300}`, nil, func(c *Config) {}, []string{`training_time: bad value 1e300 (duration out of range); using the default 1h`}},
		{"training_time env", `{"training_time":"2h"}`, []string{"CLOUDLINE_TRAINING_TIME=3s"}, func(c *Config) { c.TrainingTime = 3 * time.Second }, nil},
		{"training_time bad env", `{"training_time":"2h"}`, []string{"CLOUDLINE_TRAINING_TIME=-3s"}, func(c *Config) { c.TrainingTime = 2 * time.Hour },
			[]string{`CLOUDLINE_TRAINING_TIME: bad value "-3s" (want a duration above zero); using kernel.json's 2h`}},

		{"live_after", `{"live_after":"5s"}`, nil, func(c *Config) { c.LiveAfter = 5 * time.Second }, nil},
		{"live_after negative", `{"live_after":-1}`, nil, func(c *Config) {}, []string{`live_after: bad value -1 (want a duration above zero); using the default 1m`}},
		{"live_after env", ``, []string{"CLOUDLINE_LIVE_AFTER=10"}, func(c *Config) { c.LiveAfter = 10 * time.Second }, nil},

		{"memory_fraction", `{"memory_fraction":0.5}`, nil, func(c *Config) { c.MemoryFraction = 0.5 }, nil},
		{"memory_fraction one", `{"memory_fraction":"1"}`, nil, func(c *Config) { c.MemoryFraction = 1 }, nil},
		{"memory_fraction zero", `{"memory_fraction":0}`, nil, func(c *Config) {}, []string{`memory_fraction: bad value 0 (want a fraction above 0 and at most 1); using the default 0.8`}},
		{"memory_fraction text", `{"memory_fraction":"most"}`, nil, func(c *Config) {}, []string{`memory_fraction: bad value "most" (want a number)`}},
		{"memory_fraction NaN env", ``, []string{"CLOUDLINE_MEMORY_FRACTION=NaN"}, func(c *Config) {}, []string{`CLOUDLINE_MEMORY_FRACTION: bad value "NaN" (want a finite number); using the default 0.8`}},
		{"memory_fraction env", ``, []string{"CLOUDLINE_MEMORY_FRACTION=0.9"}, func(c *Config) { c.MemoryFraction = 0.9 }, nil},

		{"dataset_size number", `{"dataset_size":1000}`, nil, func(c *Config) { c.DatasetSize = 1000 }, nil},
		{"dataset_size MB", `{"dataset_size":"20MB"}`, nil, func(c *Config) { c.DatasetSize = 20_000_000 }, nil},
		{"dataset_size GiB", `{"dataset_size":"4GiB"}`, nil, func(c *Config) { c.DatasetSize = 4 << 30 }, nil},
		{"dataset_size k", `{"dataset_size":"512k"}`, nil, func(c *Config) { c.DatasetSize = 512_000 }, nil},
		{"dataset_size unit", `{"dataset_size":"3 bananas"}`, nil, func(c *Config) {}, []string{`dataset_size: bad value "3 bananas" (unknown unit "bananas", use B, kB`, `using the default 0`}},
		{"dataset_size negative", `{"dataset_size":-5}`, nil, func(c *Config) {}, []string{`dataset_size: bad value -5 (a size cannot be negative)`}},
		{"dataset_size env", ``, []string{"CLOUDLINE_DATASET_SIZE=1.5GB"}, func(c *Config) { c.DatasetSize = 1_500_000_000 }, nil},

		{"disk_free_fraction", `{"disk_free_fraction":0}`, nil, func(c *Config) { c.DiskFreeFraction = 0 }, nil},
		{"disk_free_fraction one", `{"disk_free_fraction":1}`, nil, func(c *Config) {}, []string{`disk_free_fraction: bad value 1 (want a fraction of at least 0 and below 1); using the default 0.1`}},
		{"disk_free_fraction env", ``, []string{"CLOUDLINE_DISK_FREE_FRACTION=0.25"}, func(c *Config) { c.DiskFreeFraction = 0.25 }, nil},

		{"sensitive", `{"sensitive":true}`, nil, func(c *Config) { c.Sensitive = true }, nil},
		{"sensitive string", `{"sensitive":"true"}`, nil, func(c *Config) { c.Sensitive = true }, nil},
		{"sensitive bad", `{"sensitive":"maybe"}`, nil, func(c *Config) {}, []string{`sensitive: bad value "maybe" (want true or false); using the default false`}},
		{"sensitive env off", `{"sensitive":true}`, []string{"CLOUDLINE_SENSITIVE=false"}, func(c *Config) { c.Sensitive = false }, nil},

		{"sensitive_paths string", `{"sensitive_paths":"data/pii/*, *.parquet ,"}`, nil, func(c *Config) { c.SensitivePaths = []string{"data/pii/*", "*.parquet"} }, nil},
		{"sensitive_paths array", `{"sensitive_paths":["a/*","b"]}`, nil, func(c *Config) { c.SensitivePaths = []string{"a/*", "b"} }, nil},
		{"sensitive_paths bad glob", `{"sensitive_paths":["a[","b"]}`, nil, func(c *Config) { c.SensitivePaths = []string{"b"} }, []string{`sensitive_paths: bad glob "a[" ignored`}},
		{"sensitive_paths number", `{"sensitive_paths":3}`, nil, func(c *Config) {}, []string{`sensitive_paths: bad value 3 (want a list of strings or a comma-separated string); using the default []`}},
		{"sensitive_paths env", ``, []string{"CLOUDLINE_SENSITIVE_PATHS=x,y"}, func(c *Config) { c.SensitivePaths = []string{"x", "y"} }, nil},

		{"stable_runs", `{"stable_runs":5}`, nil, func(c *Config) { c.StableRuns = 5 }, nil},
		{"stable_runs one", `{"stable_runs":1}`, nil, func(c *Config) {}, []string{`stable_runs: bad value 1 (want a whole number of at least 2); using the default 3`}},
		{"stable_runs fraction", `{"stable_runs":2.5}`, nil, func(c *Config) {}, []string{`stable_runs: bad value 2.5 (want a whole number)`}},
		{"stable_runs env", ``, []string{"CLOUDLINE_STABLE_RUNS=4"}, func(c *Config) { c.StableRuns = 4 }, nil},

		{"cloud", `{"cloud":"AWS"}`, nil, func(c *Config) { c.Cloud = "aws" }, nil},
		{"cloud bad", `{"cloud":"ibm"}`, nil, func(c *Config) {}, []string{`cloud: bad value "ibm" (want one of azure, aws, gcp, generic); using the default the cloud the kernel runs on, else azure`}},
		{"cloud env", `{"cloud":"aws"}`, []string{"CLOUDLINE_CLOUD=gcp"}, func(c *Config) { c.Cloud = "gcp" }, nil},

		{"rules_off string", `{"rules_off":"long-training, local-serving"}`, nil, func(c *Config) { c.RulesOff = []string{"long-training", "local-serving"} }, nil},
		{"rules_off array", `{"rules_off":["kernel-died","kernel-died"]}`, nil, func(c *Config) { c.RulesOff = []string{"kernel-died"} }, nil},
		{"rules_off unknown", `{"rules_off":["long-trainig","disk-space"]}`, nil, func(c *Config) { c.RulesOff = []string{"disk-space"} },
			[]string{`metadata.cloudline.rules_off: unknown rule id "long-trainig" ignored`}},
		{"rules_off object", `{"rules_off":{}}`, nil, func(c *Config) {}, []string{`rules_off: bad value {} (want a list of strings`}},
		{"rules_off env", ``, []string{"CLOUDLINE_RULES_OFF=stable-model"}, func(c *Config) { c.RulesOff = []string{"stable-model"} }, nil},

		{"history path", `{"history":"runs/h.jsonl"}`, nil, func(c *Config) { c.History = "runs/h.jsonl" }, nil},
		{"history off", `{"history":"OFF"}`, nil, func(c *Config) { c.History = "off" }, nil},
		{"history number", `{"history":1}`, nil, func(c *Config) {}, []string{`history: bad value 1 (want a file path, "off" or ""); using the default ""`}},
		{"history env", ``, []string{"CLOUDLINE_HISTORY=off"}, func(c *Config) { c.History = "off" }, nil},

		{"cooldown zero", `{"cooldown":0}`, nil, func(c *Config) { c.Cooldown = 0 }, nil},
		{"cooldown", `{"cooldown":"10m"}`, nil, func(c *Config) { c.Cooldown = 10 * time.Minute }, nil},
		{"cooldown negative", `{"cooldown":"-1m"}`, nil, func(c *Config) {}, []string{`cooldown: bad value "-1m" (want a duration of zero or more); using the default 1h`}},
		{"cooldown env", ``, []string{"CLOUDLINE_COOLDOWN=0"}, func(c *Config) { c.Cooldown = 0 }, nil},

		{"empty env ignored, others kept", `{"stable_runs":7}`, []string{"CLOUDLINE_STABLE_RUNS=", "CLOUDLINE_DEBUG=1", "PATH=/bin"},
			func(c *Config) { c.StableRuns = 7 }, nil},
		{"one bad key spoils nothing else", `{"cloud":"x","stable_runs":9}`, nil, func(c *Config) { c.StableRuns = 9 }, []string{`cloud: bad value "x" (want one of`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			want := def
			tt.want(&want)
			got, warnings := ParseConfig(json.RawMessage(tt.json), tt.env)
			got.Written = nil // TestWritten covers it
			if !reflect.DeepEqual(got, want) {
				t.Errorf("config:\n got %+v\nwant %+v", got, want)
			}
			if len(warnings) != len(tt.warn) && !(len(tt.warn) > 0 && len(warnings) == 1) {
				t.Fatalf("warnings %q, want %d matching %q", warnings, len(tt.warn), tt.warn)
			}
			all := strings.Join(warnings, "\n")
			for _, w := range tt.warn {
				if !strings.Contains(all, w) {
					t.Errorf("warnings %q: want one containing %q", warnings, w)
				}
			}
		})
	}
}

func TestSetValue(t *testing.T) {
	tests := []struct {
		kv      string
		want    string // JSON of the typed value; "" = error
		errPart string
	}{
		{"training_time=3s", `"3s"`, ""},
		{"training_time=5400", `"1h30m"`, ""},
		{"TRAINING_TIME=2h", `"2h"`, ""},
		{"training_time=0", "", "want a duration above zero"},
		{"live_after=90s", `"1m30s"`, ""},
		{"memory_fraction=0.5", `0.5`, ""},
		{"memory_fraction=2", "", "at most 1"},
		{"dataset_size=20MB", `"20MB"`, ""},
		{"dataset_size= 4GiB", `"4GiB"`, ""},
		{"dataset_size=5000", `5000`, ""},
		{"dataset_size=lots", "", "dataset_size=lots"},
		{"disk_free_fraction=0.2", `0.2`, ""},
		{"sensitive=yes", `true`, ""},
		{"sensitive=perhaps", "", "want true or false"},
		{"sensitive_paths=a/*,b", `["a/*","b"]`, ""},
		{"sensitive_paths=a[", "", `bad glob "a["`},
		{"stable_runs=4", `4`, ""},
		{"stable_runs=x", "", "whole number"},
		{"cloud=gcp", `"gcp"`, ""},
		{"cloud=oracle", "", "want one of"},
		{"rules_off=kernel-died,local-serving", `["kernel-died","local-serving"]`, ""},
		{"rules_off=nope", "", `unknown rule id "nope"`},
		{"history=off", `"off"`, ""},
		{"history=", `""`, ""},
		{"cooldown=0", `"0s"`, ""},
		{"colour=blue", "", `unknown key "colour"`},
	}
	for _, tt := range tests {
		t.Run(tt.kv, func(t *testing.T) {
			k, v, _ := strings.Cut(tt.kv, "=")
			got, err := SetValue(k, v)
			if tt.want == "" {
				if err == nil || !strings.Contains(err.Error(), tt.errPart) {
					t.Fatalf("got %v, %v; want an error containing %q", got, err, tt.errPart)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			b, _ := json.Marshal(got)
			if string(b) != tt.want {
				t.Errorf("got %s, want %s", b, tt.want)
			}
			// What --set writes must parse back without warnings.
			raw, _ := json.Marshal(map[string]any{strings.ToLower(k): got})
			if _, w := ParseConfig(raw, nil); len(w) > 0 {
				t.Errorf("written value %s warns: %v", raw, w)
			}
		})
	}
}

func TestLoadConfig(t *testing.T) {
	dir := t.TempDir()
	body := `{"argv":["/bin/cloudline","kernel"],"metadata":{"cloudline":{"training_time":"2h","cloud":"gcp"},"cloudline_wraps":"python3"}}`
	if err := os.WriteFile(filepath.Join(dir, SpecFile), []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	c, w, err := LoadConfig(dir, []string{"CLOUDLINE_CLOUD=aws"})
	if err != nil || len(w) != 0 {
		t.Fatal(err, w)
	}
	if c.TrainingTime != 2*time.Hour || c.Cloud != "aws" {
		t.Errorf("config %+v", c)
	}

	c, _, err = LoadConfig(t.TempDir(), []string{"CLOUDLINE_STABLE_RUNS=6"})
	if err == nil || !strings.Contains(err.Error(), SpecFile) || c.StableRuns != 6 || c.Cloud != "" {
		t.Errorf("missing kernel.json: %+v, %v; want an error, defaults and env", c, err)
	}
}

func TestFormatDuration(t *testing.T) {
	for d, want := range map[time.Duration]string{
		time.Hour: "1h", 90 * time.Second: "1m30s", 90 * time.Minute: "1h30m", 10 * time.Second: "10s",
		10 * time.Minute: "10m", 0: "0s", time.Hour + 5*time.Second: "1h0m5s", 1500 * time.Millisecond: "1.5s",
	} {
		got := FormatDuration(d)
		if got != want {
			t.Errorf("FormatDuration(%v) = %q, want %q", d, got, want)
		}
		if back, err := time.ParseDuration(got); err != nil || back != d {
			t.Errorf("%q does not parse back to %v", got, d)
		}
	}
}

func TestParseBytes(t *testing.T) {
	tests := map[string]int64{
		"0": 0, "1000": 1000, "20MB": 20e6, "20mb": 20e6, "4GiB": 4 << 30, "4gi": 4 << 30, "512k": 512e3,
		"512KiB": 512 << 10, "1.5 GB": 1.5e9, "2TB": 2e12, "1PiB": 1 << 50, "7B": 7,
	}
	for in, want := range tests {
		if got, err := ParseBytes(in); err != nil || got != want {
			t.Errorf("ParseBytes(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "MB", "-1", "1..5k", "5 parsecs", "1e30PB", "NaN"} {
		if got, err := ParseBytes(bad); err == nil {
			t.Errorf("ParseBytes(%q) = %d, want an error", bad, got)
		}
	}
}

func FuzzParseConfig(f *testing.F) {
	f.Add([]byte(`{"training_time":"90s","dataset_size":"4GiB","rules_off":"kernel-died"}`), "CLOUDLINE_COOLDOWN=1m")
	f.Add([]byte(`[]`), "CLOUDLINE_SENSITIVE=yes")
	f.Fuzz(func(t *testing.T, raw []byte, env string) {
		c, _ := ParseConfig(raw, []string{env})
		if c.TrainingTime <= 0 || c.LiveAfter <= 0 || c.Cooldown < 0 || c.DatasetSize < 0 ||
			c.MemoryFraction <= 0 || c.MemoryFraction > 1 || c.DiskFreeFraction < 0 || c.DiskFreeFraction >= 1 ||
			c.StableRuns < 2 {
			t.Fatalf("out-of-range config from %q, %q: %+v", raw, env, c)
		}
		for _, id := range c.RulesOff {
			if !strings.Contains(strings.Join(RuleIDs, " "), id) {
				t.Fatalf("unknown rule id %q kept", id)
			}
		}
	})
}

func TestWritten(t *testing.T) {
	c, _ := ParseConfig(json.RawMessage(`{"dataset_size":"4MB","training_time":90,"cloud":"bogus"}`),
		[]string{"CLOUDLINE_LIVE_AFTER= 5s "})
	want := map[string]string{"dataset_size": "4MB", "training_time": "90", "live_after": "5s"}
	if !reflect.DeepEqual(c.Written, want) {
		t.Errorf("Written = %v, want %v", c.Written, want)
	}
	if got := c.WrittenOr("cooldown", "1h"); got != "1h" {
		t.Errorf("WrittenOr of an unset key = %q, want the default", got)
	}
}
