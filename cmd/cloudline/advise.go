package main

import (
	"time"

	"github.com/cloudline/cloudline/advisor"
	"github.com/cloudline/cloudline/cellwatch"
)

// onEvent runs on the watcher's goroutine for every cell event.
func (wt *watch) onEvent(ev cellwatch.Event) {
	wt.takePast(ev.Kind == cellwatch.CellEnd)
	rec := ev.Record
	now := time.Now()
	switch ev.Kind {
	case cellwatch.CellStart:
		if !wt.started && !rec.Silent {
			wt.started = true
			wt.advise(advisor.KernelStart, ev, now)
		}
		wt.advise(advisor.CellStart, ev, now)
	case cellwatch.CellTick:
		if len(rec.CodePaths) > 0 {
			wt.advise(advisor.CellStart, ev, now)
		}
		wt.advise(advisor.Live, ev, now)
		if wt.comm.tick(rec, now) {
			wt.liveStatus(ev, now, false)
		}
	case cellwatch.CellEnd:
		phase := advisor.CellEnd
		if rec.Status == cellwatch.StatusKernelDied {
			phase = advisor.KernelDied
		}
		wt.postHeld(ev)
		wt.advise(phase, ev, now)
		wt.liveStatus(ev, now, true)
		wt.comm.end(rec, now)
		wt.cool.ForgetCell(rec.MsgID)
		if rec.Notebook == wt.w.Notebook {
			wt.past = append(wt.past, rec)
			if len(wt.past) > pastCells {
				wt.past = wt.past[len(wt.past)-pastCells:]
			}
		}
	}
}

// advise evaluates the rules for one phase and posts what fires.
// Inside a cloud job nothing is posted: the job is where the work belongs.
func (wt *watch) advise(phase advisor.Phase, ev cellwatch.Event, now time.Time) {
	rec := ev.Record
	if !wt.place.Advise() {
		return
	}
	for _, a := range advisor.Evaluate(advisor.Input{Phase: phase, Record: rec, Past: wt.past, Config: wt.cfg, Now: now, Place: wt.place}) {
		if !wt.cool.AllowCell(a.Rule, rec.Notebook, rec.MsgID, now, wt.cfg.Cooldown) {
			continue
		}
		if wt.comm.hold(phase, rec, a, now) {
			continue
		}
		wt.post(ev, a)
	}
}

// postHeld posts the advice held while the cell ran (see live.hold).
func (wt *watch) postHeld(ev cellwatch.Event) {
	for _, a := range wt.comm.takeHeld(ev.Record.MsgID) {
		wt.post(ev, a)
	}
}

// post injects one advice into the cell's output.
func (wt *watch) post(ev cellwatch.Event, a advisor.Advice) {
	rec := ev.Record
	content := map[string]any{
		"data": map[string]any{"text/markdown": a.Markdown, "text/plain": a.Text,
			// The JupyterLab extension's form of the note (its renderer).
			"application/vnd.cloudline.note+json": map[string]any{"v": 1, "cell": map[string]any{"line": rec.FirstLine},
				"findings": []map[string]any{{"rule": a.Rule, "checkpoint": a.Checkpoint, "headline": a.Title,
					"details": a.Markdown, "service": "", "docs_url": "", "silence": "rules_off=" + a.Rule}},
				"status": nil}},
		"metadata": map[string]any{"cloudline": map[string]any{"rule": a.Rule, "checkpoint": a.Checkpoint, "evidence": a.Evidence}},
	}
	if err := wt.p.Inject(ev.Parent, "display_data", content, nil); err != nil {
		wt.log.Warn("advice not posted", "rule", a.Rule, "err", err)
		return
	}
	wt.w.AddAdvice(rec.MsgID, a.Rule)
	wt.log.Info("advice posted", "rule", a.Rule, "cell", rec.MsgID)
}

// liveStatus shows, refreshes or finishes a cell's live status line.
// Cells that end before live_after never get one.
func (wt *watch) liveStatus(ev cellwatch.Event, now time.Time, final bool) {
	rec := ev.Record
	if !wt.place.Advise() {
		return
	}
	line := wt.live[rec.MsgID]
	if line == nil {
		if final || now.Sub(rec.Requested) < wt.cfg.LiveAfter {
			return
		}
		line = &liveLine{id: "cloudline-status-" + rec.MsgID}
		wt.live[rec.MsgID] = line
	} else if !final && now.Sub(line.last) < statusEvery {
		return
	}
	md, text := advisor.Status(rec, wt.cfg, now)
	msgType := "update_display_data"
	if line.last.IsZero() {
		msgType = "display_data"
	}
	line.last = now
	content := map[string]any{
		"data":      map[string]string{"text/markdown": md, "text/plain": text},
		"metadata":  map[string]any{"cloudline": map[string]any{"status": "live"}},
		"transient": map[string]string{"display_id": line.id},
	}
	if err := wt.p.Inject(ev.Parent, msgType, content, nil); err != nil {
		wt.log.Warn("status line not posted", "err", err)
	}
	if final {
		delete(wt.live, rec.MsgID)
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
	wt.pastIn = nil
	wt.comm.remember(past)
}
