package cellwatch

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"slices"
	"strings"
	"time"

	"github.com/cloudline/cloudline/kernel"
)

// cell is the state of one execute_request, owned by the Run goroutine.
type cell struct {
	rec      Record
	parent   []byte    // the request's header
	seen     Output    // outputs since the cell's last event
	ids      cellFiles // its files by identity (files.go)
	out      outputParser
	base     baseline
	measured bool      // running in the kernel: baseline taken, sampled
	lastAt   time.Time // last process sample
	lastCPU  time.Duration
	lastWait time.Duration // the tree's run-queue wait at the last sample
	gpuAt    time.Time
	swapBase uint64
	scan     context.CancelFunc // nil when no scan runs
	ports    []int              // listening when it started (awaitListener)
	// The kernel's own dates on its execute_input and idle (see wall).
	kStart, kEnd time.Time
}

// handle dispatches one observed message.
func (w *Watcher) handle(m *kernel.Message) {
	switch m.MsgType {
	case "execute_request":
		w.cellRequested(m)
		return
	case "debug_reply":
		// The debugger may have just started debugpy: its ports are ours.
		w.checkPorts(true)
		return
	case "kernel_info_reply":
		// Every client asks once connected: the kernel is up.
		if len(w.run.cells) == 0 {
			w.kernelPorts()
		}
		return
	}
	if lm, ok := lifeOf(m, w.msgTime(m)); ok {
		if c := w.run.cells[m.ParentMsgID]; c != nil {
			switch lm.kind {
			case lifeInput:
				// The kernel starts running the code now. A request that
				// waited in the kernel's queue (run all) is measured from here.
				c.rec.Started = lm.at
				c.rec.ExecutionCount = executionCount(m.Content)
				c.kStart = kernelDate(m)
			case lifeIdle:
				c.kEnd = kernelDate(m)
			}
		}
		w.follow(w.run.life.step(lm))
	}
	c := w.run.cells[m.ParentMsgID]
	if m.Channel == kernel.IOPub && strings.HasPrefix(m.MsgType, "comm_") {
		w.widgetMsg(c, m)
		return
	}
	if c == nil {
		return
	}
	switch m.MsgType {
	case "stream":
		c.seen.Streams++
		c.seen.LastStream = streamName(m.Content)
		if text, ok := streamText(m.Content); ok {
			c.out.feed(text, w.cellElapsed(c, m))
		}
	case "update_display_data":
		c.seen.Displays++
	case "display_data", "execute_result":
		c.seen.Displays++
		if len(m.Content) > maxDisplayParsed {
			return // a table or an image: no progress line in there
		}
		var d struct {
			Data struct {
				Text json.RawMessage `json:"text/plain"`
			} `json:"data"`
		}
		if json.Unmarshal(m.Content, &d) == nil {
			var text string
			if json.Unmarshal(d.Data.Text, &text) == nil {
				c.out.feed(text, w.cellElapsed(c, m))
			}
		}
	case "error":
		c.seen.Errors++
	}
}

// lifeOf is what the state machine takes of m, if anything.
func lifeOf(m *kernel.Message, at time.Time) (lifeMsg, bool) {
	lm := lifeMsg{id: m.ParentMsgID, at: at}
	switch m.MsgType {
	case "execute_input":
		lm.kind = lifeInput
	case "execute_reply":
		var r struct {
			Status string `json:"status"`
			Ename  string `json:"ename"`
		}
		_ = json.Unmarshal(m.Content, &r)
		lm.kind, lm.status = lifeReply, replyStatus(r.Status, r.Ename)
	case "error":
		var e struct {
			Ename string `json:"ename"`
		}
		_ = json.Unmarshal(m.Content, &e)
		lm.kind, lm.ename = lifeError, e.Ename
	case "status":
		if !m.Idle() {
			return lm, false
		}
		lm.kind = lifeIdle
	default:
		return lm, false
	}
	return lm, true
}

