package kernel

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-zeromq/zmq4"
)

// Proxy sits between a Jupyter frontend and a wrapped kernel it starts as
// its child. It forwards every message in both directions unchanged, hands
// a decoded copy of each to Observe, and lets the program post its own
// iopub messages with Inject. The zero value of each optional field works.
type Proxy struct {
	// Frontend is the connection file the frontend gave us: we bind
	// exactly these sockets.
	Frontend ConnectionInfo
	// ConnectionFile is the path of that file ("" = unknown): the wrapped
	// kernel's own file gets its base name (kernel-<id>.json) and, once the
	// kernel is up, Frontend's content (see childconn.go).
	ConnectionFile string
	// Argv starts the wrapped kernel; ChildConnectionPlaceholder is
	// replaced by the path of its own connection file.
	Argv []string
	// Env is the wrapped kernel's environment (nil = ours).
	Env []string
	// Dir is the wrapped kernel's working directory ("" = ours).
	Dir string
	// Log receives operational messages (nil = discard). Message content
	// is never logged.
	Log *slog.Logger

	// Observe receives a decoded copy of every message, on the forwarding
	// goroutines, just after the message was forwarded (a held idle: just
	// before). Messages of one channel and direction come in order; across
	// sockets they may not (a reply may be observed before its request).
	// Message.Time is when the message reached the proxy. Observe must not
	// block and must not modify the message.
	Observe func(*Message)
	// Intercept is offered each verified shell message from the frontend
	// whose msg_type starts with "comm_", before it is forwarded, on the
	// peer's goroutine. It returns true to consume the message: it then
	// never reaches the wrapped kernel and is not observed. It must not
	// block or modify the message (its fields alias the frames). nil
	// forwards everything.
	Intercept func(*Message) bool
	// HoldIdle is asked, when the kernel reports status idle for an
	// execute_request, whether to hold that idle back: it returns nil to
	// forward at once, or a channel closed when the caller has posted what
	// it wants to say about the cell. The proxy waits at most IdleHold.
	HoldIdle func(parentMsgID string) <-chan struct{}
	// AfterIdle, when set, is called on the iopub goroutine just after the
	// idle of an execute_request that HoldIdle did not hold (or every such
	// idle, without HoldIdle) was forwarded, before it is observed. Until
	// it returns, no message from the frontend's shell or control channel
	// reaches the wrapped kernel: what it reads of the kernel's state is
	// the state the next request finds. It must be quick (it delays those
	// messages) and must not block.
	AfterIdle func(parentMsgID string)
	// IdleHold bounds the wait for HoldIdle's channel (default 2s).
	IdleHold time.Duration
	// Started is called once the wrapped kernel is up, with its pid.
	Started func(pid int)
	// ChildExited is called after the wrapped kernel exited and its last
	// messages were forwarded, before iopub is flushed and closed: the last
	// chance to Inject.
	ChildExited func(ExitInfo)
	// ShutdownGrace bounds how long the wrapped kernel gets to exit after
	// ctx ends (it is sent SIGTERM at once) before it is killed. 0 (the
	// default) waits for it: escalation is the client's (jupyter_client
	// SIGKILLs the process group after its own shutdown_wait_time), and if
	// the client kills us, the wrapped kernel dies with us
	// (PR_SET_PDEATHSIG). Kill ends it at any time.
	ShutdownGrace time.Duration

	signer     *Signer
	log        *slog.Logger
	child      *child
	running    atomic.Pointer[child] // child, for Kill from other goroutines
	pub        *pubSocket
	idleGate   sync.Mutex             // held while AfterIdle runs; see afterIdle
	session    atomic.Pointer[string] // the wrapped kernel's session id
	shutdown   atomic.Bool            // the frontend sent shutdown_request
	childSpoke sync.Once              // the child's first message: its connection file can be rewritten
}

// sockets groups the sockets of both sides.
type sockets struct {
	feShell, feControl, feStdin, feHB     *router
	kShell, kControl, kStdin, kIOPub, kHB *zconn
	kernelUp                              chan struct{} // closed once the k* are set
	stopping                              chan struct{} // closed when Run winds down
}

// Run binds the frontend sockets, starts the wrapped kernel and forwards
// until the wrapped kernel exits or ctx is cancelled (then the kernel is
// stopped). It returns how the wrapped kernel ended.
func (p *Proxy) Run(ctx context.Context) (ExitInfo, error) {
	p.log = p.Log
	if p.log == nil {
		p.log = slog.New(slog.DiscardHandler)
	}
	signer, err := NewSigner(p.Frontend.SignatureScheme, []byte(p.Frontend.Key))
	if err != nil {
		return ExitInfo{}, err
	}
	p.signer = signer

	sctx, cancelSockets := context.WithCancel(context.Background())
	defer cancelSockets()
	s := sockets{kernelUp: make(chan struct{}), stopping: make(chan struct{})}
	if err := p.bindFrontend(sctx, &s); err != nil {
		s.closeAll()
		return ExitInfo{}, err
	}

	env := p.Env
	if env == nil {
		env = os.Environ()
	}
	c, err := startChild(ctx, p.Argv, env, p.Dir, p.Frontend, p.ConnectionFile)
	if err != nil {
		s.closeAll()
		p.pub.Close()
		return ExitInfo{}, err
	}
	p.child = c
	p.running.Store(c)
	defer c.cleanup()

	if err := p.dialKernel(ctx, &s, c.conn); err != nil {
		c.kill()
		<-c.done
		s.closeAll()
		p.pub.Close()
		return c.exit, err
	}
	c.afterDial()
	if p.Started != nil {
		p.Started(c.pid())
	}

	wg, kernelSide := p.forwardAll(&s)
	stopped := false
	select {
	case <-c.done:
	case <-ctx.Done():
		p.log.Debug("stopping wrapped kernel")
		stopped = true
		c.stop(p.ShutdownGrace)
	}
	// The kernel's sockets close with it; let its last messages through.
	drainKernelSide(kernelSide)
	exit := c.exit
	exit.Requested = p.shutdown.Load()
	exit.Stopped = stopped
	if p.ChildExited != nil {
		p.ChildExited(exit)
	}
	fctx, cancel := context.WithTimeout(context.Background(), exitFlush)
	if err := p.pub.Flush(fctx); err != nil {
		p.log.Warn("iopub not fully flushed before exit", "err", err)
	}
	cancel()
	cancelSockets()
	s.closeAll()
	p.pub.Close()
	wg.Wait()
	return exit, nil
}

