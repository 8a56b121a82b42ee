package cloud

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// Kind is what sort of place a kernel runs in.
type Kind string

// Kinds of place, from the most specific sign to the least.
const (
	KindJob     Kind = "job"     // inside a cloud training job: no advice, history only
	KindHosted  Kind = "hosted"  // a hosted notebook service (SageMaker Studio or notebook instance, Colab)
	KindGateway Kind = "gateway" // a kernel that Enterprise Gateway started
	KindHub     Kind = "hub"     // a JupyterHub single-user server
	KindVM      Kind = "vm"      // a virtual machine of a cloud
	KindLocal   Kind = "local"   // nothing recognised: a laptop or a workstation
)

// Place is where a kernel runs, as far as can be known offline.
type Place struct {
	Kind     Kind    `json:"kind"`
	Cloud    string  `json:"cloud,omitempty"`    // azure, aws, gcp; "" unknown
	Instance string  `json:"instance,omitempty"` // instance type, when the machine says
	Service  string  `json:"service,omitempty"`  // the service by name: "SageMaker Studio", "JupyterHub", ...
	MemLimit uint64  `json:"mem_limit_bytes,omitempty"`
	CPULimit float64 `json:"cpu_limit,omitempty"`
}

// Env is what Detect reads. The zero value reads this machine: /sys (or
// $HOST_SYS), / for /opt (or $HOST_ROOT) and the process environment.
type Env struct {
	Sys    string              // sysfs root
	Root   string              // root holding /opt/ml
	Getenv func(string) string // nil: os.Getenv
}

// azureAssetTag is the chassis asset tag of every Azure VM; "Microsoft
// Corporation" / "Virtual Machine" alone is any Hyper-V guest.
const azureAssetTag = "7783-7084-3265-9085-8269-3286-77"

// Detect tells where the kernel runs from DMI, the Xen hypervisor uuid,
// SageMaker's resource metadata and the environment. It makes no network
// call; unreadable files count as absent.
func Detect(e Env) Place {
	getenv := e.Getenv
	if getenv == nil {
		getenv = os.Getenv
	}
	sys := rootOr(e.Sys, "HOST_SYS", "/sys")
	root := rootOr(e.Root, "HOST_ROOT", "/")
	p := machine(sys)
	switch {
	case getenv("AZUREML_RUN_ID") != "":
		p.Kind, p.Cloud, p.Service = KindJob, "azure", "Azure Machine Learning job"
	case getenv("SM_TRAINING_ENV") != "" || getenv("TRAINING_JOB_NAME") != "":
		p.Kind, p.Cloud, p.Service = KindJob, "aws", "SageMaker training job"
		if it := sageMakerInstance(getenv); it != "" {
			p.Instance = it
		}
	case getenv("CLOUD_ML_JOB_ID") != "":
		p.Kind, p.Cloud, p.Service = KindJob, "gcp", "Vertex AI custom job"
	case getenv("COLAB_RELEASE_TAG") != "":
		p.Kind, p.Cloud, p.Service = KindHosted, "gcp", "Colab"
	case exists(filepath.Join(root, "opt/ml/metadata/resource-metadata.json")):
		p.Kind, p.Cloud, p.Service = KindHosted, "aws", sageMakerService(filepath.Join(root, "opt/ml/metadata/resource-metadata.json"))
	case getenv("KERNEL_ID") != "" && getenv("KERNEL_USERNAME") != "":
		p.Kind, p.Service = KindGateway, "Enterprise Gateway"
	case getenv("JUPYTERHUB_API_URL") != "" || getenv("MEM_LIMIT") != "" || getenv("CPU_LIMIT") != "":
		p.Kind, p.Service = KindHub, "JupyterHub"
	}
	if p.Kind == KindHub || p.Kind == KindGateway || p.Kind == KindHosted {
		p.MemLimit = parseMemLimit(getenv("MEM_LIMIT"))
		p.CPULimit, _ = strconv.ParseFloat(strings.TrimSpace(getenv("CPU_LIMIT")), 64)
	}
	return p
}

// machine reads the cloud and instance type of a VM from DMI and the Xen
// hypervisor uuid: KindVM, or KindLocal when it is no cloud's.
func machine(sys string) Place {
	dmi := func(name string) string {
		b, _ := os.ReadFile(filepath.Join(sys, "class/dmi/id", name))
		return strings.TrimSpace(string(b))
	}
	p := Place{Kind: KindVM}
	switch {
	case dmi("chassis_asset_tag") == azureAssetTag:
		p.Cloud = "azure"
	case dmi("sys_vendor") == "Amazon EC2":
		p.Cloud, p.Instance = "aws", dmi("product_name") // Nitro puts the instance type there
	case strings.HasPrefix(strings.ToLower(dmi("bios_version")), "amazon") || strings.HasPrefix(hypervisorUUID(sys), "ec2"):
		p.Cloud = "aws" // Xen-based EC2
	case dmi("product_name") == "Google Compute Engine" || dmi("sys_vendor") == "Google":
		p.Cloud = "gcp"
	default:
		p.Kind = KindLocal
	}
	return p
}

func hypervisorUUID(sys string) string {
	b, _ := os.ReadFile(filepath.Join(sys, "hypervisor/uuid"))
	return strings.ToLower(strings.TrimSpace(string(b)))
}

// sageMakerInstance is the instance type SageMaker's training toolkit puts
// in SM_CURRENT_INSTANCE_TYPE and in SM_TRAINING_ENV's
// "current_instance_type".
func sageMakerInstance(getenv func(string) string) string {
	if it := getenv("SM_CURRENT_INSTANCE_TYPE"); it != "" {
		return it
	}
	var env struct {
		InstanceType string `json:"current_instance_type"`
	}
	if json.Unmarshal([]byte(getenv("SM_TRAINING_ENV")), &env) == nil {
		return env.InstanceType
	}
	return ""
}

// sageMakerService tells SageMaker Studio from a notebook instance by the
// resource ARN in resource-metadata.json.
func sageMakerService(path string) string {
	b, _ := os.ReadFile(path)
	var md struct {
		ResourceArn string `json:"ResourceArn"`
	}
	if json.Unmarshal(b, &md) == nil && strings.Contains(md.ResourceArn, ":notebook-instance/") {
		return "SageMaker notebook instance"
	}
	return "SageMaker Studio"
}

// parseMemLimit reads a spawner's MEM_LIMIT: bytes, as KubeSpawner and
// DockerSpawner export it, or with a K/M/G/T suffix (powers of 1024, as
// JupyterHub's ByteSpecification reads them). 0 when unset or bad.
func parseMemLimit(s string) uint64 {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0
	}
	mult := uint64(1)
	if i := strings.IndexAny(s, "KMGTkmgt"); i > 0 {
		switch strings.ToUpper(s[i : i+1]) {
		case "K":
			mult = 1 << 10
		case "M":
			mult = 1 << 20
		case "G":
			mult = 1 << 30
		case "T":
			mult = 1 << 40
		}
		s = s[:i]
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || f <= 0 {
		return 0
	}
	return uint64(f * float64(mult))
}

func rootOr(root, env, def string) string {
	if root != "" {
		return root
	}
	if v := os.Getenv(env); v != "" {
		return v
	}
	return def
}

func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}
