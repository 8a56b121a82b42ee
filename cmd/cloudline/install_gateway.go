package main

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/cloudline/cloudline/kernelspec"
)

// Enterprise Gateway's process proxies, by the name --gateway takes.
var gatewayProxies = map[string]string{
	"distributed": "enterprise_gateway.services.processproxies.distributed.DistributedProcessProxy",
	"kubernetes":  "enterprise_gateway.services.processproxies.k8s.KubernetesProcessProxy",
}

// The gateway fills these argv placeholders for its remote process
// proxies (RemoteKernelManager.format_kernel_cmd).
var gatewayPlaceholders = []string{
	"--kernel-id", "{kernel_id}",
	"--response-address", "{response_address}",
	"--public-key", "{public_key}",
	"--port-range", "{port_range}",
}

// kubernetesLauncher is where a Kubernetes kernelspec keeps the gateway's
// own pod launcher (launch_kubernetes.py and kernel-pod.yaml.j2 from the
// gateway's python_kubernetes kernelspec): it runs on the gateway's host
// and starts the kernel image, whose command is `cloudline launch`.
const kubernetesLauncher = "scripts/launch_kubernetes.py"

// gatewaySpec turns a wrapped spec (argv `cloudline kernel -f ... --
// WRAPPED...`) into one for the gateway's process proxy mode.
// distributed: `cloudline launch` with the gateway's placeholders runs on
// the remote host, which needs the same paths. kubernetes: the gateway's
// pod launcher runs the image. derivedName marks a display name of
// Wrap's making, which then names the mode too.
func gatewaySpec(spec *kernelspec.Spec, mode, image string, derivedName bool) error {
	class, ok := gatewayProxies[mode]
	if !ok {
		return fmt.Errorf("bad --gateway %q: want distributed or kubernetes", mode)
	}
	proxy := map[string]any{"class_name": class}
	switch mode {
	case "distributed":
		if image != "" {
			return fmt.Errorf("--image is for --gateway kubernetes")
		}
		const wrappedAt = 7 // after exe kernel -f {connection_file} --resource-dir {resource_dir} --
		argv := append([]string{spec.Argv[0], "launch"}, gatewayPlaceholders...)
		argv = append(argv, "--resource-dir", kernelspec.ResourceDir, "--")
		spec.Argv = append(argv, spec.Argv[wrappedAt:]...)
	case "kubernetes":
		if image == "" {
			return fmt.Errorf("--gateway kubernetes needs --image (the kernel image with cloudline, see deploy/)")
		}
		proxy["config"] = map[string]any{"image_name": image}
		// "python": jupyter_client runs it with the gateway's own
		// interpreter, which has the launcher's kubernetes client.
		argv := []string{"python", kernelspec.ResourceDir + "/" + kubernetesLauncher}
		for i := 0; i < len(gatewayPlaceholders); i += 2 {
			argv = append(argv, "--RemoteProcessProxy."+gatewayPlaceholders[i][2:], gatewayPlaceholders[i+1])
		}
		spec.Argv = argv
	}
	if derivedName {
		spec.DisplayName = strings.Replace(spec.DisplayName, "(cloudline)", "(cloudline, "+mode+")", 1)
	}
	raw, err := json.Marshal(proxy)
	if err != nil {
		return fmt.Errorf("encode process_proxy: %w", err)
	}
	spec.Metadata["process_proxy"] = raw
	return nil
}
