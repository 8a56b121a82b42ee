package advisor

import (
	"strconv"
	"strings"
)

// Telling a model server from a dashboard. A port a cell leaves listening
// is a model server unless the cell started a dashboard or a development
// tool: Dask's and Ray's dashboards, TensorBoard, the MLflow UI and
// Jupyter's own servers listen too, and are no reason to move anything.

// serverMarkers are what code serving a model (or any web app) says.
var serverMarkers = []string{
	"flask", "Flask(", "fastapi", "FastAPI(", "uvicorn", "http.server", "HTTPServer", "socketserver",
	"serve_forever", "gradio", "gr.Interface", "gr.Blocks", "streamlit", "bentoml", "torchserve",
	"aiohttp", "tornado.web", "waitress", "gunicorn", "litserve", "serve.run(", "mlflow models serve",
	"app.run(",
}

// devToolMarkers are what code starting a dashboard or a dev tool says.
var devToolMarkers = []string{
	"LocalCluster", "dask.distributed", "distributed import", "dask_jobqueue", "ray.init", "tensorboard",
	"TensorBoard", "mlflow ui", "mlflow server", "mlflow.server", "jupyter", "optuna_dashboard",
	"optuna-dashboard", "wandb", "aim up", "dtale", "pyngrok",
}

// devToolPorts are the dashboards' default ports: Dask (8787), TensorBoard
// (6006), Ray's dashboard (8265).
var devToolPorts = map[int]bool{8787: true, 6006: true, 8265: true}

// servesModels reports whether ports a cell with code left listening are
// worth a local-serving note: not when the cell started a dev tool (and
// nothing that serves), nor when every port is a dashboard's default.
func servesModels(code string, ports []int) bool {
	if hasAny(code, serverMarkers) {
		return true
	}
	if hasAny(code, devToolMarkers) {
		return false
	}
	for _, p := range ports {
		if !devToolPorts[p] {
			return true
		}
	}
	return false
}

func hasAny(s string, subs []string) bool {
	for _, x := range subs {
		if strings.Contains(s, x) {
			return true
		}
	}
	return false
}

func itoa(n int) string { return strconv.Itoa(n) }
