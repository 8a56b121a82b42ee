package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/cloudline/cloudline/cellwatch"
	"github.com/cloudline/cloudline/cloud"
	"github.com/cloudline/cloudline/kernelspec"
)

const jobSynopsis = "cloudline job NOTEBOOK [--cloud azure|aws|gcp] [-o FILE] [--history FILE] [--python PATH] [--bucket NAME] [--role ARN] [--region R]"

// jobSuffix is the default job file name's ending per cloud.
var jobSuffix = map[string]string{"azure": ".azureml.yml", "aws": ".sagemaker.json", "gcp": ".vertex.yml"}

// envSuffix is the environment file's ending: a conda file for Azure ML,
// a pip requirements file for the others.
var envSuffix = map[string]string{"azure": ".conda.yml", "aws": ".requirements.txt", "gcp": ".requirements.txt"}

func runJob(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if err := job(ctx, args, stdout, stderr); err != nil {
		return fail(stderr, "job", err)
	}
	return 0
}

// jobFlags are the options of `cloudline job`.
type jobFlags struct {
	cloud, out, history, python, bucket, role, region string
}

// parseJob reads the flags and the notebook's absolute path.
func parseJob(args []string, stderr io.Writer) (jobFlags, string, error) {
	fs := flag.NewFlagSet("cloudline job", flag.ContinueOnError)
	var f jobFlags
	fs.StringVar(&f.cloud, "cloud", "", "azure, aws or gcp (default: the kernelspec's cloud, else the cloud this runs on, else azure)")
	fs.StringVar(&f.out, "o", "", "job `FILE` (default: beside the notebook, NAME.azureml.yml, NAME.sagemaker.json or NAME.vertex.yml)")
	fs.StringVar(&f.history, "history", "", "history `FILE` (default: the kernelspec's, else $XDG_STATE_HOME/cloudline/history.jsonl)")
	fs.StringVar(&f.python, "python", "", "interpreter `PATH` whose packages are pinned (default: the one the notebook's kernelspec runs, else python3)")
	fs.StringVar(&f.bucket, "bucket", "", "S3 or Cloud Storage bucket `NAME` for the uploads (default: a placeholder)")
	fs.StringVar(&f.role, "role", "", "AWS: SageMaker execution role `ARN` (default: a placeholder)")
	fs.StringVar(&f.region, "region", "", "AWS: region of the training image (default us-east-1)")
	pos, err := parseArgs(fs, args, stderr, jobSynopsis)
	if err != nil {
		return f, "", err
	}
	if len(pos) != 1 {
		return f, "", fmt.Errorf("want one notebook (usage: %s)", jobSynopsis)
	}
	if f.cloud != "" && jobSuffix[f.cloud] == "" {
		return f, "", fmt.Errorf("--cloud %q: want azure, aws or gcp", f.cloud)
	}
	nbPath, err := filepath.Abs(pos[0])
	if err != nil {
		return f, "", fmt.Errorf("notebook: %w", err)
	}
	return f, nbPath, nil
}

func job(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	f, nbPath, err := parseJob(args, stderr)
	if err != nil {
		return err
	}
	kernelName, err := readNotebookKernel(nbPath)
	if err != nil {
		return err
	}
	js := findJobSpec(ctx, kernelName)
	vendor := f.cloud
	if vendor == "" {
		if vendor = cloud.VendorFor(js.cloud, cloud.Detect(cloud.Env{})); jobSuffix[vendor] == "" {
			vendor = "azure"
		}
	}
	recs, err := notebookHistory(f.history, js, nbPath)
	if err != nil {
		return err
	}
	python := cmp(f.python, js.python, "python3")
	pyVersion, pins, err := interpreterPins(ctx, python)
	if err != nil {
		return err
	}
	out, reqFile, err := jobPaths(f.out, nbPath, vendor)
	if err != nil {
		return err
	}
	jobDir := filepath.Dir(out)
	j := cloud.Job{
		Name:     strings.TrimSuffix(filepath.Base(nbPath), filepath.Ext(nbPath)),
		Notebook: filepath.Base(nbPath),
		Code:     relTo(jobDir, filepath.Dir(nbPath)),
		Python:   pyVersion,
		Pins:     pins,
		ReqFile:  reqFile,
		Inputs:   jobInputs(recs, filepath.Dir(nbPath), jobDir, python),
		Need:     cloud.NeedOf(recs, js.fraction),
		Written:  time.Now(),
		Bucket:   f.bucket,
		Role:     f.role,
		Region:   f.region,
	}
	return writeJob(stdout, vendor, j, out)
}

// jobPaths are the job file (absolute) and the environment file's name
// beside it: NAME.azureml.yml and NAME.conda.yml, say.
func jobPaths(out, nbPath, vendor string) (string, string, error) {
	if out == "" {
		out = strings.TrimSuffix(nbPath, filepath.Ext(nbPath)) + jobSuffix[vendor]
	}
	out, err := filepath.Abs(out)
	if err != nil {
		return "", "", fmt.Errorf("-o: %w", err)
	}
	base := filepath.Base(out)
	stem, ok := strings.CutSuffix(base, jobSuffix[vendor])
	if !ok || stem == "" {
		stem = strings.TrimSuffix(base, filepath.Ext(base))
	}
	return out, stem + envSuffix[vendor], nil
}

