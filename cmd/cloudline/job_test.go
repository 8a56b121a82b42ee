package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cloudline/cloudline/cellwatch"
	"github.com/cloudline/cloudline/cloud"
)

// jobFixture is a folder with a notebook, its data, a fake interpreter
// and a history holding one 40 GiB run of it.
func jobFixture(t *testing.T, withHistory bool) (dir, nb, hist, python string) {
	t.Helper()
	dir = t.TempDir()
	t.Setenv("JUPYTER_PATH", filepath.Join(dir, "nojupyter"))
	t.Setenv("JUPYTER_DATA_DIR", filepath.Join(dir, "nojupyter"))
	nb = filepath.Join(dir, "train model.ipynb")
	write(t, nb, `{"cells": [], "metadata": {"kernelspec": {"name": "python3-cloudline"}}, "nbformat": 4, "nbformat_minor": 5}`)
	write(t, filepath.Join(dir, "data", "train.csv"), "a,b\n1,2\n")
	python = filepath.Join(dir, "python")
	write(t, python, `#!/bin/sh
echo '{"python": "3.11", "packages": [["numpy", "2.4.6", false], ["pip", "25.0", false], ["mylib", "0.1", true], ["papermill", "2.7.0", false]]}'
`)
	os.Chmod(python, 0o755)
	hist = filepath.Join(dir, "history.jsonl")
	if withHistory {
		for _, r := range []cellwatch.Record{
			{Session: "s1", Notebook: nb, Status: cellwatch.StatusOK, PeakRSS: 40 * cloud.GiB, Wall: 50 * time.Minute, CPU: 98 * time.Minute,
				CodePaths: []cellwatch.FileUse{{Path: "data/train.csv", Bytes: 8}}, Machine: cellwatch.Machine{Cores: 8}},
			{Session: "s1", Notebook: "elsewhere/train model.ipynb", Status: cellwatch.StatusOK, PeakRSS: 900 * cloud.GiB},
		} {
			if err := cellwatch.AppendHistory(hist, r, 0); err != nil {
				t.Fatal(err)
			}
		}
	}
	return dir, nb, hist, python
}

func write(t *testing.T, path, s string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(s), 0o644); err != nil {
		t.Fatal(err)
	}
}

func runJobCmd(t *testing.T, args ...string) (string, string, int) {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(context.Background(), append([]string{"job"}, args...), &out, &errb)
	return out.String(), errb.String(), code
}

func TestJobAzureFromHistory(t *testing.T) {
	dir, nb, hist, python := jobFixture(t, true)
	out, errs, code := runJobCmd(t, nb, "--history", hist, "--python", python)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	job := read(t, filepath.Join(dir, "train model.azureml.yml"))
	for _, want := range []string{
		"instance_type: Standard_E8s_v5", "sized from 1 measured cell: peak memory 40 GiB (needs about 50 GiB), 2 vCPU kept busy", "longest run 50m",
		`code: "."`, "type: uri_file", `path: "data/train.csv"`, "-k python3",
		"ln -sfn ${{inputs.data_train_csv}} data/train.csv",
		"timeout: 7200", // twice the 50 minutes run, in whole hours
		`conda_file: "train model.conda.yml"`,
	} {
		if !strings.Contains(job, want) {
			t.Errorf("job lacks %q:\n%s", want, job)
		}
	}
	env := read(t, filepath.Join(dir, "train model.conda.yml"))
	if !strings.Contains(env, `"numpy==2.4.6"`) || !strings.Contains(env, `"ipykernel"`) || strings.Contains(env, "mylib") || strings.Contains(env, "pip==") {
		t.Errorf("conda file: pins wrong (want numpy pinned, ipykernel added, no local or installer packages):\n%s", env)
	}
	if !strings.Contains(out, "az ml job create --file 'train model.azureml.yml'") {
		t.Errorf("stdout lacks the submit command:\n%s", out)
	}
}

