package main

import (
	"context"
	"log/slog"
	"os"

	"github.com/cloudline/cloudline/advisor"
	"github.com/cloudline/cloudline/cellwatch"
	"github.com/cloudline/cloudline/cloud"
	"github.com/cloudline/cloudline/kernel"
	"github.com/cloudline/cloudline/kernelspec"
	"github.com/google/uuid"
)

// watch wires the proxy to cellwatch and the advisor: the proxy's observer
// and idle hold are the watcher's, the watcher's events are judged by the
// advisor, and advice is injected into iopub (cellwatch releases a held
// idle once the cell's CellEnd handlers have returned).
type watch struct {
	p   *kernel.Proxy
	cfg kernelspec.Config
	// place is where the kernel runs (cloud.Detect, at start): inside a
	// cloud job nothing is posted, the history is still written.
	place cloud.Place
	w     *cellwatch.Watcher
	log   *slog.Logger
	stop  context.CancelFunc
	done  chan struct{}

	// Owned by the watcher goroutine (its handlers).
	cool     advisor.Cooldown
	past     []cellwatch.Record       // this notebook's last pastCells records
	pastIn   chan []cellwatch.Record  // the history read at start, once; nil once taken
	pastLate bool                     // it was waited for in vain
	started  bool                     // the first cell has been seen (kernel-start advice)
	notes    map[string]*advisor.Note // execute_request msg_id -> the cell's note
	comm     *live                    // the cloudline comm (see live.go)
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
	place := cloud.Detect(cloud.Env{})
	log.Debug("where the kernel runs", "kind", place.Kind, "cloud", place.Cloud, "instance", place.Instance, "service", place.Service)
	wt := &watch{
		p:      p,
		cfg:    cfg,
		place:  place,
		log:    log,
		notes:  map[string]*advisor.Note{},
		pastIn: make(chan []cellwatch.Record, 1),
		done:   make(chan struct{}),
	}
	wt.w = &cellwatch.Watcher{
		Session:  uuid.NewString(),
		Notebook: notebook,
		Where:    cellwatch.Where{Kind: string(place.Kind), Cloud: place.Cloud, Instance: place.Instance},
		Log:      log.With("part", "cellwatch"),
		History:  cfg.History,
		// A sensitive kernelspec's note belongs to the first cell.
		HoldFirst: cfg.Sensitive,
		Handlers:  []cellwatch.Handler{wt.onEvent},
	}
	wt.comm = newLive(wt)
	p.Observe = wt.w.Observe
	p.HoldIdle = wt.w.HoldIdle
	p.AfterIdle = wt.w.AfterIdle
	p.Started = wt.start
	p.ChildExited = wt.childExited
	if cfg.Sensitive {
		log.Info("this kernelspec is marked sensitive: its work belongs in an isolated cloud environment")
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
	// The history is read beside the watcher, never before it: a history
	// on a hung file system (or a FIFO) must not delay any cell.
	go func() { wt.pastIn <- wt.readPast() }() // pastReader
	go func() {
		defer close(wt.done)
		commDone := make(chan struct{})
		go func() { defer close(commDone); wt.comm.hub.Run(ctx) }()
		defer func() { <-commDone }()
		if err := wt.w.Run(ctx); err != nil {
			wt.log.Warn("cellwatch stopped", "err", err)
		}
	}()
}

// pastCells is how many of a notebook's past cells the stable-model rule
// gets: a few runs of a long notebook.
const pastCells = 500

// readPast reads this notebook's earlier cells from the history (for the
// stable-model rule), off the start-up path.
func (wt *watch) readPast() []cellwatch.Record {
	if wt.cfg.History == "off" {
		return nil
	}
	path := wt.cfg.History
	if path == "" {
		path = cellwatch.DefaultHistoryPath()
	}
	past, err := cellwatch.ReadRecentHistory(path, wt.w.Notebook, pastCells)
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

// childExited runs after the wrapped kernel ended: a death nobody asked for
// ends the running cell with kernel-died advice before we exit. A shutdown
// the frontend asked for, a stop we passed on, or SIGTERM or SIGHUP (how
// clients stop kernels: jupyter_client signals our whole process group, so
// the child may die of it before our own handler has run) is no death.
func (wt *watch) childExited(exit kernel.ExitInfo) {
	if exit.Requested || exit.Stopped || exit.Signal == "SIGTERM" || exit.Signal == "SIGHUP" {
		wt.log.Debug("wrapped kernel stopped", "status", exit.Code, "signal", exit.Signal)
		return
	}
	if exit.Signal != "" {
		wt.log.Warn("wrapped kernel killed", "signal", exit.Signal)
	} else {
		// The code (or a library) ended the process: not an alarm.
		wt.log.Info("wrapped kernel exited", "status", exit.Code)
	}
	wt.w.ChildExited(exit.Signal, exit.Code)
}
