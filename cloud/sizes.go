package cloud

// Size is one instance size a vendor's training service offers.
type Size struct {
	Cloud       string // "azure", "aws", "gcp"
	Name        string // as the job definition names it: Standard_E8s_v5, ml.r5.2xlarge, n2-highmem-8
	VCPU        int
	Mem         uint64 // bytes
	GPUs        int
	GPUMem      uint64 // per GPU, bytes
	GPUModel    string // "NVIDIA T4"; "" for CPU sizes
	Accelerator string // Vertex AI machineSpec.acceleratorType, when it must be named
}

// GiB is 2^30 bytes: the vendors publish memory in GiB (GCP writes "GB" for
// the same figures).
const GiB = 1 << 30

// TableDate is when the table below was compiled from the vendors' pages.
const TableDate = "2026-12-01"

func cpu(cloud, name string, vcpu int, memGiB float64) Size {
	return Size{Cloud: cloud, Name: name, VCPU: vcpu, Mem: uint64(memGiB * GiB)}
}

func gpu(cloud, name string, vcpu int, memGiB float64, gpus int, gpuGiB float64, model, accel string) Size {
	return Size{Cloud: cloud, Name: name, VCPU: vcpu, Mem: uint64(memGiB * GiB),
		GPUs: gpus, GPUMem: uint64(gpuGiB * GiB), GPUModel: model, Accelerator: accel}
}

// cpuSizes are general purpose (4 GiB per vCPU) and memory optimised
// (8 GiB per vCPU) sizes. Fit takes the first that fits after sorting by
// vCPUs, then memory: within one generation the price follows the vCPUs
// first (an E8s_v5 with 64 GiB costs less than a D16s_v5 with the same
// memory).
var cpuSizes = []Size{
	// Azure Dsv5: https://learn.microsoft.com/azure/virtual-machines/sizes/general-purpose/dsv5-series
	cpu("azure", "Standard_D2s_v5", 2, 8), cpu("azure", "Standard_D4s_v5", 4, 16),
	cpu("azure", "Standard_D8s_v5", 8, 32), cpu("azure", "Standard_D16s_v5", 16, 64),
	cpu("azure", "Standard_D32s_v5", 32, 128), cpu("azure", "Standard_D48s_v5", 48, 192),
	cpu("azure", "Standard_D64s_v5", 64, 256), cpu("azure", "Standard_D96s_v5", 96, 384),
	// Azure Esv5: https://learn.microsoft.com/azure/virtual-machines/sizes/memory-optimized/esv5-series
	cpu("azure", "Standard_E2s_v5", 2, 16), cpu("azure", "Standard_E4s_v5", 4, 32),
	cpu("azure", "Standard_E8s_v5", 8, 64), cpu("azure", "Standard_E16s_v5", 16, 128),
	cpu("azure", "Standard_E32s_v5", 32, 256), cpu("azure", "Standard_E48s_v5", 48, 384),
	cpu("azure", "Standard_E64s_v5", 64, 512), cpu("azure", "Standard_E96s_v5", 96, 672),
	// AWS SageMaker training, M5 and R5: https://aws.amazon.com/sagemaker/pricing/ and
	// https://aws.amazon.com/ec2/instance-types/ (names as in the
	// TrainingInstanceType enum of the SageMaker API)
	cpu("aws", "ml.m5.large", 2, 8), cpu("aws", "ml.m5.xlarge", 4, 16),
	cpu("aws", "ml.m5.2xlarge", 8, 32), cpu("aws", "ml.m5.4xlarge", 16, 64),
	cpu("aws", "ml.m5.12xlarge", 48, 192), cpu("aws", "ml.m5.24xlarge", 96, 384),
	cpu("aws", "ml.r5.large", 2, 16), cpu("aws", "ml.r5.xlarge", 4, 32),
	cpu("aws", "ml.r5.2xlarge", 8, 64), cpu("aws", "ml.r5.4xlarge", 16, 128),
	cpu("aws", "ml.r5.8xlarge", 32, 256), cpu("aws", "ml.r5.12xlarge", 48, 384),
	cpu("aws", "ml.r5.16xlarge", 64, 512), cpu("aws", "ml.r5.24xlarge", 96, 768),
	// GCP n2-standard and n2-highmem: https://cloud.google.com/compute/docs/general-purpose-machines#n2_machines
	// and https://cloud.google.com/compute/docs/memory-optimized-machines (Vertex AI
	// training machine types: https://cloud.google.com/vertex-ai/docs/training/configure-compute)
	cpu("gcp", "n2-standard-2", 2, 8), cpu("gcp", "n2-standard-4", 4, 16),
	cpu("gcp", "n2-standard-8", 8, 32), cpu("gcp", "n2-standard-16", 16, 64),
	cpu("gcp", "n2-standard-32", 32, 128), cpu("gcp", "n2-standard-48", 48, 192),
	cpu("gcp", "n2-standard-64", 64, 256), cpu("gcp", "n2-standard-80", 80, 320),
	cpu("gcp", "n2-highmem-2", 2, 16), cpu("gcp", "n2-highmem-4", 4, 32),
	cpu("gcp", "n2-highmem-8", 8, 64), cpu("gcp", "n2-highmem-16", 16, 128),
	cpu("gcp", "n2-highmem-32", 32, 256), cpu("gcp", "n2-highmem-48", 48, 384),
	cpu("gcp", "n2-highmem-64", 64, 512), cpu("gcp", "n2-highmem-80", 80, 640),
}