func TestJobAWSAndGCP(t *testing.T) {
	dir, nb, hist, python := jobFixture(t, true)
	if _, errs, code := runJobCmd(t, nb, "--history", hist, "--python", python, "--cloud", "aws", "--bucket", "team-ml"); code != 0 {
		t.Fatalf("aws: exit %d: %s", code, errs)
	}
	var req struct {
		TrainingJobName string
		ResourceConfig  struct{ InstanceType string }
		InputDataConfig []struct {
			ChannelName string
			DataSource  struct{ S3DataSource struct{ S3Uri string } }
		}
		StoppingCondition struct{ MaxRuntimeInSeconds int }
		Environment       map[string]string
	}
	if err := json.Unmarshal([]byte(read(t, filepath.Join(dir, "train model.sagemaker.json"))), &req); err != nil {
		t.Fatal(err)
	}
	if req.ResourceConfig.InstanceType != "ml.r5.2xlarge" || len(req.InputDataConfig) != 3 ||
		req.InputDataConfig[2].DataSource.S3DataSource.S3Uri != "s3://team-ml/cloudline/train model/inputs/data_train_csv/" ||
		req.Environment["CLOUDLINE_LOCAL_DATA_TRAIN_CSV"] != "data/train.csv" || req.StoppingCondition.MaxRuntimeInSeconds != 7200 ||
		!strings.HasPrefix(req.TrainingJobName, "train-model-") {
		t.Errorf("sagemaker request: %+v", req)
	}
	if _, errs, code := runJobCmd(t, nb, "--history", hist, "--python", python, "--cloud", "gcp", "-o", filepath.Join(dir, "jobs", "v.yml")); code != 0 {
		t.Fatalf("gcp: exit %d: %s", code, errs)
	}
	spec := read(t, filepath.Join(dir, "jobs", "v.yml"))
	for _, want := range []string{"machineType: n2-highmem-8", "timeout: 7200s", `value: ".."`, "value: \"../data/train.csv\"", "requirements/v.requirements.txt"} {
		if !strings.Contains(spec, want) {
			t.Errorf("vertex spec lacks %q:\n%s", want, spec)
		}
	}
	read(t, filepath.Join(dir, "jobs", "v.requirements.txt"))
}

func TestJobWithoutHistory(t *testing.T) {
	dir, nb, _, python := jobFixture(t, false)
	if _, errs, code := runJobCmd(t, nb, "--history", filepath.Join(dir, "none.jsonl"), "--python", python); code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	job := read(t, filepath.Join(dir, "train model.azureml.yml"))
	if !strings.Contains(job, "# no run of this notebook is in the history yet: default size Standard_D4s_v5") ||
		!strings.Contains(job, "instance_type: Standard_D4s_v5") || strings.Contains(job, "inputs:") {
		t.Errorf("default job:\n%s", job)
	}
}

func TestJobBadInput(t *testing.T) {
	dir, nb, _, python := jobFixture(t, false)
	write(t, filepath.Join(dir, "x.ipynb"), `{"not": "a notebook"}`)
	hist := []string{"--history", filepath.Join(dir, "h.jsonl"), "--python", python}
	for _, args := range [][]string{
		hist, append([]string{nb, nb}, hist...), append([]string{filepath.Join(dir, "missing.ipynb")}, hist...),
		append([]string{filepath.Join(dir, "x.ipynb")}, hist...), append([]string{nb, "--cloud", "ibm"}, hist...),
		{nb, "--history", filepath.Join(dir, "h.jsonl"), "--python", filepath.Join(dir, "nopython")},
		append([]string{nb, "--bogus"}, hist...),
	} {
		_, errs, code := runJobCmd(t, args...)
		if code != 2 || strings.Count(errs, "\n") != 1 || !strings.HasPrefix(errs, "cloudline job: ") {
			t.Errorf("%q: exit %d, stderr %q; want 2 and one line", args, code, errs)
		}
	}
}

func read(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
