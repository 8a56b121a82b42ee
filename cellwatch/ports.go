package cellwatch

import (
	"slices"
	"strings"
	"time"
)

// Listening ports of the kernel's tree: a model served from the laptop.

// checkPorts refreshes the listening ports of the tree. It runs every
// PortsEvery while idle and at each cell's end. With own set, every port
// found is the kernel's own: ipykernel listens on a loopback port of its
// own (the IOPub event pipe) before any cell runs, and debugpy and its
// adapter listen once the debugger starts. Those are never reported.
func (w *Watcher) checkPorts(own bool) {
	rs := w.run
	if w.PID <= 0 {
		return
	}
	now := rs.now()
	if d := now.Sub(rs.treeAt); d < 0 || d >= time.Second || len(rs.tree) == 0 {
		tree, err := rs.proc.Tree(w.PID)
		if err != nil {
			return
		}
		rs.tree, rs.treeAt = tree, now
	}
	rs.portsAt = now
	ports, err := rs.proc.ListenPorts(rs.tree)
	if err != nil {
		rs.log.Debug("cellwatch: listening ports", "err", err)
		return
	}
	if rs.ownPorts == nil {
		rs.ownPorts = map[int]bool{}
		for _, p := range w.IgnorePorts {
			rs.ownPorts[p] = true
		}
	}
	if own {
		for _, p := range ports {
			rs.ownPorts[p] = true
		}
	}
	rs.ports = slices.DeleteFunc(ports, func(p int) bool { return rs.ownPorts[p] })
}

// union merges two sorted port lists.
func union(a, b []int) []int {
	out := slices.Clone(a)
	for _, p := range b {
		if !slices.Contains(out, p) {
			out = append(out, p)
		}
	}
	slices.Sort(out)
	return out
}

// serveWords are what code that starts a server says; a cell whose code
// has one gets its ports checked at its end even within a second of the
// last check (a burst of quick cells is otherwise checked once a second).
var serveWords = []string{"serve", "Server", "server", "run(", "listen", "launch", "Cluster", "tensorboard", "uvicorn", "Flask", "gradio"}

// mayServe reports whether code may start a listener.
func mayServe(code string) bool {
	for _, w := range serveWords {
		if strings.Contains(code, w) {
			return true
		}
	}
	return false
}
