package main

import (
	"time"

	"github.com/cloudline/cloudline/advisor"
	"github.com/cloudline/cloudline/cellwatch"
	"github.com/cloudline/cloudline/livecomm"
)

// live wires the cloudline comm (livecomm) into the proxy and the watcher.
// While a frontend holds the comm, a running cell gets no cloudline output:
// its figures and findings go to the extension, and the advice found while
// it ran is posted once, at its end, before its idle.
type live struct {
	hub      *livecomm.Hub
	deferred map[string][]advisor.Advice // cell msg_id -> advice held for its end (watcher goroutine)
	found    map[string][]livecomm.Finding
}

func newLive(wt *watch) *live {
	l := &live{deferred: map[string][]advisor.Advice{}, found: map[string][]livecomm.Finding{}}
	tree := &livecomm.TreeReader{PID: wt.p.ChildPID, GPU: cellwatch.FindNvidiaSMI()}
	l.hub = &livecomm.Hub{
		Inject: wt.p.Inject,
		Kernel: tree.Read,
		Log:    wt.log.With("part", "livecomm"),
		Settings: livecomm.Settings{MemoryFraction: wt.cfg.MemoryFraction,
			LiveAfter: wt.cfg.LiveAfter, TrainingTime: wt.cfg.TrainingTime},
	}
	wt.p.Intercept = l.hub.Intercept
	return l
}

// remember gives the comm the notebook's history ("last run" in footers).
func (l *live) remember(past []cellwatch.Record) {
	for _, r := range past {
		l.hub.Remember(r)
	}
}

// running reports whether advice of phase is about a cell still running.
func running(phase advisor.Phase) bool {
	return phase == advisor.KernelStart || phase == advisor.CellStart || phase == advisor.Live
}

// hold keeps advice found while its cell runs for the cell's end when the
// extension is connected (it shows the finding in the footer at once).
func (l *live) hold(phase advisor.Phase, rec cellwatch.Record, a advisor.Advice, now time.Time) bool {
	f := livecomm.Finding{Rule: a.Rule, Headline: a.Title}
	l.found[rec.MsgID] = append(l.found[rec.MsgID], f)
	if !running(phase) || !l.hub.Connected() {
		return false
	}
	l.deferred[rec.MsgID] = append(l.deferred[rec.MsgID], a)
	l.hub.Finding(rec, f, now)
	return true
}

// tick passes a running cell's sample on; it reports whether the live
// status line is shown in the cell (no extension connected).
func (l *live) tick(rec cellwatch.Record, now time.Time) bool {
	l.hub.Cell(rec, now)
	return !l.hub.Connected()
}

// heldRules lists the rules of the advice held for a cell's end: posted, as
// far as the rules are concerned (long-training is not said beside a
// projected-training the footer already shows).
func (l *live) heldRules(msgID string) []string {
	var ids []string
	for _, a := range l.deferred[msgID] {
		ids = append(ids, a.Rule)
	}
	return ids
}

// takeHeld returns the advice held for a cell's end.
func (l *live) takeHeld(msgID string) []advisor.Advice {
	a := l.deferred[msgID]
	delete(l.deferred, msgID)
	return a
}

// end sends the cell's summary; call it before the cell's idle is released.
func (l *live) end(rec cellwatch.Record, now time.Time) {
	l.hub.End(rec, l.found[rec.MsgID], now)
	delete(l.found, rec.MsgID)
}
