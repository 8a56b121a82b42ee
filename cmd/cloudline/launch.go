package main

import (
	"context"
	"crypto/rsa"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/cloudline/cloudline/gateway"
	"github.com/cloudline/cloudline/kernel"
	"github.com/google/uuid"
)

// listenerShutdownGrace is how long the wrapped kernel may take to exit on
// its own after the gateway said it is done with us (it sends the
// shutdown_request on control first): jupyter_client's shutdown_wait_time
// is 5 s. After it we stop the kernel, so nothing outlives the gateway's
// interest in it.
const listenerShutdownGrace = 5 * time.Second

// launchArgs are what a gateway kernelspec (or a kernel image's
// environment) passes to `cloudline launch`.
type launchArgs struct {
	kernelID, responseAddr, ip string
	publicKey                  *rsa.PublicKey
	ports                      gateway.PortRange
	retries                    int
	ka                         kernelArgs // resource dir and wrapped argv
}

// launchEnv names the environment variables that stand in for missing
// flags, as Enterprise Gateway's kernel images read them (the unprefixed
// name first).
var launchEnv = []struct {
	flag string
	env  []string
}{
	{"kernel-id", []string{"KERNEL_ID"}},
	{"response-address", []string{"RESPONSE_ADDRESS", "EG_RESPONSE_ADDRESS"}},
	{"public-key", []string{"PUBLIC_KEY", "EG_PUBLIC_KEY"}},
	{"port-range", []string{"PORT_RANGE", "EG_PORT_RANGE"}},
}

func parseLaunchArgs(args []string, getenv func(string) string) (launchArgs, error) {
	la := launchArgs{ka: kernelArgs{detached: true}}
	fs := flag.NewFlagSet("cloudline launch", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	values := map[string]*string{}
	for _, e := range launchEnv {
		v := new(string)
		values[e.flag] = v
		fs.StringVar(v, e.flag, "", "as Enterprise Gateway's launchers")
		fs.StringVar(v, "RemoteProcessProxy."+e.flag, "", "the gateway's older spelling")
	}
	var spark string
	fs.StringVar(&spark, "spark-context-initialization-mode", "none", "only none: cloudline starts no Spark context")
	fs.StringVar(&spark, "RemoteProcessProxy.spark-context-initialization-mode", "none", "the gateway's older spelling")
	fs.StringVar(&la.ip, "ip", "0.0.0.0", "the address the kernel's ports listen on")
	fs.StringVar(&la.ka.resourceDir, "resource-dir", "", "the kernelspec directory (for its kernel.json configuration)")
	if err := fs.Parse(args); err != nil {
		return la, err
	}
	for _, e := range launchEnv {
		v := values[e.flag]
		for _, n := range e.env {
			if *v == "" {
				*v = getenv(n)
			}
		}
		if *v == "" && e.flag != "port-range" {
			return la, fmt.Errorf("missing --%s (or $%s)", e.flag, e.env[0])
		}
	}
	if spark != "none" && spark != "" {
		return la, fmt.Errorf("--spark-context-initialization-mode %q: cloudline starts no Spark context (want none)", spark)
	}
	la.kernelID = *values["kernel-id"]
	if _, err := uuid.Parse(la.kernelID); err != nil {
		return la, fmt.Errorf("--kernel-id %q is not a kernel id (a UUID)", la.kernelID)
	}
	var err error
	if la.responseAddr, err = gateway.ParseResponseAddress(*values["response-address"]); err != nil {
		return la, err
	}
	if la.publicKey, err = gateway.ParsePublicKey(*values["public-key"]); err != nil {
		return la, err
	}
	minSize, retries, err := gateway.Limits(getenv)
	if err != nil {
		return la, err
	}
	la.retries = retries
	if la.ports, err = gateway.ParsePortRange(*values["port-range"], minSize); err != nil {
		return la, err
	}
	if net.ParseIP(la.ip) == nil {
		return la, fmt.Errorf("--ip %q is not an IP address", la.ip)
	}
	la.ka.argv = fs.Args()
	if len(la.ka.argv) == 0 {
		return la, errors.New("missing the wrapped kernel's command after --")
	}
	if !strings.Contains(strings.Join(la.ka.argv, " "), kernel.ChildConnectionPlaceholder) {
		return la, fmt.Errorf("the wrapped kernel's command must contain %s", kernel.ChildConnectionPlaceholder)
	}
	return la, nil
}

// runLaunch is the kernel launcher of Enterprise Gateway's remote process
// proxies: it picks the ports, runs the proxy kernel on them, returns the
// connection info to the gateway and serves its signal and shutdown
// requests until the kernel ends.
func runLaunch(ctx context.Context, args []string, _, stderr io.Writer) int {
	la, err := parseLaunchArgs(args, os.Getenv)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(stderr, "usage: cloudline launch --kernel-id ID --response-address IP:PORT --public-key KEY [--port-range LOW..HIGH] [--ip IP] [--resource-dir DIR] -- ARGV...")
			return 0
		}
		fmt.Fprintf(stderr, "cloudline launch: %v\n", strings.ReplaceAll(err.Error(), "\n", "; "))
		return 2
	}
	// Our own process group, as jupyter_client gives a local kernel: the
	// gateway's interrupt reaches the wrapped kernel through it, and the
	// pgid we report covers exactly the kernel's processes. (Setsid fails
	// only for a group leader, which we then already are.)
	_, _ = syscall.Setsid()
	ports, err := gateway.SelectPorts(la.ip, la.ports, la.retries, 5)
	if err != nil {
		fmt.Fprintf(stderr, "cloudline launch: %v\n", err)
		return 2
	}
	ci := kernel.ConnectionInfo{
		Transport: "tcp", IP: la.ip, Key: uuid.NewString(), SignatureScheme: "hmac-sha256",
		ShellPort: ports[0], IOPubPort: ports[1], StdinPort: ports[2], HBPort: ports[3], ControlPort: ports[4],
	}
	comm, err := gateway.Listen(la.ip, la.ports, la.retries)
	if err != nil {
		fmt.Fprintf(stderr, "cloudline launch: communication port: %v\n", err)
		return 2
	}
	l := &launcher{la: la, ci: ci, comm: comm, grace: listenerShutdownGrace}
	defer l.close()
	return serveKernel(ctx, "launch", ci, la.ka, stderr, l.prepare)
}

