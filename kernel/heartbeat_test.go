package kernel

import (
	"bytes"
	"fmt"
	"os"
	"syscall"
	"testing"
	"time"

	"github.com/go-zeromq/zmq4"
)

// The heartbeat is the wrapped kernel's: while it is stopped (SIGSTOP) no
// ping is answered, and the ping sent meanwhile is answered once it
// continues. A proxy answering pings itself would echo at once.
func TestProxyHeartbeatIsTheKernels(t *testing.T) {
	h := startProxy(t, frontendInfo(t, "ipc"), nil)
	c := dialClient(t, h.ci)
	if got := heartbeat1(t, c.hb, "alive"); got != "alive" {
		t.Fatalf("heartbeat %q", got)
	}
	pid := h.p.ChildPID()
	if err := syscall.Kill(pid, syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	// kill returns with the signal pending: the kernel may still answer
	// until it has actually stopped.
	pollUntil(t, "the kernel to stop", func() bool { return stopped(pid) })
	resumed := false
	defer func() {
		if !resumed {
			_ = syscall.Kill(pid, syscall.SIGCONT)
		}
	}()
	if err := c.hb.Send(zmq4.NewMsgString("stopped")); err != nil {
		t.Fatal(err)
	}
	echo := make(chan string, 1)
	go func() {
		msg, err := c.hb.Recv()
		if err != nil || len(msg.Frames) == 0 {
			echo <- "<error>"
			return
		}
		echo <- string(msg.Frames[0])
	}()
	// A negative check: an echo within this window can only come from the
	// proxy itself (the kernel is stopped); a slow machine cannot fail it.
	select {
	case got := <-echo:
		t.Fatalf("heartbeat answered %q while the kernel was stopped", got)
	case <-time.After(300 * time.Millisecond):
	}
	if err := syscall.Kill(pid, syscall.SIGCONT); err != nil {
		t.Fatal(err)
	}
	resumed = true
	select {
	case got := <-echo:
		if got != "stopped" {
			t.Fatalf("echo after SIGCONT = %q", got)
		}
	case <-time.After(waitLimit):
		t.Fatal("no echo after the kernel continued")
	}
}

// A heartbeat peer that sends pings and never reads the echoes costs the
// other clients nothing.
func TestProxyHeartbeatPeerNotReading(t *testing.T) {
	h := startProxy(t, frontendInfo(t, "tcp"), nil)
	deaf, err := openZMTP(rawDial(t, h.ci, h.ci.HBPort), zmq4.Dealer, "", false, MaxFrame)
	if err != nil {
		t.Fatal(err)
	}
	ping := [][]byte{{}, make([]byte, 8<<10)}
	for range 2000 { // 16 MB of echoes it never reads, 2000 messages: past its queue
		if err := deaf.send(ping); err != nil {
			t.Fatal(err)
		}
	}
	c := dialClient(t, h.ci)
	for i := range 5 {
		if got := heartbeat1(t, c.hb, "beat"); got != "beat" {
			t.Fatalf("heartbeat %d beside a deaf peer: %q", i, got)
		}
	}
}

// stopped says whether every thread of pid has stopped (state T in
// /proc/PID/task/TID/stat).
func stopped(pid int) bool {
	tasks, err := os.ReadDir(fmt.Sprintf("/proc/%d/task", pid))
	if err != nil || len(tasks) == 0 {
		return false
	}
	for _, task := range tasks {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/task/%s/stat", pid, task.Name()))
		if err != nil {
			return false
		}
		i := bytes.LastIndexByte(b, ')')
		if i < 0 || i+2 >= len(b) || b[i+2] != 'T' {
			return false
		}
	}
	return true
}
