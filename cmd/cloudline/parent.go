package main

import (
	"context"
	"os"
	"strconv"
	"time"
)

// The kernel shuts down when the process that started it goes away, as
// ipykernel does (its ParentPollerUnix): a frontend that was SIGKILLed
// (jupyter_server, papermill, nbclient, a console) must not leave kernels
// holding RAM and GPU. Under cloudline ipykernel's parent is cloudline, so
// cloudline does the watching. ipykernel watches JPY_PARENT_PID when it is
// its parent, else for re-parenting to pid 1; watching for any change of
// our parent covers both and a sub-reaper (tini, systemd --user), which
// adopts orphans instead of pid 1.

// parentPoll is how often the parent is checked (ipykernel: 1 s).
const parentPoll = time.Second

// parentGrace is how long the wrapped kernel gets to stop after our parent
// is gone before it is killed: nobody is left to escalate.
const parentGrace = 2 * time.Second

// parentToWatch returns the pid whose going away ends the kernel, or 0 for
// none: our parent at start, unless that is already pid 1 (init never goes
// away; ipykernel does not poll then either). JPY_PARENT_PID, when set, is
// only checked against it, for the log.
func parentToWatch(getppid func() int) (pid int, jpyMatches bool) {
	ppid := getppid()
	if ppid <= 1 {
		return 0, false
	}
	jpy, err := strconv.Atoi(os.Getenv("JPY_PARENT_PID"))
	return ppid, err == nil && jpy == ppid
}

// watchParent calls gone once getppid no longer returns parent, checking
// every `every`, until ctx ends. It runs on its own goroutine.
func watchParent(ctx context.Context, parent int, getppid func() int, every time.Duration, gone func()) {
	if parent == 0 {
		return
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if getppid() != parent {
				gone()
				return
			}
		}
	}
}
