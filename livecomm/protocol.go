package livecomm

import (
	"time"

	"github.com/cloudline/cloudline/cellwatch"
)

// Version is the protocol version every message carries as "v".
const Version = 1

// TargetName is the comm target the extension opens.
const TargetName = "cloudline"

// Message types, kernel to frontend.
const (
	TypeHello   = "hello"    // answer to comm_open: settings and the notebook's history
	TypeCell    = "cell"     // a running cell, every CellEvery
	TypeCellEnd = "cell_end" // a cell's summary, once, at its end
	TypeKernel  = "kernel"   // the kernel's memory, every KernelEvery while a comm is open
)

// TypeRefresh is the one message a frontend may send: answered with a
// hello and a kernel message.
const TypeRefresh = "refresh"

// Finding is a rule that fired for a cell, as the footer shows it.
type Finding struct {
	Rule     string `json:"rule"`
	Headline string `json:"headline"`
}

// Progress is how far a cell has got, from its output.
type Progress struct {
	Fraction   float64 `json:"fraction"`
	ProjectedS float64 `json:"projected_s,omitempty"` // projected total run time; 0 = not yet steady
	Source     string  `json:"source,omitempty"`
}

// cellMsg is a TypeCell or TypeCellEnd message.
type cellMsg struct {
	V          int       `json:"v"`
	Type       string    `json:"type"`
	MsgID      string    `json:"msg_id"`
	CellID     string    `json:"cell_id,omitempty"`
	Status     string    `json:"status"` // cellwatch.Status: "running", "ok", "error", ...
	ElapsedS   float64   `json:"elapsed_s"`
	CPUS       float64   `json:"cpu_s"`
	PeakRSS    uint64    `json:"peak_rss_bytes"`
	MemLimit   uint64    `json:"mem_limit_bytes"`
	ReadBytes  uint64    `json:"read_bytes"`
	GPU        *gpuMsg   `json:"gpu,omitempty"`
	Progress   *Progress `json:"progress,omitempty"`
	Findings   []Finding `json:"findings"`
	LastRunS   float64   `json:"last_run_s,omitempty"` // the same cell's previous run in the history
	StartedISO string    `json:"started"`
}

type gpuMsg struct {
	Devices  int     `json:"devices"`
	MemUsed  uint64  `json:"mem_used_bytes"`
	MemTotal uint64  `json:"mem_total_bytes"`
	UtilPct  float64 `json:"util_percent"`
}

func gpuOf(g *cellwatch.GPU) *gpuMsg {
	if g == nil || g.Devices == 0 {
		return nil
	}
	return &gpuMsg{Devices: g.Devices, MemUsed: g.MemUsed, MemTotal: g.MemTotal, UtilPct: g.UtilPercent}
}

// KernelStatus is one reading of the kernel's process tree for the status bar.
type KernelStatus struct {
	RSS         uint64         // the tree's resident memory
	MemLimit    uint64         // the effective limit
	LimitSource string         // cellwatch.Machine.MemLimitSource: "cgroup", "ram", "MEM_LIMIT", ...
	GPU         *cellwatch.GPU // nil = no GPU
}

type kernelMsg struct {
	V              int     `json:"v"`
	Type           string  `json:"type"`
	RSS            uint64  `json:"rss_bytes"`
	MemLimit       uint64  `json:"mem_limit_bytes"`
	LimitSource    string  `json:"limit_source"`
	MemoryFraction float64 `json:"memory_fraction"`
	GPU            *gpuMsg `json:"gpu,omitempty"`
}

// PastCell is a cell the history knows, for "last run" in the footer.
type PastCell struct {
	CellID   string
	CodeHash string
	Wall     time.Duration
	Ended    time.Time
}

type pastMsg struct {
	CellID   string  `json:"cell_id,omitempty"`
	CodeHash string  `json:"code_hash"`
	WallS    float64 `json:"wall_s"`
	Ended    string  `json:"ended"`
}

type helloMsg struct {
	V              int       `json:"v"`
	Type           string    `json:"type"`
	MemoryFraction float64   `json:"memory_fraction"`
	LiveAfterS     float64   `json:"live_after_s"`
	TrainingTimeS  float64   `json:"training_time_s"`
	History        []pastMsg `json:"history"`
}

// inbound is what a frontend may send in comm_open and comm_msg data.
type inbound struct {
	V    *int   `json:"v"`
	Type string `json:"type"`
}
