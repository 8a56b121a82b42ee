package cellwatch

import (
	"encoding/json"
	"fmt"
	"math"
	"strings"
	"testing"
	"time"
)

// Messages as tqdm 4.70 with ipywidgets 8.1 sends them (states cut to the
// keys that matter; the real ones carry some thirty more).
const (
	openProgress = `{"data": {"state": {"_model_module": "@jupyter-widgets/controls", "_model_name": "FloatProgressModel", "bar_style": "", "max": 20.0, "min": 0.0, "value": 0.0}, "buffer_paths": []}, "comm_id": "917a", "target_name": "jupyter.widget", "target_module": null}`
	openHTML     = `{"data": {"state": {"_model_name": "HTMLModel", "placeholder": "\u200b", "value": ""}, "buffer_paths": []}, "comm_id": "61ef", "target_name": "jupyter.widget", "target_module": null}`
	openLayout   = `{"data": {"state": {"_model_name": "LayoutModel", "width": null}, "buffer_paths": []}, "comm_id": "9d9b", "target_name": "jupyter.widget", "target_module": null}`
)

func update(id, value string) string {
	return fmt.Sprintf(`{"data": {"method": "update", "state": {"value": %s}, "buffer_paths": []}, "comm_id": %q}`, value, id)
}

func TestWidgetBars(t *testing.T) {
	type msg struct{ typ, content string }
	tests := []struct {
		name      string
		msgs      []msg
		elapsed   time.Duration
		ok        bool
		fraction  float64
		projected time.Duration
		source    string
	}{
		{
			name:    "progress model: value of max",
			msgs:    []msg{{"comm_open", openProgress}, {"comm_msg", update("917a", "5.0")}},
			elapsed: 10 * time.Second, ok: true, fraction: 0.25, projected: 40 * time.Second, source: "progress widget",
		},
		{
			name: "tqdm's label: its own remaining time",
			msgs: []msg{{"comm_open", openHTML}, {"comm_msg", update("61ef",
				`"\u20075/20\u2007[00:01&lt;00:03,\u2007\u20074.26it/s]"`)}},
			elapsed: 2 * time.Second, ok: true, fraction: 0.25, projected: 5 * time.Second, source: "tqdm widget",
		},
		{
			name:    "label with unit scale, remaining unknown",
			msgs:    []msg{{"comm_msg", update("x", `"2.00k/4.00k [00:10&lt;?, ?it/s]"`)}},
			elapsed: 10 * time.Second, ok: true, fraction: 0.5, projected: 20 * time.Second, source: "tqdm widget",
		},
		{
			name: "max changed by an update",
			msgs: []msg{{"comm_open", openProgress},
				{"comm_msg", `{"data": {"method": "update", "state": {"max": 40, "value": 10}}, "comm_id": "917a"}`}},
			elapsed: 10 * time.Second, ok: true, fraction: 0.25, projected: 40 * time.Second, source: "progress widget",
		},
		{name: "left label (description and percent) is no progress", msgs: []msg{{"comm_msg", update("c00b", `"train:\u2007\u200715%"`)}}},
		{name: "a layout model is not followed", msgs: []msg{{"comm_open", openLayout}, {"comm_msg", update("9d9b", "5")}}},
		{name: "a closed bar is forgotten", msgs: []msg{{"comm_open", openProgress}, {"comm_close", `{"comm_id": "917a", "data": {}}`}, {"comm_msg", update("917a", "5")}}},
		{name: "nothing done yet", msgs: []msg{{"comm_open", openProgress}}},
		{name: "another comm target", msgs: []msg{{"comm_open", strings.Replace(openProgress, "jupyter.widget", "cloudline", 1)}, {"comm_msg", update("917a", "5")}}},
		{name: "a method other than update", msgs: []msg{{"comm_open", openProgress}, {"comm_msg", `{"data": {"method": "custom", "state": {"value": 5}}, "comm_id": "917a"}`}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var wb widgetBars
			var pr Progress
			var ok bool
			for _, m := range tt.msgs {
				p, _, got, err := wb.parse(m.typ, []byte(m.content), tt.elapsed)
				if err != nil {
					t.Fatalf("parse %s: %v", m.typ, err)
				}
				if got {
					pr, ok = p, true
				}
			}
			if ok != tt.ok {
				t.Fatalf("progress found = %v, want %v (%+v)", ok, tt.ok, pr)
			}
			if !ok {
				return
			}
			if math.Abs(pr.Fraction-tt.fraction) > 1e-9 || pr.Projected != tt.projected || pr.Source != tt.source {
				t.Errorf("got %+v, want fraction %v projected %v source %q", pr, tt.fraction, tt.projected, tt.source)
			}
			if pr.Line == "" || strings.ContainsAny(pr.Line, "\u2007&") {
				t.Errorf("line %q: want the label as text", pr.Line)
			}
		})
	}
}

