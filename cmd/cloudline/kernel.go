package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"runtime/debug"
	"strings"
	"syscall"
	"time"

	"github.com/cloudline/cloudline/kernel"
)

// kernelArgs are the arguments kernel.json passes to `cloudline kernel`.
type kernelArgs struct {
	connFile    string
	resourceDir string
	argv        []string // the wrapped kernel's argv (after --)
	// detached: started by a gateway's remote launch (nohup over SSH, a
	// pod), whose parent exits at once; the gateway watches the kernel
	// through its communication port instead, so the parent is not.
	detached bool
}

func parseKernelArgs(args []string, stderr io.Writer) (kernelArgs, error) {
	var ka kernelArgs
	fs := flag.NewFlagSet("cloudline kernel", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.StringVar(&ka.connFile, "f", "", "connection file written by the frontend")
	fs.StringVar(&ka.resourceDir, "resource-dir", "", "the kernelspec directory (for its kernel.json configuration)")
	if err := fs.Parse(args); err != nil {
		return ka, err
	}
	ka.argv = fs.Args()
	if ka.connFile == "" {
		return ka, errors.New("missing -f CONNECTION_FILE")
	}
	if len(ka.argv) == 0 {
		return ka, errors.New("missing the wrapped kernel's command after --")
	}
	if !strings.Contains(strings.Join(ka.argv, " "), kernel.ChildConnectionPlaceholder) {
		return ka, fmt.Errorf("the wrapped kernel's command must contain %s", kernel.ChildConnectionPlaceholder)
	}
	return ka, nil
}

// newLogger logs to stderr, which Jupyter servers keep in their log and
// nbclient, papermill, `jupyter execute` and consoles show the user (and
// nbclient's own tests require empty on a clean run): warnings only by
// default, and normal lifecycle events are not warnings.
// CLOUDLINE_LOG_LEVEL (debug, info, warn, error) sets the level.
func newLogger(stderr io.Writer) *slog.Logger {
	level := slog.LevelWarn
	if err := level.UnmarshalText([]byte(os.Getenv("CLOUDLINE_LOG_LEVEL"))); err != nil {
		level = slog.LevelWarn
	}
	return slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level})).With("component", "cloudline")
}

func runKernel(ctx context.Context, args []string, _, stderr io.Writer) int {
	ka, err := parseKernelArgs(args, stderr)
	if err != nil {
		fmt.Fprintf(stderr, "cloudline kernel: %v\n", err)
		return 2
	}
	ci, err := kernel.ReadConnectionFile(ka.connFile)
	if err != nil {
		fmt.Fprintf(stderr, "cloudline kernel: %v\n", err)
		return 2
	}
	return serveKernel(ctx, "kernel", ci, ka, stderr, nil)
}

// serveKernel runs the proxy kernel on the frontend sockets ci until the
// wrapped kernel ends, and returns the exit status. prepare, if not nil,
// adds to the proxy's hooks before it runs (cancel stops the kernel).
// cmd names the subcommand in error lines.
func serveKernel(ctx context.Context, cmd string, ci kernel.ConnectionInfo, ka kernelArgs, stderr io.Writer,
	prepare func(p *kernel.Proxy, cancel context.CancelFunc) error) int {
	log := newLogger(stderr)
	log.Debug("cloudline kernel starting", "version", version, "commit", buildCommit())
	// Queued iopub frames are live data, and the GC's default headroom
	// doubles them: a soft limit keeps a stalled subscriber's 128 MiB
	// queue from costing ~400 MB of RSS. GOMEMLIMIT still overrides it.
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(256 << 20)
	}
	if path := os.Getenv("CLOUDLINE_CPUPROFILE"); path != "" {
		stopProfile, err := startCPUProfile(path)
		if err != nil {
			log.Warn("cpu profile not started", "err", err)
		} else {
			defer stopProfile()
		}
	}

	// jupyter_client interrupts by signalling our process group: the
	// wrapped kernel, in the same group, gets SIGINT directly, so we only
	// swallow ours. SIGTERM and SIGHUP stop the kernel cleanly.
	// (Ignoring SIGINT instead would be inherited by the wrapped kernel,
	// and Python then never raises KeyboardInterrupt.) SIGPIPE is caught
	// so that a log line to the stderr of a frontend that died fails
	// instead of killing us before we stop the kernel.
	signal.Notify(make(chan os.Signal, 1), syscall.SIGINT, syscall.SIGPIPE)
	ctx, stop := signal.NotifyContext(ctx, syscall.SIGTERM, syscall.SIGHUP)
	defer stop()
	ctx, parentGone := context.WithCancel(ctx)
	defer parentGone()

	p := &kernel.Proxy{Frontend: ci, ConnectionFile: ka.connFile, Argv: ka.argv, Log: log}
	parent, jpy := parentToWatch(os.Getppid)
	if ka.detached {
		parent = 0
	}
	go watchParent(ctx, parent, os.Getppid, parentPoll, func() {
		log.Warn("parent process gone: shutting down", "parent", parent, "jpy_parent_pid", jpy)
		parentGone()
		// Nobody is left to escalate, as jupyter_client would.
		time.AfterFunc(parentGrace, p.Kill)
	})
	w, err := newWatch(p, ka, log)
	if err != nil {
		fmt.Fprintf(stderr, "cloudline %s: %v\n", cmd, err)
		return 2
	}
	defer w.close()
	if prepare != nil {
		var cancel context.CancelFunc
		ctx, cancel = context.WithCancel(ctx)
		defer cancel()
		if err := prepare(p, cancel); err != nil {
			fmt.Fprintf(stderr, "cloudline %s: %v\n", cmd, err)
			return 2
		}
	}
	exit, err := p.Run(ctx)
	if err != nil {
		fmt.Fprintf(stderr, "cloudline %s: %v\n", cmd, err)
		return 2
	}
	log.Debug("wrapped kernel ended", "status", exit.Code, "signal", exit.Signal, "requested", exit.Requested)
	return exit.Code
}
