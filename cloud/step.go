package cloud

import (
	"fmt"
	"strings"

	"github.com/cloudline/cloudline/human"
)

// VendorFor is the cloud whose services advice names: the configured one
// when set, else the one the kernel runs on, else Azure (the default of
// the article cloudline grew from).
func VendorFor(configured string, p Place) string {
	switch {
	case configured != "":
		return configured
	case p.Cloud != "":
		return p.Cloud
	}
	return "azure"
}

// jobNames name each vendor's job, as "writes ___".
var jobNames = map[string]string{
	"azure": "an Azure Machine Learning command job",
	"aws":   "a SageMaker training job",
	"gcp":   "a Vertex AI custom job",
}

// vmNames name a vendor's virtual machine, as "runs on ___".
var vmNames = map[string]string{"azure": "an Azure VM", "aws": "an EC2 instance", "gcp": "a Compute Engine VM"}

// Step is the next step a note proposes when a notebook outgrew the machine
// it ran on: which size it needs, where it runs now, and the command that
// writes its job.
type Step struct {
	Place    Place
	Vendor   string // cloud the step names (VendorFor)
	Need     Need
	Notebook string // the notebook's file name, for the command; "" = NOTEBOOK.ipynb
}

// Advise reports whether a note should be shown at all: not inside a cloud
// job, whose kernel is the job itself (history only).
func (p Place) Advise() bool { return p.Kind != KindJob }

// Command is the `cloudline job` command line for the step's notebook.
func (s Step) Command() string {
	nb := s.Notebook
	if nb == "" {
		nb = "NOTEBOOK.ipynb"
	}
	cmd := "cloudline job " + shellQuote(nb)
	if jobNames[s.Vendor] != "" && s.Vendor != "azure" {
		cmd += " --cloud " + s.Vendor
	}
	return cmd
}

// Text is the step in a sentence or two, in Markdown (the command in
// backticks) when md is set. Empty inside a cloud job and for a vendor
// without a size table (generic wording).
func (s Step) Text(md bool) string {
	vendor := s.Vendor
	if !s.Place.Advise() || jobNames[vendor] == "" {
		return ""
	}
	size, ok := Fit(vendor, s.Need)
	sizeText := size.String()
	if !ok {
		sizeText = "more than the largest single size, " + sizeText + ": split the work or distribute it"
	}
	cmd := s.Command()
	if md {
		cmd = "`" + cmd + "`"
	}
	needs := "It needs " + s.Need.NeedText() + ": " + sizeText + "."
	if !s.Need.Measured() {
		needs = "No run of this notebook measured yet: the job gets a default size, " + sizeText + "."
	}
	job := fmt.Sprintf("%s writes %s sized for this notebook.", cmd, jobNames[vendor])
	switch p := s.Place; p.Kind {
	case KindVM:
		where := "This kernel already runs on " + vmNames[p.Cloud]
		if p.Instance != "" {
			where += " (" + p.Instance + ")"
		}
		return fmt.Sprintf("%s: resize it, or run the notebook as a job. %s %s", where, needs, job)
	case KindHub:
		limit := "This JupyterHub server"
		if p.MemLimit > 0 {
			limit += " is limited to " + human.Bytes(p.MemLimit) + " (MEM_LIMIT)"
		}
		return fmt.Sprintf("%s: ask for a larger server profile (%s), or run the notebook as a job. %s %s",
			limit, s.Need.NeedText(), needs, job)
	case KindGateway:
		return fmt.Sprintf("This kernel runs under Enterprise Gateway: start it with a larger resource request (KERNEL_MEMORY=%dGi), or run the notebook as a job. %s %s",
			(s.Need.Mem+GiB-1)/GiB, needs, job)
	case KindHosted:
		larger := "switch the space to a larger instance type"
		if p.Service == "Colab" {
			larger = "switch to a larger runtime (Runtime > Change runtime type)"
		} else if p.Service == "SageMaker notebook instance" {
			larger = "change the notebook instance to a larger type"
		}
		return fmt.Sprintf("This notebook runs on %s: %s, or run it as a job. %s %s", p.Service, larger, needs, job)
	}
	return needs + " " + job
}

// shellQuote quotes s for a POSIX shell when it needs it.
func shellQuote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./+=:@%") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
