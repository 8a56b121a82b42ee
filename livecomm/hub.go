package livecomm

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cloudline/cloudline/kernel"
)

// Defaults of Hub's pacing.
const (
	// DefaultCellEvery is how often a running cell's figures are sent:
	// the extension's footer redraws its clock itself every second, so
	// the figures only need to be fresh, not smooth.
	DefaultCellEvery = 2 * time.Second
	// DefaultFirstAfter is when a running cell's first figures are sent:
	// before the footer's default minimum (2 s), so it opens with numbers.
	DefaultFirstAfter = time.Second
	// DefaultKernelEvery paces the status bar's readings (one tree scan,
	// well under a millisecond of CPU, every 5 s while a comm is open).
	DefaultKernelEvery = 5 * time.Second
	// DefaultMaxComms bounds the comms kept open: a closed browser tab
	// never sends comm_close, so the oldest goes when a new one opens.
	DefaultMaxComms = 16
	// maxPast bounds the cells remembered for "last run".
	maxPast = 512
)

// Settings are the kernelspec values the extension shows or colours by.
type Settings struct {
	MemoryFraction float64
	LiveAfter      time.Duration
	TrainingTime   time.Duration
}

// Hub keeps the open cloudline comms and sends them what cellwatch
// measures. Configure the exported fields before Run; Inject is required.
// Intercept is called on the proxy's shell goroutines, Cell, Finding, End
// and Remember on the watcher's, and Run on a goroutine of its own.
type Hub struct {
	// Inject posts an iopub message as the kernel (kernel.Proxy.Inject).
	Inject func(parent json.RawMessage, msgType string, content, metadata any) error
	// Kernel reads the kernel's process tree for the status bar, on Run's
	// goroutine; nil = no kernel messages.
	Kernel   func() (KernelStatus, error)
	Settings Settings
	Log      *slog.Logger // nil = discard

	CellEvery   time.Duration // 0 = DefaultCellEvery
	FirstAfter  time.Duration // 0 = DefaultFirstAfter
	KernelEvery time.Duration // 0 = DefaultKernelEvery
	MaxComms    int           // 0 = DefaultMaxComms

	once      sync.Once
	wake      chan struct{} // cap 1: a hello or refresh is pending
	connected atomic.Bool

	mu       sync.Mutex // guards the fields below
	comms    []openComm // oldest first
	hellos   []string   // comm ids owed a hello
	cells    map[string]*liveCell
	past     map[string]PastCell // cell id -> its last run
	pastList []string            // cell ids, oldest first (bounded by maxPast)
}

type openComm struct {
	id     string
	parent json.RawMessage // the comm_open's header: the parent of what we send it
}

// liveCell is what has been sent about a running cell.
type liveCell struct {
	sent     time.Time
	findings []Finding
	lastRun  time.Duration
}

func (h *Hub) init() {
	h.once.Do(func() {
		h.wake = make(chan struct{}, 1)
		h.cells = map[string]*liveCell{}
		h.past = map[string]PastCell{}
		if h.Log == nil {
			h.Log = slog.New(slog.DiscardHandler)
		}
	})
}

// Connected reports whether a frontend holds a cloudline comm: the program
// then posts no live output into cells (the extension shows it) and a
// cell's note once, at its end.
func (h *Hub) Connected() bool { return h.connected.Load() }

// commContent is the part of comm_open, comm_msg and comm_close we read.
type commContent struct {
	CommID     string          `json:"comm_id"`
	TargetName string          `json:"target_name"`
	Data       json.RawMessage `json:"data"`
}

// Intercept is the proxy's hook for frontend shell messages: it consumes
// (returns true for) comm_open with target "cloudline" and comm_msg and
// comm_close of comms it opened; everything else goes on to the wrapped
// kernel. It never blocks: replies are sent from Run.
func (h *Hub) Intercept(m *kernel.Message) bool {
	switch m.MsgType {
	case "comm_open", "comm_msg", "comm_close":
	default:
		return false
	}
	h.init()
	var c commContent
	if err := json.Unmarshal(m.Content, &c); err != nil || c.CommID == "" {
		return false // not ours to judge: the wrapped kernel answers it
	}
	if m.MsgType == "comm_open" {
		if c.TargetName != TargetName {
			return false
		}
		h.open(c, m.Header)
		return true
	}
	if !h.isOpen(c.CommID) {
		return false
	}
	if m.MsgType == "comm_close" {
		h.remove(c.CommID)
		return true
	}
	in, ok := parseInbound(c.Data)
	if !ok || in.Type != TypeRefresh {
		h.Log.Warn("dropped comm message", "comm", c.CommID, "err", "not a v1 refresh request")
		return true
	}
	h.mu.Lock()
	h.hellos = append(h.hellos, c.CommID)
	h.mu.Unlock()
	h.poke()
	return true
}

