package main

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cloudline/cloudline/advisor"
	"github.com/cloudline/cloudline/cellwatch"
	"github.com/cloudline/cloudline/kernel"
	"github.com/cloudline/cloudline/kernelspec"
	"github.com/google/uuid"
)

// quickCell is how long a trivial cell may run and still have its idle
// forwarded without waiting for cellwatch: holding every cell would add the
// end-of-cell measurement to each round trip. A cell is trivial when it
// has no output or error (a metric line may make the model stable), no
// string literal in its code (one may name a dataset or sensitive data)
// and is not the first cell of a sensitive kernelspec. Advice for a
// trivial cell (rare) still shows live, just after the idle.
const quickCell = 20 * time.Millisecond

// maxRequests is how many requests' states are kept before old ones go.
const maxRequests = 1024

// statusEvery is how often the live status line is refreshed.
const statusEvery = 2 * time.Second

// watch wires the proxy to cellwatch and the advisor: the proxy's observer
// feeds the watcher, the watcher's events are judged by the advisor, and
// advice is injected into iopub before the cell's idle is released.
type watch struct {
	p    *kernel.Proxy
	cfg  kernelspec.Config
	w    *cellwatch.Watcher
	log  *slog.Logger
	stop context.CancelFunc
	done chan struct{}

	mu          sync.Mutex
	reqs        map[string]*request // execute_request msg_id -> its state
	seenRequest bool                // a non-silent execute_request has been seen

	// Owned by the watcher goroutine (OnEvent).
	cool    advisor.Cooldown
	past    []cellwatch.Record
	started bool // the first cell has been seen (kernel-start advice)
	live    map[string]*liveLine
}

// request is what the forwarding path keeps about an execute_request.
type request struct {
	parent json.RawMessage // its header: the parent of what we inject
	at     time.Time
	ended  chan struct{} // closed when its advice has been posted
	output atomic.Bool   // the cell produced output or an error
	hold   bool          // held whatever its speed (see quickCell)
	held   atomic.Bool   // its idle is being held: cellwatch must not wait
}

// liveLine is a cell's status display.
type liveLine struct {
	id   string
	last time.Time
}

func newWatch(p *kernel.Proxy, ka kernelArgs, log *slog.Logger) (*watch, error) {
	cfg, warnings, err := loadConfig(ka.resourceDir)
	if err != nil {
		log.Warn("configuration not read; using defaults", "err", err)
	}
	for _, w := range warnings {
		log.Warn("configuration: " + w)
	}
	notebook := os.Getenv("JPY_SESSION_NAME")
	wt := &watch{
		p:    p,
		cfg:  cfg,
		log:  log,
		reqs: map[string]*request{},
		live: map[string]*liveLine{},
		done: make(chan struct{}),
	}
	wt.w = &cellwatch.Watcher{
		Session:  uuid.NewString(),
		Notebook: notebook,
		Log:      log.With("part", "cellwatch"),
		History:  cfg.History,
		OnEvent:  wt.onEvent,
	}
	p.Observe = wt.observe
	p.HoldIdle = wt.holdIdle
	p.Started = wt.start
	p.ChildExited = wt.childExited
	if cfg.Sensitive {
		log.Warn("this kernelspec is marked sensitive: its work belongs in an isolated cloud environment")
	}
	return wt, nil
}

func loadConfig(resourceDir string) (kernelspec.Config, []string, error) {
	if resourceDir == "" {
		cfg, warnings := kernelspec.ParseConfig(nil, os.Environ())
		return cfg, warnings, nil
	}
	cfg, warnings, err := kernelspec.LoadConfig(resourceDir, os.Environ())
	if err != nil {
		cfg, warnings = kernelspec.ParseConfig(nil, os.Environ())
	}
	return cfg, warnings, err
}

