package cloud

import (
	"fmt"
	"path"
	"strings"
)

// gcpImage is the container the job runs in: Python of the interpreter's
// version from Google's mirror of Docker Hub; the pins install into it
// (PyTorch and TensorFlow wheels bring their own CUDA libraries, Vertex AI
// the driver).
func gcpImage(python string) string { return "mirror.gcr.io/library/python:" + python + "-slim" }

// gcpJob is a Vertex AI CustomJobSpec
// (https://cloud.google.com/vertex-ai/docs/reference/rest/v1/CustomJobSpec)
// for `gcloud ai custom-jobs create --config JOB`. Vertex AI mounts Cloud
// Storage at /gcs/BUCKET, so the code, the requirements and the inputs are
// read from there after the uploads the comments (and Steps) list.
func gcpJob(j Job, jobFile string) Files {
	size, _ := Fit("gcp", j.Need)
	bucket := j.Bucket
	if bucket == "" {
		bucket = "YOUR-BUCKET"
	}
	gs := "gs://" + bucket + "/cloudline/" + j.Name + "/"
	mnt := "/gcs/" + bucket + "/cloudline/" + j.Name + "/"
	type upload struct{ name, local, to string }
	ups := []upload{{"CODE", j.Code, "code"}, {"REQUIREMENTS", j.ReqFile, "requirements/" + path.Base(j.ReqFile)}}
	mounts := make([]string, len(j.Inputs))
	for i, in := range j.Inputs {
		to := "inputs/" + in.Name
		if !in.Dir {
			to += "/" + path.Base(in.Local)
		}
		ups = append(ups, upload{strings.ToUpper(in.Name), in.Local, to})
		mounts[i] = mnt + to
	}
	// The code is synchronised without the inputs inside it: they go once, as inputs.
	ex := ""
	for _, e := range j.inCode("regexp") {
		ex += " --exclude=" + shellQuote(e)
	}
	steps := []string{fmt.Sprintf("gcloud storage rsync -r%s %s %scode", ex, shellQuote(j.Code), gs)}
	for _, u := range ups[1:] {
		steps = append(steps, fmt.Sprintf("gcloud storage cp -r %s %s%s", shellQuote(u.local), gs, u.to))
	}
	// The code is copied out of the mount: papermill writes beside it.
	cmd := append([]string{"cp -r " + mnt + "code /tmp/code", "cd /tmp/code",
		"pip install -r " + mnt + "requirements/" + path.Base(j.ReqFile)}, links(j.Inputs, mounts)...)
	cmd = append(cmd, "mkdir -p "+mnt+"output", j.papermill(mnt+"output/"+j.Notebook))
	submit := fmt.Sprintf("gcloud ai custom-jobs create --region=YOUR-REGION --display-name=%s --config=%s", shellQuote(j.Name), shellQuote(jobFile))
	steps = append(steps, submit)

	var b strings.Builder
	for _, l := range j.summary(size) {
		fmt.Fprintf(&b, "# %s\n", l)
	}
	b.WriteString("# upload the local paths, then submit:\n")
	for _, s := range steps {
		fmt.Fprintf(&b, "#   %s\n", s)
	}
	b.WriteString("workerPoolSpecs:\n  - replicaCount: 1\n    machineSpec:\n")
	fmt.Fprintf(&b, "      machineType: %s  # %s\n", size.Name, size)
	if size.GPUs > 0 {
		fmt.Fprintf(&b, "      acceleratorType: %s\n      acceleratorCount: %d\n", size.Accelerator, size.GPUs)
	}
	var disk int64 = 100 // GB, Vertex AI's default boot disk
	for _, in := range j.Inputs {
		disk += (in.Bytes + GiB - 1) / GiB
	}
	fmt.Fprintf(&b, "    diskSpec:\n      bootDiskType: pd-ssd\n      bootDiskSizeGb: %d\n", disk)
	b.WriteString("    containerSpec:\n")
	fmt.Fprintf(&b, "      imageUri: %s\n", gcpImage(j.Python))
	b.WriteString("      command: [\"/bin/sh\", \"-c\"]\n")
	fmt.Fprintf(&b, "      args:\n        - %s\n", yamlString(strings.Join(cmd, " && ")))
	b.WriteString("      env:  # the local path each upload comes from\n")
	for _, u := range ups {
		fmt.Fprintf(&b, "        - name: CLOUDLINE_LOCAL_%s\n          value: %s\n", u.name, yamlString(u.local))
	}
	fmt.Fprintf(&b, "scheduling:\n  timeout: %ds  # %s\n", min(int(TimeLimit(j.Need).Seconds()), gcpMaxTimeout), Hours(TimeLimit(j.Need)))
	fmt.Fprintf(&b, "baseOutputDirectory:\n  outputUriPrefix: %soutput\n", gs)
	return Files{Job: []byte(b.String()), Env: requirementsFile(j), Steps: steps, Vendor: "gcp"}
}

// gcpMaxTimeout is Vertex AI's longest custom job timeout (7 days).
const gcpMaxTimeout = 7 * 24 * 3600