// gpuSizes are listed cheapest first per vendor; Fit takes the first that
// fits.
var gpuSizes = []Size{
	// Azure NCasT4_v3: https://learn.microsoft.com/azure/virtual-machines/sizes/gpu-accelerated/ncast4v3-series
	gpu("azure", "Standard_NC4as_T4_v3", 4, 28, 1, 16, "NVIDIA T4", ""),
	gpu("azure", "Standard_NC8as_T4_v3", 8, 56, 1, 16, "NVIDIA T4", ""),
	gpu("azure", "Standard_NC16as_T4_v3", 16, 110, 1, 16, "NVIDIA T4", ""),
	gpu("azure", "Standard_NC64as_T4_v3", 64, 440, 4, 16, "NVIDIA T4", ""),
	// Azure NC A100 v4: https://learn.microsoft.com/azure/virtual-machines/sizes/gpu-accelerated/nca100v4-series
	gpu("azure", "Standard_NC24ads_A100_v4", 24, 220, 1, 80, "NVIDIA A100 80GB", ""),
	gpu("azure", "Standard_NC48ads_A100_v4", 48, 440, 2, 80, "NVIDIA A100 80GB", ""),
	gpu("azure", "Standard_NC96ads_A100_v4", 96, 880, 4, 80, "NVIDIA A100 80GB", ""),
	// AWS G5 (A10G) and P4d (A100 40GB): https://aws.amazon.com/ec2/instance-types/g5/
	// and P4de (A100 80GB): https://aws.amazon.com/ec2/instance-types/p4/
	gpu("aws", "ml.g5.xlarge", 4, 16, 1, 24, "NVIDIA A10G", ""),
	gpu("aws", "ml.g5.2xlarge", 8, 32, 1, 24, "NVIDIA A10G", ""),
	gpu("aws", "ml.g5.4xlarge", 16, 64, 1, 24, "NVIDIA A10G", ""),
	gpu("aws", "ml.g5.8xlarge", 32, 128, 1, 24, "NVIDIA A10G", ""),
	gpu("aws", "ml.g5.16xlarge", 64, 256, 1, 24, "NVIDIA A10G", ""),
	gpu("aws", "ml.g5.12xlarge", 48, 192, 4, 24, "NVIDIA A10G", ""),
	gpu("aws", "ml.g5.24xlarge", 96, 384, 4, 24, "NVIDIA A10G", ""),
	gpu("aws", "ml.g5.48xlarge", 192, 768, 8, 24, "NVIDIA A10G", ""),
	gpu("aws", "ml.p4d.24xlarge", 96, 1152, 8, 40, "NVIDIA A100 40GB", ""),
	gpu("aws", "ml.p4de.24xlarge", 96, 1152, 8, 80, "NVIDIA A100 80GB", ""),
	// GCP G2 (L4) and A2 (A100): https://cloud.google.com/compute/docs/accelerator-optimized-machines
	gpu("gcp", "g2-standard-4", 4, 16, 1, 24, "NVIDIA L4", "NVIDIA_L4"),
	gpu("gcp", "g2-standard-8", 8, 32, 1, 24, "NVIDIA L4", "NVIDIA_L4"),
	gpu("gcp", "g2-standard-16", 16, 64, 1, 24, "NVIDIA L4", "NVIDIA_L4"),
	gpu("gcp", "g2-standard-32", 32, 128, 1, 24, "NVIDIA L4", "NVIDIA_L4"),
	gpu("gcp", "g2-standard-24", 24, 96, 2, 24, "NVIDIA L4", "NVIDIA_L4"),
	gpu("gcp", "g2-standard-48", 48, 192, 4, 24, "NVIDIA L4", "NVIDIA_L4"),
	gpu("gcp", "a2-highgpu-1g", 12, 85, 1, 40, "NVIDIA A100 40GB", "NVIDIA_TESLA_A100"),
	gpu("gcp", "a2-ultragpu-1g", 12, 170, 1, 80, "NVIDIA A100 80GB", "NVIDIA_A100_80GB"),
	gpu("gcp", "a2-highgpu-2g", 24, 170, 2, 40, "NVIDIA A100 40GB", "NVIDIA_TESLA_A100"),
	gpu("gcp", "a2-highgpu-4g", 48, 340, 4, 40, "NVIDIA A100 40GB", "NVIDIA_TESLA_A100"),
	gpu("gcp", "a2-highgpu-8g", 96, 680, 8, 40, "NVIDIA A100 40GB", "NVIDIA_TESLA_A100"),
}
