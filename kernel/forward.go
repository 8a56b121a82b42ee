package kernel

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
)

// fromFrontend returns the handler of one channel's frontend messages,
// called on each peer's goroutine: it forwards them to the wrapped kernel
// (to, once it is up). Messages that fail to parse, carry a bad signature
// or replay an earlier signature are dropped with a log line and no reply,
// as ipykernel does.
func (p *Proxy) fromFrontend(ch Channel, s *sockets, to func() *zconn) func([][]byte) {
	var mu sync.Mutex
	var digests digestHistory // shared by the channel's peers
	return func(frames [][]byte) {
		f, err := Parse(frames)
		if err != nil {
			p.log.Warn("dropped message from frontend", "channel", ch.String(), "err", err)
			return
		}
		if err := p.signer.Verify(&f); err != nil {
			p.log.Warn("dropped message from frontend", "channel", ch.String(), "err", err)
			return
		}
		mu.Lock()
		fresh := digests.add(f.Signature)
		mu.Unlock()
		if !fresh {
			p.log.Warn("dropped message from frontend", "channel", ch.String(), "err", "replayed signature")
			return
		}
		p.trace(ch, FromFrontend, &f)
		if ch != Stdin && bytes.Contains(f.Header, []byte(`"shutdown_request"`)) {
			p.shutdown.Store(true)
		}
		select {
		case <-s.kernelUp: // requests sent before the kernel is up wait here
		case <-s.stopping:
			return
		}
		at := time.Now()
		if p.Intercept != nil && ch == Shell && bytes.Contains(f.Header, []byte(`"comm_`)) {
			if m := decode(&f, ch, FromFrontend, at); strings.HasPrefix(m.MsgType, "comm_") && p.Intercept(m) {
				return
			}
		}
		if ch != Stdin {
			p.passIdleGate()
		}
		if err := to().send(frames); err != nil {
			p.log.Warn("could not forward to wrapped kernel", "channel", ch.String(), "err", err)
		}
		// Observed after forwarding, with the time it arrived: observing
		// first put the observer's work ahead of the kernel's (measured:
		// 5 % of a trivial cell's round trip). So the kernel's answers to
		// a request may be observed before the request itself.
		if p.Observe != nil {
			p.Observe(decode(&f, ch, FromFrontend, at))
		}
	}
}

// kernelToFrontend forwards replies from the wrapped kernel to the frontend.
// It returns when the kernel's connection ends.
func (p *Proxy) kernelToFrontend(ch Channel, from *zconn, to *router) {
	for {
		frames, ok := p.recvFromKernel(from)
		if !ok {
			return
		}
		at := time.Now()
		if err := to.send(frames); err != nil {
			p.log.Warn("could not forward to frontend", "channel", ch.String(), "err", err)
		}
		// Observed after forwarding: the reply's way is not delayed.
		if f, err := Parse(frames); err == nil {
			p.trace(ch, FromKernel, &f)
			if p.Observe != nil {
				p.Observe(decode(&f, ch, FromKernel, at))
			}
		}
	}
}

// recvFromKernel returns the wrapped kernel's next message, or false once
// its connection has ended.
func (p *Proxy) recvFromKernel(from *zconn) ([][]byte, bool) {
	frames, err := from.recv()
	if err != nil {
		return nil, false
	}
	p.childSpoke.Do(p.child.settle)
	return frames, true
}

// iopubToFrontend forwards the wrapped kernel's broadcasts. The kernel's
// own iopub_welcome (meant for us, its only subscriber) is not forwarded;
// frontends get ours when they subscribe.
func (p *Proxy) iopubToFrontend(from *zconn) {
	for {
		frames, ok := p.recvFromKernel(from)
		if !ok {
			return
		}
		f, err := Parse(frames)
		if err != nil {
			p.pub.Send(frames) // not ours to judge: forward as is
			continue
		}
		m := decode(&f, IOPub, FromKernel, time.Now())
		if m.MsgType == "iopub_welcome" {
			continue
		}
		if m.Session != "" && (p.session.Load() == nil || *p.session.Load() != m.Session) {
			s := m.Session
			p.session.Store(&s)
		}
		cellIdle := m.ParentMsgType == "execute_request" && m.Idle()
		var held <-chan struct{}
		if cellIdle && p.HoldIdle != nil {
			held = p.HoldIdle(m.ParentMsgID)
		}
		if held == nil {
			// Observed after forwarding: the message's way is not delayed.
			if cellIdle && p.AfterIdle != nil {
				p.afterIdle(frames, m.ParentMsgID)
			} else {
				p.pub.Send(frames)
			}
			if p.Observe != nil {
				p.Observe(m)
			}
			continue
		}
		if p.Observe != nil {
			p.Observe(m)
		}
		p.hold(held)
		p.pub.Send(frames)
	}
}