func TestWidgetBarsMalformed(t *testing.T) {
	var wb widgetBars
	if _, _, _, err := wb.parse("comm_open", []byte(openProgress), time.Second); err != nil {
		t.Fatal(err)
	}
	bad := []string{
		`{"comm_id": `,
		`{"data": {"method": "update", "state": {"value": 5}}}`,
		`{"data": {"method": "update", "state": {"value": "five"}}, "comm_id": "917a"}`,
		`{"data": {"method": "update", "state": {"max": [1]}}, "comm_id": "917a"}`,
		`{"data": {"method": "update", "state": []}, "comm_id": "917a"}`,
	}
	for _, b := range bad {
		if _, _, ok, err := wb.parse("comm_msg", []byte(b), time.Second); err == nil || ok {
			t.Errorf("parse(%s) = ok %v, err %v; want an error", b, ok, err)
		}
	}
	// The bar's state survived the bad updates.
	pr, _, ok, err := wb.parse("comm_msg", []byte(update("917a", "10")), 4*time.Second)
	if err != nil || !ok || pr.Fraction != 0.5 {
		t.Fatalf("after bad updates: %+v ok %v err %v", pr, ok, err)
	}
	// A huge message is skipped undecoded; a huge label is not matched.
	huge := update("917a", `"`+strings.Repeat("1", maxWidgetMsg)+`"`)
	if _, _, ok, err := wb.parse("comm_msg", []byte(huge), time.Second); ok || err != nil {
		t.Errorf("huge message: ok %v err %v", ok, err)
	}
	long := update("x", `"1/2 [00:01&lt;00:01`+strings.Repeat(" ", maxWidgetLabel)+`"`)
	if _, _, ok, _ := wb.parse("comm_msg", []byte(long), time.Second); ok {
		t.Error("a label longer than maxWidgetLabel was matched")
	}
	// Zero or inverted ranges give no progress.
	for _, st := range []string{`{"max": 0, "value": 0}`, `{"min": 5, "max": 1, "value": 3}`} {
		var w2 widgetBars
		_, _, _, _ = w2.parse("comm_open", []byte(openProgress), time.Second)
		c := fmt.Sprintf(`{"data": {"method": "update", "state": %s}, "comm_id": "917a"}`, st)
		if _, _, ok, err := w2.parse("comm_msg", []byte(c), time.Second); ok || err != nil {
			t.Errorf("state %s: ok %v err %v", st, ok, err)
		}
	}
}

func TestWidgetBarsBounded(t *testing.T) {
	var wb widgetBars
	for i := range 3 * maxWidgetBars {
		open := strings.Replace(openProgress, `"917a"`, fmt.Sprintf(`"c%d"`, i), 1)
		if _, _, _, err := wb.parse("comm_open", []byte(open), time.Second); err != nil {
			t.Fatal(err)
		}
	}
	if len(wb.bars) != maxWidgetBars || len(wb.order) != maxWidgetBars {
		t.Fatalf("following %d bars (%d in order), want at most %d", len(wb.bars), len(wb.order), maxWidgetBars)
	}
	newest := fmt.Sprintf("c%d", 3*maxWidgetBars-1)
	if _, _, ok, _ := wb.parse("comm_msg", []byte(update(newest, "5")), time.Second); !ok {
		t.Error("the newest bar was forgotten")
	}
	if _, _, ok, _ := wb.parse("comm_msg", []byte(update("c0", "5")), time.Second); ok {
		t.Error("the oldest bar is still followed")
	}
}