// Kill sends SIGKILL to the wrapped kernel, if it runs. It is safe to call
// from any goroutine, at any time.
func (p *Proxy) Kill() {
	if c := p.running.Load(); c != nil {
		c.kill()
	}
}

func (p *Proxy) idleHold() time.Duration {
	if p.IdleHold > 0 {
		return p.IdleHold
	}
	return 2 * time.Second
}

// ChildPID returns the wrapped kernel's pid, or 0 before it started.
func (p *Proxy) ChildPID() int {
	if p.child == nil {
		return 0
	}
	return p.child.pid()
}

// KernelPorts returns the ports the wrapped kernel's own sockets use
// (not a server the user started), or nil before it started.
func (p *Proxy) KernelPorts() []int {
	if p.child == nil || p.child.conn.Transport != "tcp" {
		return nil // ipc: the kernel's sockets hold no TCP port
	}
	ports := make([]int, 0, 5)
	for _, np := range p.child.conn.ports() {
		ports = append(ports, np.port)
	}
	return ports
}

// Dropped returns how many iopub messages were dropped for subscribers
// that did not keep up.
func (p *Proxy) Dropped() uint64 {
	if p.pub == nil {
		return 0
	}
	return p.pub.dropped.Load()
}

func (p *Proxy) bindFrontend(ctx context.Context, s *sockets) error {
	fe := p.Frontend
	keys, err := fe.Curve()
	if err != nil {
		return fmt.Errorf("connection file: %w", err)
	}
	routers := []struct {
		name string
		ch   Channel
		port int
		r    **router
		to   func() *zconn
	}{
		{"shell", Shell, fe.ShellPort, &s.feShell, func() *zconn { return s.kShell }},
		{"control", Control, fe.ControlPort, &s.feControl, func() *zconn { return s.kControl }},
		{"stdin", Stdin, fe.StdinPort, &s.feStdin, func() *zconn { return s.kStdin }},
		{"hb", Heartbeat, fe.HBPort, &s.feHB, nil},
	}
	for _, b := range routers {
		network, addr := fe.NetAddr(b.port)
		ln, err := listenGuarded(network, addr, p.log)
		if err != nil {
			return fmt.Errorf("bind %s socket %s: %w", b.name, fe.Endpoint(b.port), err)
		}
		handle := p.heartbeatToKernel(s)
		if b.to != nil {
			handle = p.fromFrontend(b.ch, s, b.to)
		}
		*b.r = newRouter(listenCurve(ln, keys, "ROUTER", MaxFrame, p.log), p.log, handle)
	}
	network, addr := fe.NetAddr(fe.IOPubPort)
	ln, err := net.Listen(network, addr)
	if err != nil {
		return fmt.Errorf("bind iopub socket %s: %w", fe.Endpoint(fe.IOPubPort), err)
	}
	pub := servePub(listenCurve(ln, keys, "PUB", maxSubscriberFrame, p.log), p.log, p.welcome)
	p.pub = pub
	return nil
}

// dialKernel connects to the wrapped kernel's sockets. Shell and stdin
// share an identity: the kernel sends input_request to the identity its
// execute_request came from.
func (p *Proxy) dialKernel(ctx context.Context, s *sockets, k ConnectionInfo) error {
	id := "cloudline-" + newID()
	dials := []struct {
		name string
		port int
		typ  zmq4.SocketType
		id   string
		c    **zconn
	}{
		{"shell", k.ShellPort, zmq4.Dealer, id, &s.kShell}, {"control", k.ControlPort, zmq4.Dealer, "", &s.kControl},
		{"stdin", k.StdinPort, zmq4.Dealer, id, &s.kStdin}, {"iopub", k.IOPubPort, zmq4.Sub, "", &s.kIOPub},
		{"hb", k.HBPort, zmq4.Dealer, "", &s.kHB},
	}
	for _, d := range dials {
		network, addr := k.NetAddr(d.port)
		c, err := dialZMTP(ctx, network, addr, d.typ, d.id)
		if err != nil {
			return fmt.Errorf("connect to wrapped kernel's %s socket: %w", d.name, err)
		}
		*d.c = c
	}
	// Everything: a SUB subscribes with a message of 1 and the topic.
	if err := s.kIOPub.send([][]byte{{1}}); err != nil {
		return fmt.Errorf("subscribe to wrapped kernel: %w", err)
	}
	return nil
}

// closeAll closes every socket; the frontend routers wait for their
// goroutines.
func (s *sockets) closeAll() {
	select {
	case <-s.stopping:
	default:
		close(s.stopping)
	}
	for _, c := range []*zconn{s.kShell, s.kControl, s.kStdin, s.kIOPub, s.kHB} {
		if c != nil {
			c.close()
		}
	}
	for _, r := range []*router{s.feShell, s.feControl, s.feStdin, s.feHB} {
		if r != nil {
			r.close()
		}
	}
}
