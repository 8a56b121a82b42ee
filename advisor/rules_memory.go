package advisor

import (
	"fmt"
	"strconv"
	"strings"
)

const (
	whyMemory = "Compute checkpoint: when the data no longer fits in memory, local work slows to a crawl or the kernel is killed; cloud machines are sized to the data."

	whyDied = "Compute checkpoint: a kernel that dies under the workload loses the session's work; work that outgrows this machine belongs on cloud compute sized to it."
	// whyExited: nothing killed the kernel, so there is no alarm to raise.
	whyExited = "Compute checkpoint: nothing here says the work outgrew this machine; nothing killed the kernel, the code or a library it called ended the process (os._exit, a library's exit)."

	// swapGrowthFloor is how much swap must grow during a cell to count.
	swapGrowthFloor = 64 << 20
	// oomShare of the memory limit at which a dead kernel most likely ran
	// out of memory.
	oomShare = 0.9
)

var memoryPressureRule = rule{
	id:         RuleMemoryPressure,
	checkpoint: CheckpointCompute,
	phases:     []Phase{Live, CellEnd},
	why:        whyMemory,
	keys:       []string{"memory_fraction"},
	service:    forMemory,
	todo: func(v vendor) string {
		return fmt.Sprintf("Move this work to %s, or explore a sample of the data locally.", v.Memory)
	},
	detect: func(in Input) (finding, bool) {
		rec, m := in.Record, in.Record.Machine
		frac, peak := in.Config.MemoryFraction, rec.Peak()
		nearLimit := m.MemLimit > 0 && frac > 0 && float64(peak) >= frac*float64(m.MemLimit)
		swapping := rec.SwapGrowth >= swapGrowthFloor
		if !nearLimit && !swapping {
			return finding{}, false
		}
		// One phrase for the headline and the details: the line in bytes,
		// and memory_fraction as the kernelspec writes it.
		line := "the pressure line at " + FormatBytes(uint64(frac*float64(m.MemLimit))) + " (memory_fraction " +
			limitOf(in.Config, "memory_fraction", strconv.FormatFloat(frac, 'g', -1, 64)) + ")"
		title := "Memory peaked at " + FormatBytes(peak) + " of " + FormatBytes(m.MemLimit) + ", past " + line
		if !nearLimit {
			title = "The machine started swapping: " + FormatBytes(rec.SwapGrowth) + " more swap"
		}
		return finding{
			title: title,
			measured: func(s style) string {
				msg := fmt.Sprintf("The kernel's processes peaked at %s while %s ran",
					s.strong(formatShare(peak, m.MemLimit)), s.cell(rec))
				if nearLimit {
					msg += ", past " + line
				}
				msg += "."
				if nearLimit {
					msg += restartWithMore(m, s)
				}
				if swapping {
					msg += fmt.Sprintf(" Swap use grew by %s.", s.strong(FormatBytes(rec.SwapGrowth)))
				}
				return msg
			},
			evidence: map[string]any{
				"peak_rss_bytes": peak, "peak_exact": rec.PeakExact, "mem_limit_bytes": m.MemLimit,
				"memory_fraction": frac, "swap_growth_bytes": rec.SwapGrowth,
			},
		}, true
	},
}

// Likely causes of a kernel's death, as evidence.
const (
	causeOOM     = "out-of-memory"
	causeCrash   = "crash"
	causeExit    = "exit" // a deliberate exit: no signal, memory not near the limit
	causeUnknown = "unknown"
)

var kernelDiedRule = rule{
	id:         RuleKernelDied,
	checkpoint: CheckpointCompute,
	phases:     []Phase{KernelDied},
	why:        whyDied,
	service:    forMemory,
	todo: func(v vendor) string {
		return fmt.Sprintf("Restart the kernel; if this step needs more than this machine has, run it on %s.", v.Memory)
	},
	detect: func(in Input) (finding, bool) {
		rec, m := in.Record, in.Record.Machine
		sig, peak := signalName(rec.Signal), rec.Peak()
		near := m.MemLimit > 0 && float64(peak) >= oomShare*float64(m.MemLimit)
		cause, title := causeUnknown, "The kernel died"
		switch {
		case near || sig == "SIGKILL":
			cause, title = causeOOM, "The kernel died, most likely out of memory"
		case sig == "SIGSEGV" || sig == "SIGABRT" || sig == "SIGBUS":
			cause, title = causeCrash, "The kernel crashed ("+sig+")"
		case sig == "":
			cause, title = causeExit, fmt.Sprintf("The kernel exited with status %d", rec.ExitCode)
		}
		f := finding{
			title: title,
			measured: func(s style) string {
				how := fmt.Sprintf("exited with status %s", s.strong(strconv.Itoa(rec.ExitCode)))
				if sig != "" {
					how = "was killed by " + s.strong(sig)
				}
				msg := fmt.Sprintf("While %s ran, the Python kernel %s", s.cell(rec), how)
				if peak > 0 {
					msg += "; its processes had peaked at " + s.strong(formatShare(peak, m.MemLimit))
				}
				msg += "."
				switch cause {
				case causeOOM:
					if near {
						msg += " That is at the memory limit: the likely cause is running out of memory."
					} else {
						msg += " SIGKILL is what the out-of-memory killer sends: the likely cause is running out of memory."
					}
				case causeCrash:
					msg += " The likely cause is a crash in native code (a library bug or a corrupt input)."
				case causeExit:
				default:
					msg += " The cause is unknown."
				}
				return msg
			},
			evidence: map[string]any{
				"peak_rss_bytes": peak, "mem_limit_bytes": m.MemLimit, "signal": sig,
				"cause": cause, "wall_s": seconds(rec.Wall), "exit_code": rec.ExitCode,
			},
		}
		if cause == causeExit {
			f.why = whyExited
			f.todo = func(vendor) string { return "Restart the kernel to go on." }
		}
		if cause == causeOOM {
			f.todo = func(v vendor) string {
				return fmt.Sprintf("Run this step on %s; restarting here will hit the same limit.", v.Memory)
			}
		}
		return f, true
	},
}

// signalNumbers maps the usual numeric forms of the signals we reason about.
var signalNumbers = map[int]string{6: "SIGABRT", 7: "SIGBUS", 9: "SIGKILL", 11: "SIGSEGV", 15: "SIGTERM"}

// signalName normalises "killed", "9", "kill", "SIGKILL" or "signal: killed"
// style reports to "SIGKILL"; unknown names are upper-cased with a SIG prefix.
func signalName(s string) string {
	s = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(s), "signal:"))
	if s == "" {
		return ""
	}
	if n, err := strconv.Atoi(strings.TrimPrefix(s, "-")); err == nil {
		if name, ok := signalNumbers[n]; ok {
			return name
		}
		return "signal " + strconv.Itoa(n)
	}
	switch strings.ToLower(s) {
	case "killed":
		return "SIGKILL"
	case "segmentation fault":
		return "SIGSEGV"
	case "aborted":
		return "SIGABRT"
	case "terminated":
		return "SIGTERM"
	}
	s = strings.ToUpper(s)
	if !strings.HasPrefix(s, "SIG") {
		s = "SIG" + s
	}
	return s
}
