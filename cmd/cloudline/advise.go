package main

import (
	"slices"
	"time"

	"github.com/cloudline/cloudline/advisor"
	"github.com/cloudline/cloudline/cellwatch"
)

// onEvent runs on the watcher's goroutine for every cell event. Each cell
// has at most one note (advisor.Note): one display, created when the cell
// first has something to say and updated in place after that.
func (wt *watch) onEvent(ev cellwatch.Event) {
	wt.takePast(ev.Kind == cellwatch.CellEnd)
	rec := ev.Record
	now := time.Now()
	switch ev.Kind {
	case cellwatch.CellStart:
		wt.cool.CellStarted(rec)
		if !wt.started && !rec.Silent {
			wt.started = true
			wt.advise(advisor.KernelStart, ev, now)
		}
		wt.advise(advisor.CellStart, ev, now)
	case cellwatch.CellOutput:
		if n := wt.note(ev); n != nil && ev.Output.Streams > 0 {
			n.StreamSeen()
		}
	case cellwatch.CellTick:
		if len(rec.CodePaths) > 0 {
			wt.advise(advisor.CellStart, ev, now)
		}
		wt.advise(advisor.Live, ev, now)
		if n := wt.note(ev); wt.comm.tick(rec, now) && n != nil {
			if d, ok := n.Tick(rec, now); ok {
				wt.post(ev, n, d)
			}
		}
	case cellwatch.CellEnd:
		phase := advisor.CellEnd
		if rec.Status == cellwatch.StatusKernelDied {
			phase = advisor.KernelDied
		}
		if n := wt.note(ev); n != nil {
			n.Restate(advisor.Restate(advisor.Input{Phase: phase, Record: rec, Past: wt.past, Config: wt.cfg, Now: now, Place: wt.place}))
			found := wt.evaluate(phase, ev, now) // before takeHeld: the held advice counts as posted
			as := append(wt.comm.takeHeld(rec.MsgID), found...)
			if d, ok := n.End(rec, as, now); ok {
				wt.post(ev, n, d)
			}
		}
		wt.comm.end(rec, now)
		wt.cool.CellEnded(rec)
		delete(wt.notes, rec.MsgID)
		if rec.Notebook == wt.w.Notebook {
			wt.past = append(wt.past, rec)
			if len(wt.past) > pastCells {
				wt.past = wt.past[len(wt.past)-pastCells:]
			}
		}
	}
}

// note returns the cell's note, or nil when nothing is posted for it: a
// silent request, or a kernel inside a cloud job (the job is where the
// work belongs; the history is still written).
func (wt *watch) note(ev cellwatch.Event) *advisor.Note {
	rec := ev.Record
	if !wt.place.Advise() || (rec.Silent && rec.Status != cellwatch.StatusKernelDied) {
		return nil
	}
	n := wt.notes[rec.MsgID]
	if n == nil {
		n = &advisor.Note{ID: "cloudline-note-" + rec.MsgID, Cfg: wt.cfg}
		wt.notes[rec.MsgID] = n
	}
	return n
}

// evaluate returns the advice of one phase to show now: what the
// cool-down lets through and the cloudline comm does not hold for the
// cell's end (see live.hold).
func (wt *watch) evaluate(phase advisor.Phase, ev cellwatch.Event, now time.Time) []advisor.Advice {
	rec := ev.Record
	if n := wt.notes[rec.MsgID]; n != nil {
		rec.Advice = append(slices.Clone(rec.Advice), n.Rules()...) // what the note holds so far
	}
	rec.Advice = append(slices.Clone(rec.Advice), wt.comm.heldRules(rec.MsgID)...) // and what waits for the cell's end
	in := advisor.Input{Phase: phase, Record: rec, Past: wt.past, Config: wt.cfg, Now: now, Place: wt.place}
	var out []advisor.Advice
	for _, a := range wt.cool.Admit(advisor.Evaluate(in), rec, now, wt.cfg.Cooldown) {
		if !wt.comm.hold(phase, rec, a, now) {
			out = append(out, a)
		}
	}
	return out
}

// advise adds what one phase finds to the cell's note.
func (wt *watch) advise(phase advisor.Phase, ev cellwatch.Event, now time.Time) {
	n := wt.note(ev)
	if n == nil {
		return
	}
	if d, ok := n.Add(ev.Record, wt.evaluate(phase, ev, now), now); ok {
		wt.post(ev, n, d)
	}
}

// post injects a note's display and records the rules it now holds.
func (wt *watch) post(ev cellwatch.Event, n *advisor.Note, d advisor.Display) {
	if err := wt.p.Inject(ev.Parent, d.MsgType(), d.Content, nil); err != nil {
		wt.log.Warn("note not posted", "err", err)
		return
	}
	for _, rule := range n.Fresh() {
		wt.w.AddAdvice(ev.Record.MsgID, rule)
		wt.log.Info("advice posted", "rule", rule, "cell", ev.Record.MsgID)
	}
}

// pastWait bounds how long a cell's end waits for the history read at
// start (a tail of a few MiB: milliseconds on a working disk), so that the
// rules judging past runs see them; a history that is not read by then
// (a hung file system) is not waited for again.
const pastWait = 500 * time.Millisecond

// takePast takes in the history read at start, once it is there; with
// wait, it waits for it up to pastWait, once.
func (wt *watch) takePast(wait bool) {
	if wt.pastIn == nil {
		return
	}
	var past []cellwatch.Record
	select {
	case past = <-wt.pastIn:
	default:
		if !wait || wt.pastLate {
			return
		}
		t := time.NewTimer(pastWait)
		defer t.Stop()
		select {
		case past = <-wt.pastIn:
		case <-t.C:
			wt.pastLate = true
			wt.log.Warn("history not read in time; past runs not judged", "bound", pastWait.String())
			return
		}
	}
	wt.past = append(past, wt.past...) // older than anything seen since
	wt.cool.Seed(past)                 // the cool-down outlives a restart
	wt.pastIn = nil
	wt.comm.remember(past)
}
