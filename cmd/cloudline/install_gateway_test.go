package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func readSpecMap(t *testing.T, dir string) map[string]any {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(dir, "kernel.json"))
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func TestInstallGatewayDistributed(t *testing.T) {
	h := newJupyterHome(t)
	code, out, stderr := cli(t, "install", "--gateway", "distributed", "--set", "training_time=2h")
	if code != 0 {
		t.Fatalf("status %d: %s", code, stderr)
	}
	dir := filepath.Join(h.userKernels(), "python3-cloudline-distributed")
	if !strings.Contains(out, dir) {
		t.Errorf("stdout %q does not name %s", out, dir)
	}
	spec := readSpecMap(t, dir)
	exe, _ := os.Executable()
	var argv []string
	for _, a := range spec["argv"].([]any) {
		argv = append(argv, a.(string))
	}
	want := []string{exe, "launch", "--kernel-id", "{kernel_id}", "--response-address", "{response_address}",
		"--public-key", "{public_key}", "--port-range", "{port_range}", "--resource-dir", "{resource_dir}", "--",
		filepath.Join(h.bin, "python"), "-m", "ipykernel_launcher", "-f", "{child_connection_file}"}
	if !reflect.DeepEqual(argv, want) {
		t.Errorf("argv\n %q\nwant\n %q", argv, want)
	}
	meta := spec["metadata"].(map[string]any)
	pp := meta["process_proxy"].(map[string]any)
	if pp["class_name"] != "enterprise_gateway.services.processproxies.distributed.DistributedProcessProxy" {
		t.Errorf("process_proxy = %v", pp)
	}
	if meta["cloudline"].(map[string]any)["training_time"] != "2h" || meta["debugger"] != true {
		t.Errorf("metadata = %v", meta)
	}
	if spec["display_name"] != "Python 3 (cloudline, distributed)" {
		t.Errorf("display_name = %v", spec["display_name"])
	}
	// The launch argv parses: what the gateway fills in is all it lacks.
	code, _, stderr = cli(t, append([]string{"launch"}, argv[2:]...)...)
	if code != 2 || !strings.Contains(stderr, `--kernel-id "{kernel_id}" is not a kernel id`) {
		t.Errorf("unfilled placeholders: status %d, %q", code, stderr)
	}
	if code, out, _ := cli(t, "list"); code != 0 || !strings.Contains(out, "* python3-cloudline-distributed") {
		t.Errorf("list does not mark the gateway spec as cloudline's: %s", out)
	}
}

func TestInstallGatewayKubernetes(t *testing.T) {
	h := newJupyterHome(t)
	if code, _, stderr := cli(t, "install", "--gateway", "kubernetes", "--image", "example.org/cloudline-kernel-py:1"); code != 0 {
		t.Fatalf("status %d: %s", code, stderr)
	}
	spec := readSpecMap(t, filepath.Join(h.userKernels(), "python3-cloudline-kubernetes"))
	argv, _ := json.Marshal(spec["argv"])
	if string(argv) != `["python","{resource_dir}/scripts/launch_kubernetes.py","--RemoteProcessProxy.kernel-id","{kernel_id}","--RemoteProcessProxy.response-address","{response_address}","--RemoteProcessProxy.public-key","{public_key}","--RemoteProcessProxy.port-range","{port_range}"]` {
		t.Errorf("argv = %s", argv)
	}
	pp, _ := json.Marshal(spec["metadata"].(map[string]any)["process_proxy"])
	if string(pp) != `{"class_name":"enterprise_gateway.services.processproxies.k8s.KubernetesProcessProxy","config":{"image_name":"example.org/cloudline-kernel-py:1"}}` {
		t.Errorf("process_proxy = %s", pp)
	}
}

func TestInstallGatewayBadArguments(t *testing.T) {
	newJupyterHome(t)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--gateway", "yarn"}, `bad --gateway "yarn"`},
		{[]string{"--gateway", "kubernetes"}, "needs --image"},
		{[]string{"--gateway", "distributed", "--image", "x"}, "--image is for --gateway kubernetes"},
		{[]string{"--image", "x"}, "--image needs --gateway kubernetes"},
	} {
		code, _, stderr := cli(t, append([]string{"install"}, tc.args...)...)
		if code != 2 || strings.Count(stderr, "\n") != 1 || !strings.Contains(stderr, tc.want) {
			t.Errorf("install %v: status %d, stderr %q; want 2 and %q", tc.args, code, stderr, tc.want)
		}
	}
}

// TestDeployKernelspec: the Kubernetes kernelspec in deploy/ is what
// `cloudline install --gateway kubernetes --image cloudline/kernel-py:dev`
// writes.
func TestDeployKernelspec(t *testing.T) {
	deployed, err := os.ReadFile(filepath.Join("..", "..", "deploy", "kubernetes", "kernels", "python3-cloudline-kubernetes", "kernel.json"))
	if err != nil {
		t.Fatal(err)
	}
	h := newJupyterHome(t)
	if code, _, stderr := cli(t, "install", "--gateway", "kubernetes", "--image", "cloudline/kernel-py:dev"); code != 0 {
		t.Fatalf("status %d: %s", code, stderr)
	}
	installed, err := os.ReadFile(filepath.Join(h.userKernels(), "python3-cloudline-kubernetes", "kernel.json"))
	if err != nil {
		t.Fatal(err)
	}
	// What the gateway reads; the rest follows the wrapped spec.
	type gatewayFields struct {
		Argv        []string `json:"argv"`
		DisplayName string   `json:"display_name"`
		Metadata    struct {
			ProcessProxy any `json:"process_proxy"`
		} `json:"metadata"`
	}
	var a, b gatewayFields
	if json.Unmarshal(deployed, &a) != nil || json.Unmarshal(installed, &b) != nil || !reflect.DeepEqual(a, b) {
		t.Errorf("deploy/ kernel.json\n%s\ndiffers from what install writes\n%s", deployed, installed)
	}
}
