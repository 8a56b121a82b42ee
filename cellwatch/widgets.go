package cellwatch

import (
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/cloudline/cloudline/kernel"
)

// Widget progress bars. tqdm.notebook (and tqdm.auto where ipywidgets is
// installed) draws an HBox of HTML + FloatProgress + HTML widgets, and
// what a text bar prints travels as comm state instead: a comm_open
// (target jupyter.widget) with each model's whole state, then a comm_msg
// {"method": "update", "state": {"value": ...}} per change, on iopub with
// the running cell as parent. The progress model holds value and max; the
// right-hand HTML holds tqdm's text, "450/1000 [01:02<01:15, 7.20it/s]",
// HTML-escaped (&lt;) and spaced with U+2007 FIGURE SPACE (tqdm 4.70,
// ipywidgets 8.1). The proxy forwards these messages untouched; cellwatch
// reads copies on the Run goroutine.

// maxWidgetBars bounds the progress models followed per kernel session:
// tqdm leaves its widgets open (leave=True), so a long session opens many;
// the oldest are forgotten first.
const maxWidgetBars = 64

// maxWidgetMsg: larger comm messages (an image or a big HTML widget's
// state) hold no progress and are not decoded.
const maxWidgetMsg = 64 << 10

// maxWidgetLabel bounds the HTML text matched as a tqdm label.
const maxWidgetLabel = 1 << 10

// widgetLabelRE matches tqdm's right-hand label once unescaped:
// "450/1000 [01:02<01:15, 7.20it/s]".
var widgetLabelRE = regexp.MustCompile(`^([\d.]+[kMGT]?)/([\d.]+[kMGT]?)\s*\[([\d:]+)<(\?|[\d:]+)`)

// widgetBar is one progress model's state.
type widgetBar struct{ min, max, value float64 }

// widgetBars follows the progress models of a kernel session (they may be
// created in one cell and updated in the next). Not safe for concurrent
// use.
type widgetBars struct {
	bars  map[string]*widgetBar // comm_id -> model
	order []string              // comm_ids, oldest first
}

// widgetMsg is the part of a comm_open or comm_msg content read here.
type widgetMsg struct {
	CommID string `json:"comm_id"`
	Target string `json:"target_name"`
	Data   struct {
		Method string                     `json:"method"`
		State  map[string]json.RawMessage `json:"state"`
	} `json:"data"`
}

// errWidget is a comm message that is not what ipywidgets sends.
var errWidget = errors.New("not an ipywidgets message")

// parse reads one comm message (msgType comm_open, comm_msg or
// comm_close) seen at cell time elapsed. It returns the progress it
// shows, with the key that tells bars apart, if any; an error says the
// message was malformed (it changed nothing).
func (wb *widgetBars) parse(msgType string, content []byte, elapsed time.Duration) (Progress, string, bool, error) {
	if len(content) > maxWidgetMsg {
		return Progress{}, "", false, nil
	}
	var m widgetMsg
	if err := json.Unmarshal(content, &m); err != nil {
		return Progress{}, "", false, fmt.Errorf("decode %s: %w", msgType, err)
	}
	if m.CommID == "" {
		return Progress{}, "", false, fmt.Errorf("%s without comm_id: %w", msgType, errWidget)
	}
	switch msgType {
	case "comm_close":
		wb.forget(m.CommID)
		return Progress{}, "", false, nil
	case "comm_open":
		if m.Target != "jupyter.widget" || !isProgressModel(m.Data.State["_model_name"]) {
			return Progress{}, "", false, nil
		}
		wb.add(m.CommID)
	case "comm_msg":
		if m.Data.Method != "update" {
			return Progress{}, "", false, nil
		}
	}
	b := wb.bars[m.CommID]
	if b == nil {
		return tqdmLabel(m.Data.State["value"], elapsed)
	}
	if err := b.set(m.Data.State); err != nil {
		return Progress{}, "", false, fmt.Errorf("comm %s: %w", m.CommID, err)
	}
	if b.max <= b.min || b.value <= b.min {
		return Progress{}, "", false, nil
	}
	frac := clamp01((b.value - b.min) / (b.max - b.min))
	line := formatCount(b.value) + "/" + formatCount(b.max)
	pr := Progress{Fraction: frac, Elapsed: elapsed, Projected: project(elapsed, frac), Source: "progress widget", Line: line}
	return pr, "widget/" + m.CommID, true, nil
}