// writeJob renders j, writes the job and its environment file, and tells
// what was written and what to run next.
func writeJob(stdout io.Writer, vendor string, j cloud.Job, out string) error {
	jobDir := filepath.Dir(out)
	files, err := cloud.Render(vendor, j, filepath.Base(out))
	if err != nil {
		return err
	}
	if err := os.MkdirAll(jobDir, 0o755); err != nil {
		return fmt.Errorf("job folder: %w", err)
	}
	if err := os.WriteFile(out, files.Job, 0o644); err != nil {
		return fmt.Errorf("write job: %w", err)
	}
	if err := os.WriteFile(filepath.Join(jobDir, j.ReqFile), files.Env, 0o644); err != nil {
		return fmt.Errorf("write environment: %w", err)
	}
	size, _ := cloud.Fit(vendor, j.Need)
	sized := "sized from " + cloud.Cells(j.Need.Cells)
	if !j.Need.Measured() {
		sized = "no run in the history: default size"
	}
	fmt.Fprintf(stdout, "wrote %s (%s, time limit %s; %s) and %s (%d pinned packages)\n",
		out, size, cloud.Hours(cloud.TimeLimit(j.Need)), sized, filepath.Join(jobDir, j.ReqFile), len(j.Pins))
	fmt.Fprintf(stdout, "then, from %s:\n", jobDir)
	for _, s := range files.Steps {
		fmt.Fprintf(stdout, "  %s\n", s)
	}
	return nil
}

// readNotebookKernel checks that path is a notebook and returns the name of
// the kernelspec it was saved with ("" if none).
func readNotebookKernel(path string) (string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("read notebook: %w", err)
	}
	var nb struct {
		Cells    []json.RawMessage `json:"cells"`
		Metadata struct {
			Kernelspec struct {
				Name string `json:"name"`
			} `json:"kernelspec"`
		} `json:"metadata"`
	}
	if err := json.Unmarshal(b, &nb); err != nil || nb.Cells == nil {
		return "", fmt.Errorf("%s is not a Jupyter notebook (nbformat 4 JSON with cells)", filepath.Base(path))
	}
	return nb.Metadata.Kernelspec.Name, nil
}

// jobSpec is what the notebook's kernelspec tells a job: its interpreter,
// memory_fraction, history file and an explicitly configured cloud.
type jobSpec struct {
	python, history, cloud string
	fraction               float64
}

// findJobSpec reads the notebook's kernelspec when it is installed; a
// missing one leaves the defaults.
func findJobSpec(ctx context.Context, name string) jobSpec {
	js := jobSpec{fraction: cloud.DefaultMemoryFraction}
	if name == "" {
		return js
	}
	spec, err := kernelspec.Find(ctx, name, kernelspec.Options{})
	if err != nil {
		return js
	}
	argv := spec.Argv
	if spec.IsCloudline() {
		if i := slices.Index(argv, "--"); i >= 0 {
			argv = argv[i+1:]
		}
		if cfg, _, err := kernelspec.LoadConfig(spec.Dir, os.Environ()); err == nil {
			js.fraction, js.history = cfg.MemoryFraction, cfg.History
		}
		js.cloud = configuredCloud(spec)
	}
	if len(argv) > 0 && filepath.IsAbs(argv[0]) {
		js.python = argv[0]
	}
	return js
}

// configuredCloud is the cloud the spec's metadata (or CLOUDLINE_CLOUD)
// names explicitly, "" when left to the default.
func configuredCloud(spec *kernelspec.Spec) string {
	if v := os.Getenv(kernelspec.EnvName("cloud")); v != "" {
		return v
	}
	var cfg struct {
		Cloud string `json:"cloud"`
	}
	_ = json.Unmarshal(spec.Metadata[kernelspec.MetaConfig], &cfg) // absent or odd: not configured
	if cfg.Cloud == "generic" {
		return ""
	}
	return cfg.Cloud
}

// notebookHistory reads the history's records of the notebook at nbPath.
// The history names a notebook as JPY_SESSION_NAME did: its path, absolute
// or relative to the server's root.
func notebookHistory(file string, js jobSpec, nbPath string) ([]cellwatch.Record, error) {
	path := cmp(file, js.history, cellwatch.DefaultHistoryPath())
	if path == "off" {
		return nil, nil
	}
	all, err := cellwatch.ReadHistory(path, "", 0)
	if err != nil {
		return nil, fmt.Errorf("history: %w", err)
	}
	var recs []cellwatch.Record
	for _, r := range all {
		if sameNotebook(r.Notebook, nbPath) && r.Status != cellwatch.StatusRunning {
			recs = append(recs, r)
		}
	}
	return recs, nil
}

func sameNotebook(name, abs string) bool {
	switch {
	case name == "":
		return false
	case filepath.IsAbs(name):
		return filepath.Clean(name) == abs
	}
	return strings.HasSuffix(abs, string(filepath.Separator)+filepath.Clean(name))
}

// cmp is the first non-empty string.
func cmp(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}

// relTo is p relative to dir when that is possible, else p.
func relTo(dir, p string) string {
	if r, err := filepath.Rel(dir, p); err == nil {
		return r
	}
	return p
}