// launcher ties the gateway's side of the contract to the proxy's hooks.
type launcher struct {
	la     launchArgs
	ci     kernel.ConnectionInfo
	comm   net.Listener
	p      *kernel.Proxy
	cancel context.CancelFunc
	log    *slog.Logger

	grace     time.Duration // listenerShutdownGrace, or shorter in tests
	listener  gateway.Listener
	served    sync.WaitGroup
	stopTimer sync.Once
	timer     *time.Timer
}

func (l *launcher) prepare(p *kernel.Proxy, cancel context.CancelFunc) error {
	l.p, l.cancel = p, cancel
	l.log = p.Log.With("part", "gateway", "kernel_id", l.la.kernelID)
	l.listener = gateway.Listener{Signal: l.signal, Shutdown: l.shutdown, Log: l.log}
	started := p.Started
	p.Started = func(pid int) {
		if started != nil {
			started(pid)
		}
		l.start()
	}
	return nil
}

// start runs once the proxy's sockets are bound and the wrapped kernel is
// up: only then may the gateway connect.
func (l *launcher) start() {
	l.served.Add(1)
	go func() {
		defer l.served.Done()
		if err := l.listener.Serve(l.comm); err != nil {
			l.log.Error("communication port failed; the gateway can no longer signal this kernel", "err", err)
		}
	}()
	info := gateway.ConnectionInfo{
		ConnectionInfo: l.ci,
		PID:            os.Getpid(),
		PGID:           syscall.Getpgrp(),
		CommPort:       l.comm.Addr().(*net.TCPAddr).Port,
		KernelID:       l.la.kernelID,
	}
	payload, err := gateway.Seal(info, l.la.publicKey, nil)
	if err == nil {
		err = gateway.Respond(context.Background(), l.la.responseAddr, payload)
	}
	if err != nil {
		l.log.Error("connection info not returned to the gateway; stopping", "err", err)
		l.cancel()
	}
}

// signal does what the gateway's launchers do with a signal request,
// translated for a kernel behind a proxy: an interrupt goes to the process
// group (the wrapped kernel gets it; ours is swallowed), termination to
// ourselves (we stop the wrapped kernel), anything else to the wrapped
// kernel.
func (l *launcher) signal(sig syscall.Signal) {
	var err error
	switch sig {
	case syscall.SIGINT:
		err = syscall.Kill(-syscall.Getpgrp(), sig)
	case syscall.SIGTERM, syscall.SIGHUP, syscall.SIGQUIT, syscall.SIGKILL:
		err = syscall.Kill(os.Getpid(), sig)
	default:
		if pid := l.p.ChildPID(); pid > 0 {
			err = syscall.Kill(pid, sig)
		}
	}
	if err != nil {
		l.log.Warn("gateway signal not delivered", "signal", sig.String(), "err", err)
	}
}

// shutdown arms the stop of a kernel the gateway is done with.
func (l *launcher) shutdown() {
	l.stopTimer.Do(func() { l.timer = time.AfterFunc(l.grace, l.cancel) })
}

func (l *launcher) close() {
	l.listener.Close()
	l.served.Wait()
	l.comm.Close()
	l.stopTimer.Do(func() {})
	if l.timer != nil {
		l.timer.Stop()
	}
}
