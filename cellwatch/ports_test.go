package cellwatch

import (
	"encoding/json"
	"slices"
	"testing"
	"time"
)

// A server a cell starts in a thread binds after the cell returned: the
// cell's end waits for its port (bounded), so the port is that cell's.
// A cell that starts nothing in the background does not wait.
func TestWatcherAwaitsBackgroundListener(t *testing.T) {
	tests := []struct {
		code      string
		bindAfter int // ListenPorts calls before the server listens
		want      []int
	}{
		{"threading.Thread(target=app.run, daemon=True).start()", 4, []int{8080}},
		{"t = threading.Thread(target=uvicorn.run, args=(app,))\nt.start()", 1, []int{8080}},
		{"server_stats = compute()", 4, nil},                                         // no background work
		{"threading.Thread(target=train).start()", 4, nil},                           // no server
		{"threading.Thread(target=app.run).start()", 1000, nil},                      // never binds: bounded wait
		{"proc = subprocess.Popen(['python', '-m', 'http.server'])", 3, []int{8080}}, // a subprocess
	}
	for _, tt := range tests {
		t.Run(tt.code, func(t *testing.T) {
			h := startWatcher(t, func(w *Watcher) { w.PortsEvery = time.Hour })
			h.fs.update(func(f *fakeSampler) { f.ports = []int{5555, 7000} })
			h.feed(t, execRequest(t, "m", tt.code, false, 0),
				iopub(t, "m", "execute_input", map[string]any{}, time.Millisecond))
			h.fs.update(func(f *fakeSampler) { f.bound, f.bindAfter = []int{5555, 7000, 8080}, f.portCalls+tt.bindAfter })
			h.feed(t, idle(t, "m", 2*time.Millisecond))
			end, ok := h.ev.last(CellEnd)
			if !ok || !slices.Equal(end.ListenPorts, tt.want) {
				t.Errorf("CellEnd ports %v, want %v", end.ListenPorts, tt.want)
			}
		})
	}
}

func TestServesInBackground(t *testing.T) {
	tests := []struct {
		code string
		want bool
	}{
		{"threading.Thread(target=srv.serve_forever, daemon=True).start()", true},
		{"Thread(target=lambda: app.run(port=5000)).start()", true},
		{"subprocess.Popen(['tensorboard', '--logdir', 'runs'])", true},
		{"app.run(port=5000)", false}, // blocks: the cell runs while it serves
		{"threading.Thread(target=work)", false},
		{"x = 1", false},
	}
	for _, tt := range tests {
		content, err := json.Marshal(map[string]any{"code": tt.code, "silent": false})
		if err != nil {
			t.Fatal(err)
		}
		if got := servesInBackground(tt.code); got != tt.want {
			t.Errorf("servesInBackground(%q) = %v, want %v", tt.code, got, tt.want)
		}
		if got := servesInBackgroundJSON(content); got != tt.want {
			t.Errorf("servesInBackgroundJSON(%s) = %v, want %v", content, got, tt.want)
		}
	}
}
