package cloud

import (
	"fmt"
	"strings"

	"github.com/cloudline/cloudline/human"
)

// Files are what one job consists of: the definition, the environment file
// beside it, and the commands that upload what it needs and submit it.
type Files struct {
	Job    []byte
	Env    []byte   // written to Job.ReqFile
	Steps  []string // shell commands, in order, run from the job file's folder
	Vendor string
}

// Render writes j as cloud's job definition; jobFile is the definition's
// file name (for the submit command).
func Render(cloud string, j Job, jobFile string) (Files, error) {
	switch cloud {
	case "azure":
		return azureJob(j, jobFile), nil
	case "aws":
		return awsJob(j, jobFile)
	case "gcp":
		return gcpJob(j, jobFile), nil
	}
	return Files{}, fmt.Errorf("no job format for cloud %q (want azure, aws or gcp)", cloud)
}

// Azure ML curated base images (https://github.com/Azure/AzureML-Containers):
// the conda file below adds Python and the pins.
const (
	azureImage    = "mcr.microsoft.com/azureml/openmpi4.1.0-ubuntu22.04:latest"
	azureGPUImage = "mcr.microsoft.com/azureml/openmpi4.1.0-cuda11.8-cudnn8-ubuntu22.04:latest"
)

// azureJob is an Azure ML CLI v2 command job
// (https://learn.microsoft.com/azure/machine-learning/reference-yaml-job-command)
// on serverless compute: no compute target named, resources.instance_type
// picks the size. Local paths in code and inputs are uploaded by
// `az ml job create`.
func azureJob(j Job, jobFile string) Files {
	size, _ := Fit("azure", j.Need)
	image := azureImage
	if size.GPUs > 0 {
		image = azureGPUImage
	}
	mounts := make([]string, len(j.Inputs))
	for i, in := range j.Inputs {
		mounts[i] = "${{inputs." + in.Name + "}}"
	}
	// Azure ML uploads what the job leaves in ./outputs as its artifacts.
	cmd := append(links(j.Inputs, mounts), "mkdir -p outputs", j.papermill("outputs/"+j.Notebook))
	var b strings.Builder
	for _, l := range j.summary(size) {
		fmt.Fprintf(&b, "# %s\n", l)
	}
	fmt.Fprintf(&b, "# submit: az ml job create --file %s  (the local paths below are uploaded)\n", shellQuote(jobFile))
	b.WriteString("$schema: https://azuremlschemas.azureedge.net/latest/commandJob.schema.json\n")
	b.WriteString("type: command\n")
	fmt.Fprintf(&b, "display_name: %s\n", yamlString(j.Name))
	b.WriteString("experiment_name: cloudline\n")
	fmt.Fprintf(&b, "code: %s  # the notebook's folder, uploaded\n", yamlString(j.Code))
	if in := j.inCode("*"); len(in) > 0 {
		fmt.Fprintf(&b, "# inputs inside it are uploaded with it too unless .amlignore lists them: %s\n", strings.Join(in, " "))
	}
	fmt.Fprintf(&b, "command: %s\n", yamlString(strings.Join(cmd, " && ")))
	b.WriteString("environment:\n")
	fmt.Fprintf(&b, "  image: %s\n", image)
	fmt.Fprintf(&b, "  conda_file: %s  # Python %s and the pinned packages of the notebook's interpreter\n", yamlString(j.ReqFile), j.Python)
	if len(j.Inputs) > 0 {
		b.WriteString("inputs:\n")
		for _, in := range j.Inputs {
			kind := "uri_file"
			if in.Dir {
				kind = "uri_folder"
			}
			fmt.Fprintf(&b, "  %s:\n    type: %s\n    path: %s  # local path, uploaded (%s)\n    mode: ro_mount\n",
				in.Name, kind, yamlString(in.Local), bytesText(in.Bytes))
		}
	}
	fmt.Fprintf(&b, "resources:\n  instance_type: %s  # %s\n  instance_count: 1\n", size.Name, size)
	fmt.Fprintf(&b, "limits:\n  timeout: %d  # seconds: %s\n", int(TimeLimit(j.Need).Seconds()), Hours(TimeLimit(j.Need)))
	return Files{Job: []byte(b.String()), Env: condaFile(j), Vendor: "azure",
		Steps: []string{"az ml job create --file " + shellQuote(jobFile)}}
}

// condaFile is the environment of an Azure ML job: Python, pip and the pins.
func condaFile(j Job) []byte {
	var b strings.Builder
	fmt.Fprintf(&b, "# the packages of the interpreter %s ran with, pinned (written by `cloudline job`)\n", j.Notebook)
	b.WriteString("name: cloudline-job\nchannels:\n  - conda-forge\ndependencies:\n")
	fmt.Fprintf(&b, "  - python=%s\n  - pip\n  - pip:\n", j.Python)
	for _, p := range j.Pins {
		fmt.Fprintf(&b, "      - %s\n", yamlString(p))
	}
	return []byte(b.String())
}

// requirementsFile is the pins as a pip requirements file.
func requirementsFile(j Job) []byte {
	var b strings.Builder
	fmt.Fprintf(&b, "# the packages of the Python %s interpreter %s ran with, pinned (written by `cloudline job`)\n", j.Python, j.Notebook)
	for _, p := range j.Pins {
		b.WriteString(p + "\n")
	}
	return []byte(b.String())
}

// bytesText is a measured size as the notes write it ("143 MiB").
func bytesText(n int64) string { return human.Bytes(uint64(max(n, 0))) }
