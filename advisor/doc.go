// Package advisor owns cloudline's rules: it turns a cell's measurements
// (cellwatch.Record and its Machine facts) and the kernel's configuration
// (kernelspec.Config) into rendered Advice and the text of the live status
// line.
//
// It is pure: no I/O, no clock (the caller passes the time in), no logging.
// Measuring is cellwatch's job; delivering advice to the notebook, holding
// the cell's idle and choosing when to evaluate are the caller's. Evaluate
// has no memory between calls; Cooldown is the small piece of state that
// keeps the same advice from being repeated.
//
// Which phases each rule is evaluated at:
//
//	kernel-died         KernelDied
//	sensitive-data      KernelStart (sensitive: true), CellStart, Live, CellEnd (paths)
//	dataset-size        CellStart, Live, CellEnd
//	disk-space          Live, CellEnd
//	memory-pressure     Live, CellEnd
//	long-training       Live, CellEnd
//	projected-training  CellStart (the cell's last run was long), Live
//	compute-saturated   Live, CellEnd
//	gpu-saturated       Live, CellEnd
//	parallel-load       Live, CellEnd
//	stable-model        CellEnd
//	local-serving       Live, CellEnd
package advisor
