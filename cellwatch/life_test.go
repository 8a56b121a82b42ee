package cellwatch

import (
	"fmt"
	"slices"
	"testing"
	"time"
)

// The cell state machine on message sequences: each message with the
// steps it must give, written "open a", "run a@3", "end a@9 ok".
func TestLifeSequences(t *testing.T) {
	req := func(id string, at int) lifeMsg { return lifeMsg{kind: lifeRequest, id: id, at: ms(at)} }
	silent := func(id string, at int) lifeMsg { return lifeMsg{kind: lifeRequest, id: id, at: ms(at), silent: true} }
	input := func(id string, at int) lifeMsg { return lifeMsg{kind: lifeInput, id: id, at: ms(at)} }
	reply := func(id string, st Status) lifeMsg { return lifeMsg{kind: lifeReply, id: id, status: st} }
	errOut := func(id, ename string) lifeMsg { return lifeMsg{kind: lifeError, id: id, ename: ename} }
	idle := func(id string, at int) lifeMsg { return lifeMsg{kind: lifeIdle, id: id, at: ms(at)} }
	died := func(at int, sig string) lifeMsg { return lifeMsg{kind: lifeDied, at: ms(at), signal: sig} }
	type in struct {
		m    lifeMsg
		want []string
	}
	tests := []struct {
		name string
		seq  []in
	}{
		{"a cell", []in{
			{req("a", 0), []string{"open a", "run a@0"}},
			{input("a", 1), nil},
			{reply("a", StatusOK), nil},
			{idle("a", 9), []string{"end a@9 ok"}},
		}},
		{"the idle overtakes the reply of a failing cell", []in{
			{req("a", 0), []string{"open a", "run a@0"}},
			{input("a", 1), nil},
			{errOut("a", "ValueError"), nil},
			{idle("a", 5), []string{"end a@5 error"}},
			{reply("a", StatusError), nil}, // late: the cell is gone
		}},
		{"interrupted, idle first", []in{
			{req("a", 0), []string{"open a", "run a@0"}},
			{input("a", 1), nil},
			{errOut("a", "KeyboardInterrupt"), nil},
			{idle("a", 7), []string{"end a@7 interrupted"}},
		}},
		{"run all: queued cells run from their execute_input; after an error the rest abort", []in{
			{req("a", 0), []string{"open a", "run a@0"}},
			{req("b", 0), []string{"open b"}},
			{req("c", 0), []string{"open c"}},
			{input("a", 1), nil},
			{reply("a", StatusError), nil},
			{idle("a", 4), []string{"end a@4 error"}},
			{idle("b", 5), []string{"end b@5 aborted"}},
			{reply("c", StatusAborted), nil},
			{idle("c", 6), []string{"end c@6 aborted"}},
		}},
		{"subshells end out of order", []in{
			{req("a", 0), []string{"open a", "run a@0"}},
			{req("b", 1), []string{"open b"}},
			{input("a", 1), nil},
			{input("b", 2), []string{"run b@2"}},
			{reply("b", StatusOK), nil},
			{idle("b", 3), []string{"end b@3 ok"}},
			{idle("a", 8), []string{"end a@8 ok"}},
		}},
		{"the kernel dies mid-cell: running and queued cells end, oldest first", []in{
			{req("a", 0), []string{"open a", "run a@0"}},
			{req("b", 0), []string{"open b"}},
			{input("a", 1), nil},
			{died(9, "SIGKILL"), []string{"end a@9 kernel-died SIGKILL", "end b@9 kernel-died SIGKILL"}},
			{idle("a", 10), nil},
		}},
		{"a lost idle: the replied cell ends when the next one runs", []in{
			{req("a", 0), []string{"open a", "run a@0"}},
			{input("a", 1), nil},
			{reply("a", StatusOK), nil},
			{req("b", 5), []string{"open b"}},
			{input("b", 6), []string{"end a@6 ok", "run b@6"}},
		}},
		{"a request observed after its own end opens nothing", []in{
			{reply("a", StatusOK), nil},
			{idle("a", 2), nil},
			{req("a", 0), []string{"drop a"}},
			{req("b", 3), []string{"open b", "run b@3"}},
		}},
		{"a silent request runs at once, queued or not", []in{
			{req("a", 0), []string{"open a", "run a@0"}},
			{silent("q", 1), []string{"open q", "run q@1"}},
			{idle("q", 2), []string{"end q@2 ok"}},
			{idle("a", 3), []string{"end a@3 aborted"}}, // no execute_input, not silent
		}},
		{"two quick cells in one batch", []in{
			{req("a", 0), []string{"open a", "run a@0"}},
			{input("a", 1), nil},
			{idle("a", 2), []string{"end a@2 ok"}},
			{req("b", 3), []string{"open b", "run b@3"}},
			{input("b", 4), nil},
			{idle("b", 5), []string{"end b@5 ok"}},
		}},
		{"a request seen twice opens once", []in{
			{req("a", 0), []string{"open a", "run a@0"}},
			{req("a", 0), nil},
			{input("", 1), nil},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var l life
			for i, s := range tt.seq {
				if got := stepStrings(l.step(s.m)); !slices.Equal(got, s.want) {
					t.Errorf("message %d (%+v): steps %q, want %q", i, s.m, got, s.want)
				}
			}
		})
	}
}

func ms(n int) time.Time { return t0.Add(time.Duration(n) * time.Millisecond) }

func stepStrings(steps []step) []string {
	var out []string
	for _, s := range steps {
		at := s.at.Sub(t0).Milliseconds()
		switch s.kind {
		case stepOpen:
			out = append(out, "open "+s.id)
		case stepRun:
			out = append(out, fmt.Sprintf("run %s@%d", s.id, at))
		case stepEnd:
			e := fmt.Sprintf("end %s@%d %s", s.id, at, s.status)
			if s.signal != "" {
				e += " " + s.signal
			}
			out = append(out, e)
		case stepDrop:
			out = append(out, "drop "+s.id)
		}
	}
	return out
}
