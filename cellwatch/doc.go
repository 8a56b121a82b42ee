// Package cellwatch turns the proxy's message stream and samples of the
// kernel's processes into one Record per executed cell.
//
// It owns everything measured about a cell: the execute_request ->
// execute_input -> outputs -> execute_reply -> status idle bookkeeping, the
// /proc sampling of the kernel's process tree (memory peak, CPU, I/O, open
// files, listening ports), machine facts (RAM, cgroup limits, swap, disk,
// cores), GPU samples from nvidia-smi, the data a cell's code names, progress
// and metric lines in its output, the busy markers shared by kernels on one
// machine, and the history file. It decides nothing: turning records into
// advice is the advisor's job, and forwarding messages is the kernel
// package's.
package cellwatch