// start runs the watcher once the wrapped kernel is up.
func (wt *watch) start(pid int) {
	wt.w.PID = pid
	wt.w.IgnorePorts = wt.p.KernelPorts()
	ctx, cancel := context.WithCancel(context.Background())
	wt.stop = cancel
	go func() {
		defer close(wt.done)
		wt.past = wt.readPast()
		if err := wt.w.Run(ctx); err != nil {
			wt.log.Warn("cellwatch stopped", "err", err)
		}
	}()
}

// readPast reads this notebook's earlier cells from the history (for the
// stable-model rule), off the start-up path: the watcher goroutine does it
// before its first event.
func (wt *watch) readPast() []cellwatch.Record {
	if wt.cfg.History == "off" {
		return nil
	}
	path := wt.cfg.History
	if path == "" {
		path = cellwatch.DefaultHistoryPath()
	}
	past, err := cellwatch.ReadHistory(path, wt.w.Notebook, 500)
	if err != nil {
		wt.log.Debug("history not read", "err", err)
	}
	return past
}

// close stops the watcher and waits for its history to be written.
func (wt *watch) close() {
	if wt.stop == nil {
		return
	}
	wt.stop()
	<-wt.done
}

// observe runs on the proxy's forwarding goroutines: it must not block.
func (wt *watch) observe(m *kernel.Message) {
	if m.MsgType == "execute_request" && m.Direction == kernel.FromFrontend {
		// A string literal in the code shows in the JSON as \" or '.
		literal := bytes.Contains(m.Content, []byte(`\"`)) || bytes.IndexByte(m.Content, '\'') >= 0
		silent := bytes.Contains(m.Content, []byte(`"silent": true`)) || bytes.Contains(m.Content, []byte(`"silent":true`))
		wt.mu.Lock()
		if len(wt.reqs) >= maxRequests {
			// Entries leave when their cell ends; a request whose end
			// was observed before it (see kernel.Proxy.Observe) never
			// does. Old ones go.
			for id, r := range wt.reqs {
				if m.Time.Sub(r.at) > time.Hour {
					delete(wt.reqs, id)
				}
			}
		}
		first := !wt.seenRequest && !silent
		wt.seenRequest = wt.seenRequest || !silent
		wt.reqs[m.MsgID] = &request{parent: m.Header, at: m.Time, ended: make(chan struct{}),
			hold: literal || (first && wt.cfg.Sensitive)}
		wt.mu.Unlock()
	}
	if m.Channel == kernel.IOPub && m.ParentMsgType == "execute_request" && producesOutput[m.MsgType] {
		if r := wt.request(m.ParentMsgID); r != nil {
			r.output.Store(true)
		}
	}
	wt.w.Observe(m)
	if m.ParentMsgType == "execute_request" && m.Idle() {
		if r := wt.request(m.ParentMsgID); r != nil && r.held.Load() {
			wt.w.Wake() // the proxy waits for this cell's advice
		}
	}
}

// producesOutput lists the iopub messages that make a cell worth holding.
var producesOutput = map[string]bool{"stream": true, "display_data": true, "execute_result": true, "error": true}

// holdIdle decides whether the proxy waits before forwarding a cell's idle.
func (wt *watch) holdIdle(msgID string) <-chan struct{} {
	wt.mu.Lock()
	r := wt.reqs[msgID]
	wt.mu.Unlock()
	if r == nil || (time.Since(r.at) < quickCell && !r.output.Load() && !r.hold) {
		return nil
	}
	r.held.Store(true)
	return r.ended
}

func (wt *watch) request(msgID string) *request {
	wt.mu.Lock()
	defer wt.mu.Unlock()
	return wt.reqs[msgID]
}

// childExited runs after the wrapped kernel ended: a death nobody asked for
// ends the running cell with kernel-died advice before we exit.
func (wt *watch) childExited(exit kernel.ExitInfo) {
	if exit.Requested {
		return
	}
	wt.log.Warn("wrapped kernel died", "status", exit.Code, "signal", exit.Signal)
	wt.w.ChildExited(exit.Signal)
}
