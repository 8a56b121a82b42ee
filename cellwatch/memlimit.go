package cellwatch

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Where the effective memory limit comes from (Machine.MemLimitSource).
// The environment variables are named as the user sets them, so advice can
// say which knob to turn ("restart with KERNEL_MEMORY=32Gi").
const (
	LimitRAM    = "ram"    // nothing lower than the machine's RAM
	LimitCgroup = "cgroup" // the kernel's cgroup: memory.max (v2) or memory.limit_in_bytes (v1), the tightest up the tree
	// LimitMemLimit is JupyterHub's limit: its spawners put the user's
	// memory limit, in bytes, in the single-user server's environment,
	// which the kernels inherit.
	LimitMemLimit = "MEM_LIMIT"
	// LimitKernelMemory and LimitKernelMemoryLimit are Jupyter Enterprise
	// Gateway's memory request and limit for the kernel (Kubernetes
	// quantities such as "2Gi", passed in the kernel's environment).
	LimitKernelMemory      = "KERNEL_MEMORY"
	LimitKernelMemoryLimit = "KERNEL_MEMORY_LIMIT"
)

// envLimits are the environment variables that declare a memory limit, the
// most specific first: on a tie (a pod's cgroup limit is its
// KERNEL_MEMORY_LIMIT) the one a user can change wins.
var envLimits = []string{LimitKernelMemory, LimitKernelMemoryLimit, LimitMemLimit}

// effectiveLimit is the smallest of the RAM, the cgroup limit (noLimit when
// none) and the limits the environment declares, with its source. Values
// that do not parse, or are 0, are ignored.
func effectiveLimit(ram, cgroup uint64, getenv func(string) string) (uint64, string) {
	limit, source := ram, LimitRAM
	if cgroup > 0 && cgroup != noLimit && cgroup <= limit {
		limit, source = cgroup, LimitCgroup
	}
	for _, name := range envLimits {
		v := getenv(name)
		if v == "" {
			continue
		}
		n, err := parseQuantity(v)
		if err != nil || n == 0 || n > limit {
			continue
		}
		if n < limit || source == LimitRAM || source == LimitCgroup {
			limit, source = n, name
		}
	}
	return limit, source
}

// quantitySuffixes are Kubernetes' binary and decimal suffixes.
var quantitySuffixes = []struct {
	suffix string
	factor float64
}{
	{"Ki", 1 << 10}, {"Mi", 1 << 20}, {"Gi", 1 << 30}, {"Ti", 1 << 40}, {"Pi", 1 << 50}, {"Ei", 1 << 60},
	{"k", 1e3}, {"M", 1e6}, {"G", 1e9}, {"T", 1e12}, {"P", 1e15}, {"E", 1e18},
}

// parseQuantity parses a byte count written as a Kubernetes quantity:
// "2Gi", "512Mi", "1.5G", "129e6", "1073741824". JupyterHub writes plain
// byte counts; Enterprise Gateway passes what the user wrote. A fraction
// of a byte rounds up.
func parseQuantity(s string) (uint64, error) {
	s = strings.TrimSpace(s)
	num, factor := s, 1.0
	for _, q := range quantitySuffixes {
		if n, ok := strings.CutSuffix(s, q.suffix); ok && n != "" {
			num, factor = n, q.factor
			break
		}
	}
	if n, err := strconv.ParseUint(num, 10, 64); err == nil && factor == 1 {
		return n, nil
	}
	if strings.ContainsAny(num, "xXpP_") || strings.HasPrefix(num, "-") || strings.HasPrefix(num, "+") {
		return 0, fmt.Errorf("parse quantity %q: not a byte count", s)
	}
	f, err := strconv.ParseFloat(num, 64)
	if err != nil {
		return 0, fmt.Errorf("parse quantity %q: not a byte count", s)
	}
	v := math.Ceil(f * factor)
	if math.IsNaN(v) || v < 0 || v >= math.MaxUint64 {
		return 0, fmt.Errorf("parse quantity %q: out of range", s)
	}
	return uint64(v), nil
}