// afterIdle forwards a cell's idle and calls AfterIdle with the frontend's
// shell and control closed to the kernel (idleGate), so that no request
// sent after the idle reaches the kernel before AfterIdle has returned.
// The gate is never held while iopub waits for a subscriber that is
// behind: then AfterIdle runs first, before the idle goes out, which no
// frontend can have seen yet.
func (p *Proxy) afterIdle(frames [][]byte, parentMsgID string) {
	p.idleGate.Lock()
	if p.pub.sendNow(frames) {
		p.AfterIdle(parentMsgID)
		p.idleGate.Unlock()
		return
	}
	p.idleGate.Unlock()
	p.AfterIdle(parentMsgID)
	p.pub.Send(frames)
}

// passIdleGate waits while AfterIdle runs (see afterIdle): the empty
// critical section is the barrier.
func (p *Proxy) passIdleGate() {
	p.idleGate.Lock()
	p.idleGate.Unlock()
}

// hold waits, within IdleHold, until the program has said what it wants to
// say about a finished cell (done closed).
func (p *Proxy) hold(done <-chan struct{}) {
	t := time.NewTimer(p.idleHold())
	defer t.Stop()
	select {
	case <-done:
	case <-t.C:
		p.log.Warn("released a held idle after the bound", "bound", p.idleHold().String())
	}
}

// The heartbeat is passed through: a frontend's ping, its routing identity
// first, goes to the wrapped kernel's heartbeat socket (a ROUTER echoing
// whatever it gets) on our DEALER, and the echo comes back with that
// identity first. So the heartbeat stops when the kernel does (SIGSTOP, a
// kernel hung in C code holding its heartbeat thread), as the plain
// kernel's does: clients such as jupyter console rely on it.

// heartbeatToKernel returns the heartbeat router's handler.
func (p *Proxy) heartbeatToKernel(s *sockets) func([][]byte) {
	return func(frames [][]byte) {
		select {
		case <-s.kernelUp: // pings before the kernel is up wait here
		case <-s.stopping:
			return
		}
		if err := s.kHB.send(frames); err != nil {
			p.log.Debug("could not forward a heartbeat", "err", err)
		}
	}
}

// heartbeatToFrontend routes the wrapped kernel's echoes back to their
// peers until its connection ends.
func heartbeatToFrontend(from *zconn, to *router) {
	for {
		frames, err := from.recv()
		if err != nil {
			return
		}
		_ = to.send(frames)
	}
}

// trace logs a message's routing facts at debug level (never content).
func (p *Proxy) trace(ch Channel, dir Direction, f *Frames) {
	if !p.log.Enabled(context.Background(), slog.LevelDebug) {
		return
	}
	var h header
	_ = json.Unmarshal(f.Header, &h)
	p.log.Debug("message", "channel", ch.String(), "from", dir.String(), "type", h.MsgType, "id", h.MsgID, "idents", len(f.Idents))
}

func newID() string { return uuid.NewString() }

func discardLogger() *log.Logger { return log.New(io.Discard, "", 0) }

// kernelReaders is how many goroutines forward from the wrapped kernel's
// sockets (shell, control, stdin, iopub); each reports on its channel when
// its socket has ended.
const kernelReaders = 4

// exitDrain bounds the wait for the kernel's last messages once it has
// exited, and exitFlush the wait for iopub to write them (and our last
// notes) to the frontends.
const (
	exitDrain = 500 * time.Millisecond
	exitFlush = 500 * time.Millisecond
)

// forwardAll starts forwarding from the wrapped kernel to the frontends.
// The channel gets one value per kernel socket that has ended.
func (p *Proxy) forwardAll(s *sockets) (*sync.WaitGroup, chan struct{}) {
	var wg sync.WaitGroup
	kernelSide := make(chan struct{}, kernelReaders)
	start := func(f func()) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			f()
		}()
	}
	fromKernel := func(f func()) func() {
		return func() { f(); kernelSide <- struct{}{} }
	}
	close(s.kernelUp)
	start(fromKernel(func() { p.kernelToFrontend(Shell, s.kShell, s.feShell) }))
	start(fromKernel(func() { p.kernelToFrontend(Control, s.kControl, s.feControl) }))
	start(fromKernel(func() { p.kernelToFrontend(Stdin, s.kStdin, s.feStdin) }))
	start(fromKernel(func() { p.iopubToFrontend(s.kIOPub) }))
	start(func() { heartbeatToFrontend(s.kHB, s.feHB) })
	return &wg, kernelSide
}

// drainKernelSide waits, within exitDrain, until every kernel socket has
// ended.
func drainKernelSide(kernelSide <-chan struct{}) {
	drain := time.NewTimer(exitDrain)
	defer drain.Stop()
	for range kernelReaders {
		select {
		case <-kernelSide:
		case <-drain.C:
			return
		}
	}
}
