package kernel

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log"
	"log/slog"
	"time"

	"github.com/go-zeromq/zmq4"
	"github.com/google/uuid"
)

// frontendToKernel forwards requests from the frontend to the wrapped
// kernel. Messages that fail to parse, carry a bad signature or replay an
// earlier signature are dropped with a log line and no reply, as ipykernel
// does.
func (p *Proxy) frontendToKernel(ch Channel, from, to zmq4.Socket) {
	var digests digestHistory
	for {
		msg, err := from.Recv()
		if err != nil {
			return // socket closed
		}
		if msg.Type == zmq4.CmdMsg {
			continue // ZMTP PING and friends
		}
		f, err := Parse(msg.Frames)
		if err != nil {
			p.log.Warn("dropped message from frontend", "channel", ch.String(), "err", err)
			continue
		}
		if err := p.signer.Verify(&f); err != nil {
			p.log.Warn("dropped message from frontend", "channel", ch.String(), "err", err)
			continue
		}
		if !digests.add(f.Signature) {
			p.log.Warn("dropped message from frontend", "channel", ch.String(), "err", "replayed signature")
			continue
		}
		p.trace(ch, FromFrontend, &f)
		if ch != Stdin && bytes.Contains(f.Header, []byte(`"shutdown_request"`)) {
			p.shutdown.Store(true)
		}
		if p.Observe != nil {
			p.Observe(decode(&f, ch, FromFrontend, time.Now()))
		}
		if err := to.SendMulti(msg); err != nil {
			p.log.Warn("could not forward to wrapped kernel", "channel", ch.String(), "err", err)
		}
	}
}

// kernelToFrontend forwards replies from the wrapped kernel to the frontend.
// It returns when the kernel's connection ends.
func (p *Proxy) kernelToFrontend(ch Channel, from, to zmq4.Socket) {
	for {
		msg, ok := p.recvFromKernel(from)
		if !ok {
			return
		}
		if f, err := Parse(msg.Frames); err == nil {
			p.trace(ch, FromKernel, &f)
			if p.Observe != nil {
				p.Observe(decode(&f, ch, FromKernel, time.Now()))
			}
		}
		if err := to.SendMulti(msg); err != nil {
			p.log.Warn("could not forward to frontend", "channel", ch.String(), "err", err)
		}
	}
}

// recvFromKernel returns the wrapped kernel's next message, skipping ZMTP
// commands, or false once its connection has ended.
func (p *Proxy) recvFromKernel(from zmq4.Socket) (zmq4.Msg, bool) {
	for {
		msg, err := from.Recv()
		if err != nil {
			return msg, false
		}
		if msg.Type == zmq4.CmdMsg {
			continue
		}
		p.childSpoke.Do(p.child.cleanup)
		return msg, true
	}
}

// iopubToFrontend forwards the wrapped kernel's broadcasts. The kernel's
// own iopub_welcome (meant for us, its only subscriber) is not forwarded;
// frontends get ours when they subscribe.
func (p *Proxy) iopubToFrontend(from zmq4.Socket) {
	for {
		msg, ok := p.recvFromKernel(from)
		if !ok {
			return
		}
		f, err := Parse(msg.Frames)
		if err != nil {
			p.pub.Send(msg.Frames) // not ours to judge: forward as is
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
		if p.Observe != nil {
			p.Observe(m)
		}
		if m.MsgType == "status" && m.ParentMsgType == "execute_request" && p.HoldIdle != nil && isIdle(f.Content) {
			p.hold(m.ParentMsgID)
		}
		p.pub.Send(msg.Frames)
	}
}

// hold waits, within IdleHold, until the program has said what it wants to
// say about a finished cell.
func (p *Proxy) hold(parent string) {
	done := p.HoldIdle(parent)
	if done == nil {
		return
	}
	t := time.NewTimer(p.idleHold())
	defer t.Stop()
	select {
	case <-done:
	case <-t.C:
		p.log.Warn("released a held idle after the bound", "bound", p.idleHold().String())
	}
}

// heartbeat echoes pings while we run; we exit when the wrapped kernel
// does, so a live heartbeat means a live kernel.
func heartbeat(rep zmq4.Socket) {
	for {
		msg, err := rep.Recv()
		if err != nil {
			return
		}
		if msg.Type == zmq4.CmdMsg {
			continue
		}
		if err := rep.Send(msg); err != nil {
			return
		}
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
