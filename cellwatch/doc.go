// Package cellwatch turns the proxy's message stream and samples of the
// kernel's processes into one Record per executed cell, and is the one
// place that interprets Jupyter cell semantics.
//
// Wiring: Watcher.Observe is the proxy's observer, Watcher.HoldIdle its
// idle hold and Watcher.AfterIdle what it calls as an idle passes; Run handles what was observed and samples the process tree
// while cells run. Handlers receive each cell's events in order: CellStart
// (execute_request seen), CellOutput (outputs seen, once per batch),
// CellTick (live measurements while it runs), CellEnd (the finished
// record). A held idle is released once the CellEnd handlers have returned,
// so what they post reaches the saved notebook; AddAdvice tells the cell's
// next events (and its history line) what was posted.
//
// Figures are exact by construction (reading.go): the tree's counters are
// read as each cell's idle passes, before the frontend's next request can
// reach the kernel; that reading ends the cell and is the next one's
// baseline. The Run goroutine only
// folds readings and samples into records (measure.go), however late it
// gets to them.
//
// It owns everything measured about a cell: the /proc sampling of the
// kernel's process tree (memory peak, CPU, I/O, open files, listening
// ports), machine facts, GPU samples from nvidia-smi, the data a cell's
// code names, progress and metric lines in its output, the busy markers
// shared by kernels on one machine, and the history file. It decides
// nothing: turning records into advice is the advisor's job, and
// forwarding messages is the kernel package's.
package cellwatch
