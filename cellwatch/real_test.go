package cellwatch

import (
	"bufio"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// worker is testdata/worker.py running as a stand-in kernel.
type worker struct {
	cmd *exec.Cmd
	in  io.WriteCloser
	out *bufio.Scanner
}

func startWorker(t *testing.T) *worker {
	t.Helper()
	python, err := exec.LookPath("python3")
	if err != nil {
		t.Skip("python3 not on PATH")
	}
	cmd := exec.Command(python, filepath.Join("testdata", "worker.py"))
	in, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	w := &worker{cmd: cmd, in: in, out: bufio.NewScanner(out)}
	t.Cleanup(func() {
		in.Close()
		_ = cmd.Wait()
	})
	return w
}

// do sends one command and returns the words after "ok".
func (w *worker) do(t *testing.T, command string) []string {
	t.Helper()
	if _, err := io.WriteString(w.in, command+"\n"); err != nil {
		t.Fatal(err)
	}
	if !w.out.Scan() {
		t.Fatalf("%s: worker gone: %v", command, w.out.Err())
	}
	f := strings.Fields(w.out.Text())
	if len(f) == 0 || f[0] != "ok" {
		t.Fatalf("%s: worker said %q", command, w.out.Text())
	}
	return f[1:]
}

func TestRealSamplerSeesAllocation(t *testing.T) {
	w := startWorker(t)
	pid := w.cmd.Process.Pid
	s := &ProcSampler{}
	if err := s.ResetPeak(pid); err != nil {
		t.Logf("clear_refs not writable here (%v): VmHWM checks skipped", err)
	}
	before, err := s.Proc(pid, false)
	if err != nil {
		t.Fatal(err)
	}
	w.do(t, "alloc 50")
	after, err := s.Proc(pid, false)
	if err != nil {
		t.Fatal(err)
	}
	if after.RSS < before.RSS+45*mb {
		t.Errorf("RSS %d MB after allocating 50 MB (was %d MB)", after.RSS/mb, before.RSS/mb)
	}
	w.do(t, "free")
	freed, _ := s.Proc(pid, false)
	if freed.HWM < before.RSS+45*mb {
		t.Errorf("VmHWM %d MB after the 50 MB were freed", freed.HWM/mb)
	}
	if err := s.ResetPeak(pid); err == nil {
		reset, _ := s.Proc(pid, false)
		if reset.HWM >= before.RSS+50*mb {
			t.Errorf("VmHWM %d MB after a reset, want about RSS %d MB", reset.HWM/mb, reset.RSS/mb)
		}
	}
	child := w.do(t, "child 30")
	cpid, _ := strconv.Atoi(child[0])
	tree, err := s.Tree(pid)
	if err != nil || !slices.Contains(tree, cpid) || tree[0] != pid {
		t.Errorf("Tree(%d) = %v, %v; want the worker and its child %d", pid, tree, err, cpid)
	}
	w.do(t, "stop")
}

// TestRealWatcher runs cells against a real process with the real sampler;
// no sampling ticks, so only the start and end readings count.
func TestRealWatcher(t *testing.T) {
	wk := startWorker(t)
	pid := wk.cmd.Process.Pid
	dir := t.TempDir()
	data := filepath.Join(dir, "data.bin")
	if err := os.WriteFile(data, make([]byte, 20*mb), 0o644); err != nil {
		t.Fatal(err)
	}
	h := startWatcher(t, func(w *Watcher) {
		w.PID, w.Proc, w.Dir = pid, &ProcSampler{}, dir
	})
	base, _ := (&ProcSampler{}).Proc(pid, false)

	cell := func(id, code string, run func()) Record {
		t.Helper()
		h.feed(t, execRequest(t, id, code, false, 0), iopub(t, id, "execute_input", map[string]any{}, time.Millisecond))
		run()
		h.feed(t, idle(t, id, time.Second))
		r, ok := h.ev.last(CellEnd)
		if !ok || r.MsgID != id {
			t.Fatalf("cell %s did not end", id)
		}
		return r
	}

	r := cell("alloc", "x = b'x' * (60 << 20); del x", func() { wk.do(t, "alloc 60"); wk.do(t, "free") })
	if r.PeakExact && (r.PeakRSS < base.RSS+55*mb || r.PeakRSS > base.RSS+120*mb) {
		t.Errorf("exact peak %d MB, want about %d MB", r.PeakRSS/mb, (base.RSS+60*mb)/mb)
	}
	if !r.PeakExact {
		t.Logf("clear_refs not writable: peak %d MB from samples", r.PeakRSS/mb)
	}

	r = cell("child", "mp.Process(target=alloc).start()", func() { wk.do(t, "child 40") })
	if r.PeakRSS < base.RSS+38*mb || r.PeakRSS > base.RSS+80*mb {
		t.Errorf("peak %d MB with a 40 MB child, kernel alone %d MB", r.PeakRSS/mb, base.RSS/mb)
	}
	wk.do(t, "stop")

	r = cell("read", `open("data.bin", "rb").read()`, func() { wk.do(t, "read "+data) })
	if r.ReadBytes < 20*mb {
		t.Errorf("read %d bytes of a 20 MB file", r.ReadBytes)
	}
	// Named in the code and seen open by its absolute path: one file.
	if len(r.Files) != 0 || !slices.Equal(r.CodePaths, []FileUse{{Path: "data.bin", Bytes: 20 * mb}}) {
		t.Errorf("files %v code paths %v, want data.bin once, in the code paths", r.Files, r.CodePaths)
	}
	if r.CodeBytes != 20*mb {
		t.Errorf("code bytes %d, want the 20 MB data.bin named in the code", r.CodeBytes)
	}
	if r.Machine.TotalRAM == 0 || r.Machine.Cores == 0 || r.Machine.DiskTotal == 0 {
		t.Errorf("machine %+v", r.Machine)
	}
}