// follow does what the state machine's steps say: baselines and ends (the
// steps of a request are followed by cellRequested).
func (w *Watcher) follow(steps []step) {
	for _, s := range steps {
		c := w.run.cells[s.id]
		if c == nil {
			continue
		}
		switch s.kind {
		case stepRun:
			if !c.measured {
				w.startMeasuring(c, s.at)
			}
		case stepEnd:
			w.cellEnded(c, s.at, s.status, s.signal)
		}
	}
}

// maxDisplayParsed: larger display outputs (a table, an image) hold no
// progress line and are not decoded.
const maxDisplayParsed = 64 << 10

// portsAtEnd: a cell's end checks the listening ports at most this often,
// so a burst of quick cells pays nothing.
const portsAtEnd = time.Second

func (w *Watcher) msgTime(m *kernel.Message) time.Time {
	if m != nil && !m.Time.IsZero() {
		return m.Time
	}
	return w.run.now()
}

// startTime is when the cell began running: its execute_input, or its
// request when the kernel sent none (silent cells).
func (c *cell) startTime() time.Time {
	if c.rec.Started.IsZero() {
		return c.rec.Requested
	}
	return c.rec.Started
}

// cellElapsed is the cell's running time when m arrived.
func (w *Watcher) cellElapsed(c *cell, m *kernel.Message) time.Duration {
	return max(0, w.msgTime(m).Sub(c.startTime()))
}

// cellRequested starts a record: execute_request seen on shell.
func (w *Watcher) cellRequested(m *kernel.Message) {
	rs := w.run
	var content struct {
		Code   string `json:"code"`
		Silent bool   `json:"silent"`
	}
	var meta struct {
		CellID string `json:"cellId"`
	}
	_ = json.Unmarshal(m.Content, &content)
	steps := rs.life.step(lifeMsg{kind: lifeRequest, id: m.MsgID, at: w.msgTime(m), silent: content.Silent})
	if len(steps) == 0 {
		return
	}
	if steps[0].kind == stepDrop {
		rs.log.Debug("cellwatch: request observed after its cell ended; not recorded", "msg_id", m.MsgID)
		w.release(m.MsgID)
		return
	}
	_ = json.Unmarshal(m.Metadata, &meta)
	sum := sha256.Sum256([]byte(content.Code))
	c := &cell{parent: m.Header, rec: Record{
		Session:   w.Session,
		Notebook:  w.Notebook,
		Where:     w.Where,
		CellID:    meta.CellID,
		MsgID:     m.MsgID,
		CodeHash:  hex.EncodeToString(sum[:8]),
		FirstLine: firstLine(content.Code),
		Code:      content.Code,
		Silent:    content.Silent,
		Requested: w.msgTime(m),
		Status:    StatusRunning,
	}}
	rs.cells[m.MsgID] = c
	w.follow(steps) // an idle kernel runs it now (life.request)
	if mf, err := w.machine(c.rec.Requested); err == nil {
		c.rec.Machine = mf
	}
	if !rs.portsKnown {
		// The first cell, with no kernel_info_reply before: no user code
		// has run yet (a server would not be listening within
		// microseconds), so what listens is the kernel's own.
		w.kernelPorts()
	}
	c.rec.ListenPorts = slices.Clone(rs.ports)
	c.ports = c.rec.ListenPorts
	if strings.ContainsAny(content.Code, `'"`) && len(pathLiterals(content.Code)) > 0 {
		// Most cells name a few files: a scan that small is done in
		// microseconds, so CellStart already carries it. Bigger ones (a
		// directory tree) go on in the background.
		quick := ScanCode(rs.ctx, content.Code, rs.dir, ScanLimits{
			Timeout: w.Scan.withDefaults().Before, MaxEntries: 500, MaxLits: 32})
		c.rec.CodePaths, c.rec.CodeBytes = quick.Paths, quick.Bytes
		c.identifyCode(rs.dir)
		if !quick.Cut {
			w.emitStart(c)
			return
		}
		ctx, cancel := context.WithCancel(rs.ctx)
		c.scan = cancel
		code, dir, lim, out, id, runCtx := content.Code, rs.dir, w.Scan, rs.scans, m.MsgID, rs.ctx
		go func() { // codeScanner
			r := scanResult{msgID: id, scan: ScanCode(ctx, code, dir, lim)}
			select {
			case out <- r:
			case <-runCtx.Done(): // Run is gone: nobody reads
			}
		}()
	}
	w.emitStart(c)
}

