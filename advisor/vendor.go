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