// isProgressModel reports whether a _model_name is ipywidgets'
// FloatProgressModel or IntProgressModel.
func isProgressModel(raw json.RawMessage) bool {
	var name string
	return json.Unmarshal(raw, &name) == nil && (name == "FloatProgressModel" || name == "IntProgressModel")
}

// add starts following a progress model, forgetting the oldest when full.
func (wb *widgetBars) add(id string) {
	if wb.bars == nil {
		wb.bars = map[string]*widgetBar{}
	}
	if _, ok := wb.bars[id]; ok {
		return
	}
	if len(wb.order) >= maxWidgetBars {
		delete(wb.bars, wb.order[0])
		wb.order = slices.Delete(wb.order, 0, 1)
	}
	wb.bars[id] = &widgetBar{max: 100} // ipywidgets' default max
	wb.order = append(wb.order, id)
}

func (wb *widgetBars) forget(id string) {
	if _, ok := wb.bars[id]; !ok {
		return
	}
	delete(wb.bars, id)
	wb.order = slices.DeleteFunc(wb.order, func(s string) bool { return s == id })
}

// set applies the numbers of a state update; a state with a value,
// min or max that is not a number changes nothing.
func (b *widgetBar) set(state map[string]json.RawMessage) error {
	next := *b
	for key, dst := range map[string]*float64{"value": &next.value, "min": &next.min, "max": &next.max} {
		raw, ok := state[key]
		if !ok || string(raw) == "null" {
			continue
		}
		if err := json.Unmarshal(raw, dst); err != nil {
			return fmt.Errorf("progress %s: %w", key, err)
		}
	}
	*b = next
	return nil
}

// tqdmLabel reads tqdm's right-hand HTML label, if raw is one.
func tqdmLabel(raw json.RawMessage, elapsed time.Duration) (Progress, string, bool, error) {
	if len(raw) < 2 || raw[0] != '"' || len(raw) > 4*maxWidgetLabel {
		return Progress{}, "", false, nil
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return Progress{}, "", false, fmt.Errorf("label: %w", err)
	}
	if len(s) > maxWidgetLabel || !strings.Contains(s, "/") || !strings.Contains(s, "[") {
		return Progress{}, "", false, nil
	}
	s = strings.TrimSpace(strings.Map(func(r rune) rune {
		if r == '\u2007' || r == '\u00a0' {
			return ' '
		}
		return r
	}, html.UnescapeString(s)))
	m := widgetLabelRE.FindStringSubmatch(s)
	if m == nil {
		return Progress{}, "", false, nil
	}
	n, okN := unitNumber(m[1])
	total, okT := unitNumber(m[2])
	if !okN || !okT || total <= 0 {
		return Progress{}, "", false, nil
	}
	pr := Progress{Fraction: clamp01(n / total), Elapsed: elapsed, Source: "tqdm widget", Line: s}
	if rem, ok := parseClock(m[4]); ok {
		pr.Projected = elapsed + rem
	} else {
		pr.Projected = project(elapsed, pr.Fraction)
	}
	return pr, "tqdm-widget/" + m[2], true, nil
}

// formatCount writes a widget's number as tqdm would: 450, 4.5.
func formatCount(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }

// widgetMsg follows one comm message of the kernel; c is the running
// cell it came from, or nil (the message still updates the bars' state).
func (w *Watcher) widgetMsg(c *cell, m *kernel.Message) {
	var elapsed time.Duration
	if c != nil {
		elapsed = w.cellElapsed(c, m)
	}
	pr, key, ok, err := w.run.widgets.parse(m.MsgType, m.Content, elapsed)
	if err != nil {
		w.run.log.Debug("cellwatch: widget message ignored", "msg_type", m.MsgType, "err", err)
		return
	}
	if ok && c != nil {
		c.out.note(key, pr)
	}
}
