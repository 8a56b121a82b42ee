package advisor

import (
	"fmt"

	"github.com/cloudline/cloudline/cellwatch"
)

// restartWithMore is the sentence for a kernel whose memory limit is the
// resource request it was started with (Enterprise Gateway's KERNEL_MEMORY
// or KERNEL_MEMORY_LIMIT, the pod's request and limit): a restart with a
// bigger request is the quickest fix, before moving the work. It offers
// twice the limit in whole Kubernetes Gi. "" for any other limit.
func restartWithMore(m cellwatch.Machine, s style) string {
	name := m.MemLimitSource
	if name != cellwatch.LimitKernelMemory && name != cellwatch.LimitKernelMemoryLimit {
		return ""
	}
	more := (2*m.MemLimit + gibibyte - 1) / gibibyte
	return fmt.Sprintf(" The limit is this kernel's %s request: restart it with %s.",
		name, s.strong(fmt.Sprintf("%s=%dGi", name, more)))
}

const gibibyte = 1 << 30
