package cloud

import (
	"bytes"
	"encoding/json"
	"fmt"
	"path"
	"regexp"
	"strings"

	"github.com/cloudline/cloudline/human"
)

// AWS Deep Learning Containers for SageMaker training
// (https://github.com/aws/deep-learning-containers/blob/master/available_images.md),
// by the interpreter's Python version: its pins install into the image's
// Python. The account (763104351884) is the one these images are published
// under in most regions.
var awsImages = map[string][2]string{ // python -> {cpu tag, gpu tag}
	"3.10": {"2.2.0-cpu-py310-ubuntu20.04-sagemaker", "2.2.0-gpu-py310-cu121-ubuntu20.04-sagemaker"},
	"3.11": {"2.3.0-cpu-py311-ubuntu20.04-sagemaker", "2.3.0-gpu-py311-cu121-ubuntu20.04-sagemaker"},
	"3.12": {"2.6.0-cpu-py312-ubuntu22.04-sagemaker", "2.6.0-gpu-py312-cu126-ubuntu22.04-sagemaker"},
}

// awsJob is a SageMaker CreateTrainingJob request
// (https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_CreateTrainingJob.html),
// for `aws sagemaker create-training-job --cli-input-json file://JOB`. The
// code, the requirements and each input are S3 channels; JSON has no
// comments, so each channel's local path is in the job's environment as
// CLOUDLINE_LOCAL_<CHANNEL>, and Steps has the uploads.
func awsJob(j Job, jobFile string) (Files, error) {
	size, _ := Fit("aws", j.Need)
	region := cmpOr(j.Region, "us-east-1")
	tags, ok := awsImages[j.Python]
	if !ok {
		tags = awsImages["3.11"]
	}
	tag := tags[0]
	if size.GPUs > 0 {
		tag = tags[1]
	}
	role := cmpOr(j.Role, "arn:aws:iam::111122223333:role/YOUR-SAGEMAKER-EXECUTION-ROLE")
	prefix := "s3://" + cmpOr(j.Bucket, "YOUR-BUCKET") + "/cloudline/" + j.Name + "/"
	const data = "/opt/ml/input/data/"
	var ch awsChannels
	ch.add("code", j.Code, prefix+"code/", true, j.inCode("*")...)
	ch.add("requirements", j.ReqFile, prefix+"requirements/", false)
	mounts := make([]string, len(j.Inputs))
	for i, in := range j.Inputs {
		ch.add(in.Name, in.Local, prefix+"inputs/"+in.Name+"/", in.Dir)
		mounts[i] = data + in.Name
		if !in.Dir {
			mounts[i] += "/" + path.Base(in.Local)
		}
	}
	// SageMaker uploads /opt/ml/output/data as output.tar.gz under S3OutputPath.
	cmd := append([]string{"cd " + data + "code", "pip install -r " + data + "requirements/" + path.Base(j.ReqFile)},
		links(j.Inputs, mounts)...)
	cmd = append(cmd, j.papermill("/opt/ml/output/data/"+j.Notebook))
	var volume int64 = 30 // GB: room for the image's scratch, the code and the pins
	for _, in := range j.Inputs {
		volume += (in.Bytes + GiB - 1) / GiB
	}
	req := map[string]any{
		"TrainingJobName": SafeName(j.Name, 47) + "-" + j.Written.UTC().Format("20060102-150405"),
		"RoleArn":         role,
		"AlgorithmSpecification": map[string]any{
			"TrainingImage":       "763104351884.dkr.ecr." + region + ".amazonaws.com/pytorch-training:" + tag,
			"TrainingInputMode":   "File",
			"ContainerEntrypoint": []string{"/bin/sh", "-c"},
			"ContainerArguments":  []string{strings.Join(cmd, " && ")},
		},
		"ResourceConfig": map[string]any{
			"InstanceType": size.Name, "InstanceCount": 1, "VolumeSizeInGB": volume,
		},
		"InputDataConfig":   ch.channels,
		"OutputDataConfig":  map[string]any{"S3OutputPath": prefix + "output/"},
		"StoppingCondition": map[string]any{"MaxRuntimeInSeconds": min(int(TimeLimit(j.Need).Seconds()), awsMaxRuntime)},
		"Environment":       ch.env,
		"Tags": []map[string]string{
			{"Key": "cloudline:notebook", "Value": tagValue(j.Notebook)},
			{"Key": "cloudline:sized", "Value": awsSized(j, size)},
		},
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false) // the command's && stays readable
	enc.SetIndent("", "  ")
	if err := enc.Encode(req); err != nil {
		return Files{}, fmt.Errorf("encode sagemaker request: %w", err)
	}
	steps := append(ch.steps, "aws sagemaker create-training-job --region "+region+" --cli-input-json file://"+shellQuote(jobFile))
	return Files{Job: b.Bytes(), Env: requirementsFile(j), Steps: steps, Vendor: "aws"}, nil
}

// awsChannels are a request's input channels, the local path of each (in
// the job's environment) and the uploads that fill them.
type awsChannels struct {
	channels []map[string]any
	env      map[string]string
	steps    []string
}

// add is a channel reading S3 prefix uri, uploaded from local (a folder
// without the exclude patterns, or one file).
func (c *awsChannels) add(name, local, uri string, dir bool, exclude ...string) {
	c.channels = append(c.channels, map[string]any{
		"ChannelName": name, "InputMode": "File",
		"DataSource": map[string]any{"S3DataSource": map[string]any{
			"S3DataType": "S3Prefix", "S3Uri": uri, "S3DataDistributionType": "FullyReplicated"}},
	})
	if c.env == nil {
		c.env = map[string]string{}
	}
	c.env["CLOUDLINE_LOCAL_"+strings.ToUpper(name)] = local
	if !dir {
		c.steps = append(c.steps, fmt.Sprintf("aws s3 cp %s %s%s", shellQuote(local), uri, path.Base(local)))
		return
	}
	ex := ""
	for _, e := range exclude {
		ex += " --exclude " + shellQuote(e)
	}
	c.steps = append(c.steps, fmt.Sprintf("aws s3 cp --recursive%s %s %s", ex, shellQuote(local), uri))
}

// cmpOr is s, or def when s is empty.
func cmpOr(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// awsMaxRuntime is SageMaker's default cap on MaxRuntimeInSeconds (5 days).
const awsMaxRuntime = 5 * 24 * 3600

// awsSized is the tag that says what sized the job (tag values allow
// letters, digits, spaces and + - = . _ : / @).
func awsSized(j Job, size Size) string {
	if !j.Need.Measured() {
		return "default size: no run in the history"
	}
	return tagValue(fmt.Sprintf("peak %s over %s: %s", human.Bytes(j.Need.Peak), Cells(j.Need.Cells), size.Name))
}

var tagRE = regexp.MustCompile(`[^\p{L}\p{Z}\p{N}_.:/=+\-@]+`)

// tagValue is s with what tag values refuse replaced, at most 256 long.
func tagValue(s string) string {
	s = tagRE.ReplaceAllString(s, "-")
	if len(s) > 256 {
		s = s[:256]
	}
	return s
}