func FuzzWidgetBars(f *testing.F) {
	f.Add("comm_open", openProgress, "comm_msg", update("917a", "5.0"))
	f.Add("comm_open", openHTML, "comm_msg", update("61ef", `"\u20075/20\u2007[00:01&lt;00:03, 4.26it/s]"`))
	f.Add("comm_msg", update("x", `"1e308/1e-308 [99:99:99&lt;00:00"`), "comm_close", `{"comm_id": "x"}`)
	f.Add("comm_open", `{"data": {"state": {"_model_name": "IntProgressModel", "max": -1e308}}, "comm_id": "a", "target_name": "jupyter.widget"}`,
		"comm_msg", `{"data": {"method": "update", "state": {"value": 1e308, "min": null}}, "comm_id": "a"}`)
	f.Add("comm_open", openProgress, "comm_msg", update("917a", "1e-300"))
	f.Add("comm_msg", update("x", `"1/2 [00:01&lt;9223372036854775807:0:0, 1it/s]"`), "comm_msg", update("x", "1"))
	f.Fuzz(func(t *testing.T, t1, c1, t2, c2 string) {
		var wb widgetBars
		for _, m := range [][2]string{{t1, c1}, {t2, c2}} {
			pr, _, ok, _ := wb.parse(m[0], []byte(m[1]), time.Minute)
			if ok && (pr.Fraction < 0 || pr.Fraction > 1 || math.IsNaN(pr.Fraction) || pr.Projected < 0) {
				t.Fatalf("progress out of range: %+v", pr)
			}
		}
		if len(wb.bars) > maxWidgetBars || len(wb.bars) != len(wb.order) {
			t.Fatalf("bars %d, order %d", len(wb.bars), len(wb.order))
		}
	})
}

// A bar opened in one cell and moved in the next is that next cell's
// progress; comm traffic is no output of the cell.
func TestWatcherWidgetProgress(t *testing.T) {
	h := startWatcher(t, nil)
	h.feed(t, execRequest(t, "a", "bar = tqdm(total=20)", false, 0),
		iopub(t, "a", "execute_input", map[string]any{}, time.Millisecond),
		iopub(t, "a", "comm_open", json.RawMessage(openProgress), 2*time.Millisecond),
		idle(t, "a", 3*time.Millisecond))
	malformed := iopub(t, "b", "comm_msg", map[string]any{}, 2*time.Second)
	malformed.Content = []byte(`{"comm_id": "917a", "data": {"method": "update", "state": {"value": [}}`)
	h.feed(t, execRequest(t, "b", "for _ in range(5): bar.update()", false, time.Second),
		iopub(t, "b", "execute_input", map[string]any{}, time.Second),
		malformed,
		iopub(t, "b", "comm_msg", json.RawMessage(update("917a", "5")), 3*time.Second))
	h.w.mu.Lock()
	p := h.w.holds.m["b"]
	h.w.mu.Unlock()
	if p == nil || p.output.Load() {
		t.Errorf("pending b: %v; comm messages must not count as output", p)
	}
	h.feed(t, idle(t, "b", 4*time.Second))
	end, ok := h.ev.last(CellEnd)
	if !ok || end.MsgID != "b" || end.Progress == nil {
		t.Fatalf("CellEnd of b: %+v", end)
	}
	if p := end.Progress; p.Fraction != 0.25 || p.Source != "progress widget" || p.Projected != 8*time.Second {
		t.Errorf("progress %+v, want 25 %% after 2 s (projected 8 s)", p)
	}
}
