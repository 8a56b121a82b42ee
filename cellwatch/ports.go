package cellwatch

import (
	"bytes"
	"slices"
	"strings"
	"time"
)

// Listening ports of the kernel's tree: a model served from the laptop.

// kernelPorts takes what the kernel listens on before any cell ran as its
// own (ipykernel's IOPub event pipe listens on a loopback port).
func (w *Watcher) kernelPorts() {
	if w.run.portsKnown {
		return
	}
	w.run.portsKnown = true
	w.checkPorts(true)
}

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
var serveWords = []string{"serve", "Server", "server", "run(", "app.run", "run_simple", "listen", "launch", "Cluster", "tensorboard", "uvicorn", "Flask", "gradio"}

// mayServe reports whether code may start a listener.
func mayServe(code string) bool {
	for _, w := range serveWords {
		if strings.Contains(code, w) {
			return true
		}
	}
	return false
}

// A server started in the background (a thread running werkzeug's
// run_simple, Flask's app.run or uvicorn.run; a subprocess) binds its port
// after the cell that started it has returned: werkzeug's listens some
// 10-50 ms later, uvicorn's 0.1-0.3 s, while the cell's end is judged
// within a millisecond of its idle. Seen only later, the port would go to
// the next cell (worded with its code), or to none. So a cell whose code
// starts a server in the background, and that has left no new port, is
// given up to listenWait for one, checked every listenPoll, its idle held
// meanwhile (holds.observe holds such cells). listenWait stays well under
// the proxy's bound on a held idle (kernel.Proxy.IdleHold, 2 s), which
// the rest of the cell's end needs too.
const (
	listenWait = time.Second
	listenPoll = 50 * time.Millisecond
)

// awaitListener waits, at c's end, for the port of a server c started in
// the background (see listenWait).
func (w *Watcher) awaitListener(c *cell) {
	rs := w.run
	if w.PID <= 0 || w.portsEvery() <= 0 || !servesInBackground(c.rec.Code) {
		return
	}
	t := time.NewTimer(listenPoll)
	defer t.Stop()
	for range listenWait / listenPoll {
		if slices.ContainsFunc(rs.ports, func(p int) bool { return !slices.Contains(c.ports, p) }) {
			return
		}
		select {
		case <-rs.ctx.Done():
			return
		case <-t.C:
		}
		t.Reset(listenPoll)
		w.checkPorts(false)
	}
}

// backgroundWords are what code that starts work in the background says.
var backgroundWords = []string{"Thread", "thread", "Popen", "Process(", "daemon", "run_in_executor", "create_task"}

// servesInBackground reports whether code may start a listener that
// binds after the code has returned.
func servesInBackground(code string) bool {
	return mayServe(code) && slices.ContainsFunc(backgroundWords, func(w string) bool { return strings.Contains(code, w) })
}

// servesInBackgroundJSON is servesInBackground over an execute_request's
// JSON content, without a copy (none of the words holds a character JSON
// escapes).
func servesInBackgroundJSON(content []byte) bool {
	has := func(words [][]byte) bool {
		return slices.ContainsFunc(words, func(w []byte) bool { return bytes.Contains(content, w) })
	}
	return has(serveBytes) && has(backgroundBytes)
}

var serveBytes, backgroundBytes = asBytes(serveWords), asBytes(backgroundWords)

func asBytes(words []string) [][]byte {
	out := make([][]byte, len(words))
	for i, w := range words {
		out[i] = []byte(w)
	}
	return out
}
