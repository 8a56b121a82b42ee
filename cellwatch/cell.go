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
	errName  string    // ename of an error output
	reply    Status    // from execute_reply; "" = not seen yet
	measured bool      // running in the kernel: baseline taken, sampled
	lastAt   time.Time // last process sample
	lastCPU  time.Duration
	gpuAt    time.Time
	swapBase uint64
	scan     context.CancelFunc // nil when no scan runs
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
	c := w.run.cells[m.ParentMsgID]
	if c == nil {
		// A cell we did not see start, or one already ended. The proxy
		// observes a request after forwarding it, so on a loaded machine
		// its idle may be observed first: the request must not then open
		// a cell that never ends.
		if m.MsgType == "execute_reply" || m.Idle() {
			w.run.unseen.add(m.ParentMsgID)
		}
		return
	}
	switch m.MsgType {
	case "execute_input":
		// The kernel starts running the code now. A request that waited
		// in the kernel's queue (run all) is measured from here.
		c.rec.Started = w.msgTime(m)
		w.endReplied(c)
		if !c.measured {
			w.startMeasuring(c, c.rec.Started)
		}
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
		var e struct {
			Ename string `json:"ename"`
		}
		if json.Unmarshal(m.Content, &e) == nil {
			c.errName = e.Ename
		}
	case "execute_reply":
		var r struct {
			Status string `json:"status"`
			Ename  string `json:"ename"`
		}
		if json.Unmarshal(m.Content, &r) == nil {
			c.reply = replyStatus(r.Status, r.Ename)
		}
	case "status":
		var s struct {
			State string `json:"execution_state"`
		}
		if json.Unmarshal(m.Content, &s) == nil && s.State == "idle" {
			w.cellEnded(c, w.msgTime(m), "", "")
		}
	}
}

// maxDisplayParsed: larger display outputs (a table, an image) hold no
// progress line and are not decoded.
const maxDisplayParsed = 64 << 10

// portsAtEnd: a cell's end checks the listening ports at most this often,
// so a burst of quick cells pays nothing.
const portsAtEnd = time.Second

// endedUnseen remembers the last few msg_ids whose reply or idle came
// with no cell open for them.
type endedUnseen struct {
	ids  [32]string
	next int
}

func (e *endedUnseen) add(id string) {
	if id == "" || e.has(id) {
		return
	}
	e.ids[e.next] = id
	e.next = (e.next + 1) % len(e.ids)
}

func (e *endedUnseen) has(id string) bool {
	return id != "" && slices.Contains(e.ids[:], id)
}

func replyStatus(status, ename string) Status {
	switch status {
	case "ok":
		return StatusOK
	case "aborted":
		return StatusAborted
	case "error":
		if ename == "KeyboardInterrupt" {
			return StatusInterrupted
		}
		return StatusError
	}
	return StatusError
}

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
	if m.MsgID == "" || rs.cells[m.MsgID] != nil {
		return
	}
	if rs.unseen.has(m.MsgID) {
		rs.log.Debug("cellwatch: request observed after its cell ended; not recorded", "msg_id", m.MsgID)
		w.release(m.MsgID)
		return
	}
	var content struct {
		Code   string `json:"code"`
		Silent bool   `json:"silent"`
	}
	var meta struct {
		CellID string `json:"cellId"`
	}
	_ = json.Unmarshal(m.Content, &content)
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
	if len(rs.cells) == 1 || c.rec.Silent {
		// The kernel is idle, so it runs this cell next, within a
		// millisecond (and a silent one sends no execute_input): take the
		// baseline now, before the watcher does anything slower or falls
		// behind. A request queued behind others waits for its
		// execute_input.
		w.startMeasuring(c, c.rec.Requested)
	}
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

// kernelPorts takes what the kernel listens on before any cell ran as its
// own (ipykernel's IOPub event pipe listens on a loopback port).
func (w *Watcher) kernelPorts() {
	if w.run.portsKnown {
		return
	}
	w.run.portsKnown = true
	w.checkPorts(true)
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

// cellEnded finishes a cell: final sample, status, CellEnd, history.
func (w *Watcher) cellEnded(c *cell, at time.Time, status Status, signal string) {
	rs := w.run
	w.sampleAll(at, false, rs.cur)
	// Ports are checked here at most once a second, so a burst of quick
	// cells pays nothing: a server a cell started (HTTPServer binds before
	// its thread serves) is seen at its end; the checks every PortsEvery,
	// idle or not, find the rest for the next record.
	if d := rs.now().Sub(rs.portsAt); w.portsEvery() > 0 && (d < 0 || d >= portsAtEnd) {
		w.checkPorts(false)
	}
	c.rec.ListenPorts = union(c.rec.ListenPorts, rs.ports)
	w.awaitScan(c)
	c.resize(rs.dir) // sizes at the end, not when first seen
	if status == "" {
		status = c.reply
	}
	if status == "" {
		// The idle overtook the reply (they travel on different sockets).
		switch {
		case c.errName == "KeyboardInterrupt":
			status = StatusInterrupted
		case c.errName != "":
			status = StatusError
		case c.rec.Started.IsZero() && !c.rec.Silent:
			status = StatusAborted
		default:
			status = StatusOK
		}
	}
	c.rec.Status, c.rec.Signal, c.rec.Ended = status, signal, at
	c.rec.Wall = max(0, at.Sub(c.startTime()))
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

// endReplied ends the cells that got their execute_reply but whose idle
// never came (a message lost on the way) when another cell starts: left
// alone they would be sampled forever.
func (w *Watcher) endReplied(next *cell) {
	for _, c := range w.measuredCells() {
		if c != next && c.reply != "" {
			w.run.log.Debug("cellwatch: idle missing, cell ended at the next one's start", "msg_id", c.rec.MsgID)
			w.cellEnded(c, next.rec.Started, "", "")
		}
	}
}

// kernelDied ends every running cell, oldest first.
func (w *Watcher) kernelDied(signal string, code int) {
	now := w.run.now()
	for _, c := range w.sortedCells() {
		if signal == "" {
			c.rec.ExitCode = code
		}
		w.cellEnded(c, now, StatusKernelDied, signal)
	}
}
