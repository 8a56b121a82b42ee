package advisor

// vendor names the cloud services advice points to for one provider. Every
// field is a noun phrase that reads after "as", "to" or "in" in a sentence.
type vendor struct {
	Training string // batch training that outgrew the laptop
	Scale    string // compute that scales past one machine's cores
	GPU      string // training on bigger or more GPUs
	Parallel string // several trainings side by side
	Memory   string // a machine with more memory than this one
	Serving  string // serving a model to users
	Notebook string // an isolated cloud notebook for sensitive work
	Storage  string // storing datasets and checkpoints
	Data     string // processing data at scale

	Docs vendorDocs // the documentation page of each service; "" for none
}

// vendorDocs holds one documentation URL per vendor field.
type vendorDocs struct {
	Training, Scale, GPU, Parallel, Memory, Serving, Notebook, Storage, Data string
}

// purpose names which vendor service a rule points to.
type purpose int

const (
	forTraining purpose = iota
	forScale
	forGPU
	forParallel
	forMemory
	forServing
	forNotebook
	forStorage
	forData
)

// service returns the vendor's service for p and its documentation URL.
func (v vendor) service(p purpose) (name, url string) {
	switch p {
	case forTraining:
		return v.Training, v.Docs.Training
	case forScale:
		return v.Scale, v.Docs.Scale
	case forGPU:
		return v.GPU, v.Docs.GPU
	case forParallel:
		return v.Parallel, v.Docs.Parallel
	case forMemory:
		return v.Memory, v.Docs.Memory
	case forServing:
		return v.Serving, v.Docs.Serving
	case forNotebook:
		return v.Notebook, v.Docs.Notebook
	case forStorage:
		return v.Storage, v.Docs.Storage
	}
	return v.Data, v.Docs.Data
}

// defaultCloud is used when Config.Cloud is empty; unknown names get
// genericCloud's neutral wording.
const (
	defaultCloud = "azure"
	genericCloud = "generic"
)

// vendors is the one place that names cloud services.
var vendors = map[string]vendor{
	"azure": {
		Training: "an Azure Machine Learning training job on a compute cluster",
		Scale:    "an Azure Machine Learning compute cluster",
		GPU:      "an Azure Machine Learning GPU compute cluster",
		Parallel: "Azure Machine Learning jobs (or one sweep job) on a compute cluster",
		Memory:   "an Azure Machine Learning compute instance or cluster with more memory",
		Serving:  "an Azure Machine Learning managed online endpoint",
		Notebook: "an Azure Machine Learning compute instance or a Data Science Virtual Machine in an isolated virtual network",
		Storage:  "Azure Blob Storage or Azure Data Lake Storage",
		Data:     "Azure Data Explorer or Azure Data Factory",
		Docs: vendorDocs{
			Training: "https://learn.microsoft.com/azure/machine-learning/how-to-train-model",
			Scale:    "https://learn.microsoft.com/azure/machine-learning/how-to-create-attach-compute-cluster",
			GPU:      "https://learn.microsoft.com/azure/machine-learning/how-to-create-attach-compute-cluster",
			Parallel: "https://learn.microsoft.com/azure/machine-learning/how-to-tune-hyperparameters",
			Memory:   "https://learn.microsoft.com/azure/machine-learning/concept-compute-instance",
			Serving:  "https://learn.microsoft.com/azure/machine-learning/concept-endpoints-online",
			Notebook: "https://learn.microsoft.com/azure/machine-learning/concept-compute-instance",
			Storage:  "https://learn.microsoft.com/azure/storage/blobs/storage-blobs-introduction",
			Data:     "https://learn.microsoft.com/azure/data-factory/introduction",
		},
	},
	"aws": {
		Training: "a SageMaker training job",
		Scale:    "SageMaker training jobs on larger or multiple instances",
		GPU:      "a SageMaker training job on GPU instances",
		Parallel: "separate SageMaker training jobs (or a SageMaker hyperparameter tuning job)",
		Memory:   "a SageMaker notebook instance or training job with more memory",
		Serving:  "a SageMaker real-time endpoint",
		Notebook: "a SageMaker notebook instance or SageMaker Studio inside a private VPC",
		Storage:  "Amazon S3",
		Data:     "AWS Glue or Amazon EMR",
		Docs: vendorDocs{
			Training: "https://docs.aws.amazon.com/sagemaker/latest/dg/how-it-works-training.html",
			Scale:    "https://docs.aws.amazon.com/sagemaker/latest/dg/distributed-training.html",
			GPU:      "https://docs.aws.amazon.com/sagemaker/latest/dg/how-it-works-training.html",
			Parallel: "https://docs.aws.amazon.com/sagemaker/latest/dg/automatic-model-tuning.html",
			Memory:   "https://docs.aws.amazon.com/sagemaker/latest/dg/nbi.html",
			Serving:  "https://docs.aws.amazon.com/sagemaker/latest/dg/realtime-endpoints.html",
			Notebook: "https://docs.aws.amazon.com/sagemaker/latest/dg/nbi.html",
			Storage:  "https://docs.aws.amazon.com/AmazonS3/latest/userguide/Welcome.html",
			Data:     "https://docs.aws.amazon.com/glue/latest/dg/what-is-glue.html",
		},
	},
	"gcp": {
		Training: "a Vertex AI custom training job",
		Scale:    "Vertex AI training jobs on larger or multiple machines",
		GPU:      "a Vertex AI training job with GPU accelerators",
		Parallel: "separate Vertex AI training jobs (or a Vertex AI hyperparameter tuning job)",
		Memory:   "a Vertex AI Workbench instance or training job with a larger machine type",
		Serving:  "a Vertex AI endpoint",
		Notebook: "a Vertex AI Workbench instance inside a private VPC",
		Storage:  "Cloud Storage",
		Data:     "BigQuery or Dataflow",
		Docs: vendorDocs{
			Training: "https://cloud.google.com/vertex-ai/docs/training/overview",
			Scale:    "https://cloud.google.com/vertex-ai/docs/training/configure-compute",
			GPU:      "https://cloud.google.com/vertex-ai/docs/training/configure-compute",
			Parallel: "https://cloud.google.com/vertex-ai/docs/training/hyperparameter-tuning-overview",
			Memory:   "https://cloud.google.com/vertex-ai/docs/workbench/introduction",
			Serving:  "https://cloud.google.com/vertex-ai/docs/predictions/overview",
			Notebook: "https://cloud.google.com/vertex-ai/docs/workbench/introduction",
			Storage:  "https://cloud.google.com/storage/docs/introduction",
			Data:     "https://cloud.google.com/bigquery/docs/introduction",
		},
	},
	genericCloud: {
		Training: "a managed training service on cloud compute",
		Scale:    "cloud compute that scales past one machine",
		GPU:      "cloud GPU machines sized to the model",
		Parallel: "separate jobs on a managed training service",
		Memory:   "a cloud machine with more memory",
		Serving:  "a managed model-serving endpoint",
		Notebook: "an isolated cloud notebook VM in a private network",
		Storage:  "cloud object storage",
		Data:     "a cloud data warehouse or data-processing service",
	},
}

// Clouds lists the accepted values of Config.Cloud.
func Clouds() []string { return []string{"azure", "aws", "gcp", genericCloud} }

func vendorFor(cloud string) vendor {
	if cloud == "" {
		cloud = defaultCloud
	}
	if v, ok := vendors[cloud]; ok {
		return v
	}
	return vendors[genericCloud]
}