// emitStart emits CellStart.
func (w *Watcher) emitStart(c *cell) {
	w.emit(CellStart, c)
}

// mergeScan stores a finished code scan in its cell.
func (w *Watcher) mergeScan(r scanResult) {
	c := w.run.cells[r.msgID]
	if c == nil || c.scan == nil {
		return
	}
	c.scan()
	c.scan = nil
	c.rec.CodePaths, c.rec.CodeBytes, c.rec.CodeScanCut = r.scan.Paths, r.scan.Bytes, r.scan.Cut
	c.identifyCode(w.run.dir)
}

// awaitScan waits for a scan still running at the cell's end: up to
// EndWait for it to finish, then, cancelled, up to EndWait again for what
// it found so far. Only cells that name big directories wait at all.
func (w *Watcher) awaitScan(c *cell) {
	if c.scan == nil {
		return
	}
	wait := w.Scan.withDefaults().EndWait
	t := time.NewTimer(wait)
	defer t.Stop()
	cancelled := false
	for c.scan != nil {
		select {
		case r := <-w.run.scans:
			w.mergeScan(r)
		case <-t.C:
			if cancelled {
				c.scan = nil
				c.rec.CodeScanCut = true
				return
			}
			c.scan()
			cancelled = true
			t.Reset(wait)
		}
	}
}

// cellEnded finishes a cell (status from the state machine): final
// sample, CellEnd, release of its idle, history.
func (w *Watcher) cellEnded(c *cell, at time.Time, status Status, signal string) {
	rs := w.run
	w.sampleAll(at, false, rs.cur)
	// Ports are checked here at most once a second, so a burst of quick
	// cells pays nothing: a server a cell started (HTTPServer binds before
	// its thread serves) is seen at its end; the checks every PortsEvery,
	// idle or not, find the rest for the next record.
	if d := rs.now().Sub(rs.portsAt); w.portsEvery() > 0 && (d < 0 || d >= portsAtEnd || mayServe(c.rec.Code)) {
		w.checkPorts(false)
	}
	w.awaitListener(c)
	c.rec.ListenPorts = slices.Clone(rs.ports) // judged at the end: see Record.ListenPorts
	w.awaitScan(c)
	c.resize(rs.dir) // sizes at the end, not when first seen
	c.rec.Status, c.rec.Signal, c.rec.Ended = status, signal, at
	c.rec.Wall = c.wall(at)
	c.rec.Progress = c.out.progress()
	c.rec.Metrics = c.out.metrics
	delete(rs.cells, c.rec.MsgID)
	if len(w.measuredCells()) == 0 {
		if err := rs.busy.set(false); err != nil {
			rs.log.Warn("cellwatch: busy marker", "err", err)
		}
	}
	w.flushOutput(c)
	w.emit(CellEnd, c)
	w.takeAdvice(c) // what the CellEnd handlers posted
	w.release(c.rec.MsgID)
	if w.historyPath() != "" && !c.rec.Silent {
		select {
		case rs.history <- c.rec:
		default:
			rs.log.Warn("cellwatch: history queue full, record dropped", "msg_id", c.rec.MsgID)
		}
	}
}

// kernelDied ends every open cell, oldest first.
func (w *Watcher) kernelDied(signal string, code int) {
	for _, st := range w.run.life.step(lifeMsg{kind: lifeDied, at: w.run.now(), signal: signal}) {
		if c := w.run.cells[st.id]; c != nil && signal == "" {
			c.rec.ExitCode = code
		}
		w.follow([]step{st})
	}
}