// parseInbound accepts {"v": 1, ...}.
func parseInbound(data json.RawMessage) (inbound, bool) {
	var in inbound
	if err := json.Unmarshal(data, &in); err != nil || in.V == nil || *in.V != Version {
		return in, false
	}
	return in, true
}

func (h *Hub) open(c commContent, header json.RawMessage) {
	if _, ok := parseInbound(c.Data); !ok {
		h.Log.Warn("refused comm", "comm", c.CommID, "err", "comm_open data is not {\"v\": 1}")
		if err := h.Inject(bytes.Clone(header), "comm_close", map[string]any{"comm_id": c.CommID, "data": map[string]any{"v": Version, "error": "unsupported version"}}, nil); err != nil {
			h.Log.Warn("comm close not sent", "err", err)
		}
		return
	}
	maxComms := h.MaxComms
	if maxComms <= 0 {
		maxComms = DefaultMaxComms
	}
	h.mu.Lock()
	if len(h.comms) >= maxComms {
		h.comms = h.comms[1:]
	}
	h.comms = append(h.comms, openComm{id: c.CommID, parent: bytes.Clone(header)})
	h.hellos = append(h.hellos, c.CommID)
	h.connected.Store(true)
	h.mu.Unlock()
	h.Log.Debug("comm opened", "comm", c.CommID)
	h.poke()
}

func (h *Hub) isOpen(id string) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, c := range h.comms {
		if c.id == id {
			return true
		}
	}
	return false
}

func (h *Hub) remove(id string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for i, c := range h.comms {
		if c.id == id {
			h.comms = append(h.comms[:i:i], h.comms[i+1:]...)
			break
		}
	}
	h.connected.Store(len(h.comms) > 0)
	h.Log.Debug("comm closed", "comm", id)
}

func (h *Hub) poke() {
	select {
	case h.wake <- struct{}{}:
	default:
	}
}

// snapshot returns the open comms.
func (h *Hub) snapshot() []openComm {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]openComm(nil), h.comms...)
}

// send posts data to every open comm (to one, when only is set).
func (h *Hub) send(data any, only string) {
	for _, c := range h.snapshot() {
		if only != "" && c.id != only {
			continue
		}
		if err := h.Inject(c.parent, "comm_msg", map[string]any{"comm_id": c.id, "data": data}, nil); err != nil {
			h.Log.Debug("comm message not sent", "err", err)
		}
	}
}

// Run sends hellos and, while a comm is open, the kernel's memory every
// KernelEvery, until ctx ends. With no comm open it waits and costs nothing.
func (h *Hub) Run(ctx context.Context) {
	h.init()
	every := h.KernelEvery
	if every <= 0 {
		every = DefaultKernelEvery
	}
	t := time.NewTimer(every)
	t.Stop()
	for {
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-h.wake:
			h.greet()
		case <-t.C:
		}
		if !h.Connected() {
			continue
		}
		h.sendKernel()
		t.Reset(every)
	}
}

// greet sends the comms owed a hello their hello.
func (h *Hub) greet() {
	h.mu.Lock()
	ids := h.hellos
	h.hellos = nil
	hist := h.history()
	h.mu.Unlock()
	msg := helloMsg{V: Version, Type: TypeHello, MemoryFraction: h.Settings.MemoryFraction,
		LiveAfterS: h.Settings.LiveAfter.Seconds(), TrainingTimeS: h.Settings.TrainingTime.Seconds(), History: hist}
	for _, id := range ids {
		h.send(msg, id)
	}
}

func (h *Hub) sendKernel() {
	if h.Kernel == nil {
		return
	}
	ks, err := h.Kernel()
	if err != nil {
		h.Log.Debug("kernel memory not read", "err", err)
		return
	}
	h.send(kernelMsg{V: Version, Type: TypeKernel, RSS: ks.RSS, MemLimit: ks.MemLimit,
		LimitSource: ks.LimitSource, MemoryFraction: h.Settings.MemoryFraction, GPU: gpuOf(ks.GPU)}, "")
}
