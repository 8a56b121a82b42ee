package livecomm

import (
	"time"

	"github.com/cloudline/cloudline/cellwatch"
)

// Cell is called for each sample of a running cell: its figures go to the
// open comms after FirstAfter and then every CellEvery (at once when its
// findings changed).
func (h *Hub) Cell(rec cellwatch.Record, now time.Time) {
	if !h.Connected() || rec.Silent {
		return
	}
	h.init()
	h.mu.Lock()
	lc := h.liveCell(rec)
	due := lc.sent.IsZero() && now.Sub(rec.Requested) >= h.firstAfter() ||
		!lc.sent.IsZero() && now.Sub(lc.sent) >= h.cellEvery()
	if due {
		lc.sent = now
	}
	msg := h.cellMsg(TypeCell, rec, lc, now)
	h.mu.Unlock()
	if due {
		h.send(msg, "")
	}
}

// Finding adds a rule that fired for a running cell and sends the cell's
// figures at once, so the footer's marker appears without waiting.
func (h *Hub) Finding(rec cellwatch.Record, f Finding, now time.Time) {
	if !h.Connected() {
		return
	}
	h.init()
	h.mu.Lock()
	lc := h.liveCell(rec)
	for _, g := range lc.findings {
		if g.Rule == f.Rule {
			h.mu.Unlock()
			return
		}
	}
	lc.findings = append(lc.findings, f)
	lc.sent = now
	msg := h.cellMsg(TypeCell, rec, lc, now)
	h.mu.Unlock()
	h.send(msg, "")
}

// End sends a cell's summary and forgets its live state; the cell is
// remembered for "last run". Call it before the cell's idle is released
// so the summary precedes the idle.
func (h *Hub) End(rec cellwatch.Record, findings []Finding, now time.Time) {
	h.init()
	h.mu.Lock()
	lc := h.liveCell(rec)
	delete(h.cells, rec.MsgID)
	for _, f := range findings {
		if !hasRule(lc.findings, f.Rule) {
			lc.findings = append(lc.findings, f)
		}
	}
	msg := h.cellMsg(TypeCellEnd, rec, lc, now)
	h.remember(rec)
	h.mu.Unlock()
	if h.Connected() && !rec.Silent {
		h.send(msg, "")
	}
}

// Remember adds a past cell (from the history) for "last run".
func (h *Hub) Remember(rec cellwatch.Record) {
	h.init()
	h.mu.Lock()
	h.remember(rec)
	h.mu.Unlock()
}

func hasRule(fs []Finding, rule string) bool {
	for _, f := range fs {
		if f.Rule == rule {
			return true
		}
	}
	return false
}

// liveCell returns rec's live state, created on first use. h.mu is held.
func (h *Hub) liveCell(rec cellwatch.Record) *liveCell {
	lc := h.cells[rec.MsgID]
	if lc == nil {
		lc = &liveCell{}
		if p, ok := h.past[rec.CellID]; ok && rec.CellID != "" {
			lc.lastRun = p.Wall
		}
		h.cells[rec.MsgID] = lc
	}
	return lc
}

// remember records a finished cell by its cell id. h.mu is held.
func (h *Hub) remember(rec cellwatch.Record) {
	if rec.CellID == "" || rec.Silent {
		return
	}
	if _, ok := h.past[rec.CellID]; !ok {
		if len(h.pastList) >= maxPast {
			delete(h.past, h.pastList[0])
			h.pastList = h.pastList[1:]
		}
		h.pastList = append(h.pastList, rec.CellID)
	}
	h.past[rec.CellID] = PastCell{CellID: rec.CellID, CodeHash: rec.CodeHash, Wall: wall(rec, rec.Ended), Ended: rec.Ended}
}

// history lists the remembered cells. h.mu is held.
func (h *Hub) history() []pastMsg {
	out := make([]pastMsg, 0, len(h.pastList))
	for _, id := range h.pastList {
		p := h.past[id]
		out = append(out, pastMsg{CellID: p.CellID, CodeHash: p.CodeHash, WallS: p.Wall.Seconds(), Ended: p.Ended.UTC().Format(time.RFC3339)})
	}
	return out
}

func wall(rec cellwatch.Record, now time.Time) time.Duration {
	if rec.Wall > 0 {
		return rec.Wall
	}
	if rec.Requested.IsZero() || now.Before(rec.Requested) {
		return 0
	}
	return now.Sub(rec.Requested)
}

// cellMsg renders a cell's message. h.mu is held.
func (h *Hub) cellMsg(typ string, rec cellwatch.Record, lc *liveCell, now time.Time) cellMsg {
	m := cellMsg{
		V: Version, Type: typ, MsgID: rec.MsgID, CellID: rec.CellID, Status: string(rec.Status),
		ElapsedS: wall(rec, now).Seconds(), CPUS: rec.CPU.Seconds(),
		PeakRSS: rec.Peak(), MemLimit: rec.Machine.MemLimit, ReadBytes: rec.ReadBytes,
		GPU: gpuOf(rec.GPU), Findings: append([]Finding{}, lc.findings...), LastRunS: lc.lastRun.Seconds(),
	}
	if !rec.Requested.IsZero() {
		m.StartedISO = rec.Requested.UTC().Format(time.RFC3339Nano)
	}
	if p := rec.Progress; p != nil {
		m.Progress = &Progress{Fraction: p.Fraction, ProjectedS: p.Projected.Seconds(), Source: p.Source}
	}
	return m
}

func (h *Hub) cellEvery() time.Duration {
	if h.CellEvery > 0 {
		return h.CellEvery
	}
	return DefaultCellEvery
}

func (h *Hub) firstAfter() time.Duration {
	if h.FirstAfter > 0 {
		return h.FirstAfter
	}
	return DefaultFirstAfter
}
