package cellwatch

import "time"

// Status is how a cell ended.
type Status string

// Cell statuses.
const (
	StatusRunning     Status = "running"
	StatusOK          Status = "ok"
	StatusError       Status = "error"
	StatusAborted     Status = "aborted"
	StatusInterrupted Status = "interrupted"
	StatusKernelDied  Status = "kernel-died"
)

// FileUse is a file or directory a cell read or named, with its size.
type FileUse struct {
	Path  string `json:"path"`
	Bytes int64  `json:"bytes"`
}

// GPU is one sample of the GPUs nvidia-smi reports, summed over devices.
type GPU struct {
	Devices     int     `json:"devices"`
	MemUsed     uint64  `json:"mem_used_bytes"`
	MemTotal    uint64  `json:"mem_total_bytes"`
	UtilPercent float64 `json:"util_percent"` // mean over devices
}

// Progress is what the cell's output says about how far it has got. Its
// JSON form (history.go) has Projected as projected_s.
type Progress struct {
	Fraction  float64       `json:"fraction"` // 0..1
	Elapsed   time.Duration `json:"-"`        // cell time when the progress was seen
	Projected time.Duration `json:"-"`        // projected total cell time
	Source    string        `json:"source"`   // "tqdm", "keras", "epoch", "step"
	Line      string        `json:"line"`     // the line it came from (trimmed)
}

// Machine holds the facts about the machine the advice needs.
type Machine struct {
	TotalRAM     uint64 `json:"total_ram_bytes"`
	MemLimit     uint64 `json:"mem_limit_bytes"` // effective limit: min(RAM, cgroup memory.max, the environment's limits)
	MemAvailable uint64 `json:"mem_available_bytes"`
	SwapUsed     uint64 `json:"swap_used_bytes"`
	DiskFree     uint64 `json:"disk_free_bytes"` // of the kernel's working directory
	DiskTotal    uint64 `json:"disk_total_bytes"`
	Cores        int    `json:"cores"`

	// MemLimitSource says where MemLimit comes from: LimitRAM, LimitCgroup,
	// or the environment variable that set it (LimitMemLimit,
	// LimitKernelMemory, LimitKernelMemoryLimit).
	MemLimitSource string `json:"mem_limit_source,omitempty"`
}

// Where is where the kernel ran: cmd fills it from cloud.Detect at start.
type Where struct {
	Kind     string `json:"kind"`               // local, vm, hub, hosted, gateway, job
	Cloud    string `json:"cloud,omitempty"`    // azure, aws, gcp
	Instance string `json:"instance,omitempty"` // instance type, when the machine says
}

// Record is everything cellwatch knows about one execute_request. Live
// snapshots (cell still running) have Status == StatusRunning and Ended zero.
// Its JSON form is the history line (history.go): the tags name the
// fields, durations go in seconds (wall_s, cpu_s).
type Record struct {
	Session   string    `json:"session"`  // this cloudline process's session id (one kernel run)
	Notebook  string    `json:"notebook"` // JPY_SESSION_NAME, or "" when unknown
	CellID    string    `json:"cell_id"`  // metadata.cellId of the request, when the frontend sent it
	MsgID     string    `json:"msg_id"`   // the execute_request's msg_id
	CodeHash  string    `json:"code_hash"`
	FirstLine string    `json:"first_line"` // TellingLine of the code (history files before it hold the first line)
	Code      string    `json:"-"`          // the cell's source; never written to history
	Silent    bool      `json:"-"`
	Requested time.Time `json:"requested"`
	Started   time.Time `json:"started,omitempty"` // execute_input seen
	Ended     time.Time `json:"ended,omitempty"`   // status idle seen
	Status    Status    `json:"status"`

	Wall        time.Duration      `json:"-"`              // execute_input (or request) to idle
	CPU         time.Duration      `json:"-"`              // user+system of the tree
	PeakRSS     uint64             `json:"peak_rss_bytes"` // kernel process tree
	PeakExact   bool               `json:"peak_exact"`     // VmHWM reset at start worked
	RSS         uint64             `json:"rss_bytes"`      // latest sample
	ReadBytes   uint64             `json:"read_bytes"`
	WriteBytes  uint64             `json:"write_bytes"`
	Files       []FileUse          `json:"files,omitempty"`      // files the kernel opened during the cell
	CodePaths   []FileUse          `json:"code_paths,omitempty"` // paths named in the code that exist
	CodeBytes   int64              `json:"code_bytes"`           // total size of CodePaths
	CodeScanCut bool               `json:"code_scan_cut"`        // the walk stopped early (time or entry bound)
	ListenPorts []int              `json:"listen_ports,omitempty"`
	GPU         *GPU               `json:"gpu,omitempty"` // peak over the cell
	Progress    *Progress          `json:"progress,omitempty"`
	Metrics     map[string]float64 `json:"metrics,omitempty"` // last metric=value lines of the output

	CPUSaturated time.Duration `json:"-"` // time all cores were busy
	GPUSaturated time.Duration `json:"-"` // time the GPU was saturated
	SwapGrowth   uint64        `json:"swap_growth_bytes"`
	OtherBusy    int           `json:"other_busy_kernels"`  // other cloudline kernels busy meanwhile (max seen)
	Signal       string        `json:"signal,omitempty"`    // for kernel-died: the signal that killed the child
	ExitCode     int           `json:"exit_code,omitempty"` // for kernel-died without a signal: the child's exit status

	Machine Machine  `json:"machine"`
	Where   Where    `json:"where,omitzero"`   // Watcher.Where
	Advice  []string `json:"advice,omitempty"` // rule ids posted for this cell

	// ExecutionCount is the number the kernel gave the cell in its
	// execute_input, the "[12]" JupyterLab shows; 0 until known.
	ExecutionCount int `json:"execution_count,omitempty"`
	// ListenPorts (above) of a running cell are the ports seen so far; of
	// an ended one, those still listening at its end: a server stopped
	// before the end served nobody.
}

// Peak is the cell's peak memory as every view shows it (the notes, the
// status line, the footer, `cloudline history`, the report): the peak of
// the kernel's process tree, or its latest sample when that is higher.
func (r Record) Peak() uint64 { return max(r.PeakRSS, r.RSS) }
