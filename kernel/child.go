package kernel

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"
)

// ChildConnectionPlaceholder is the argv placeholder the kernel replaces with
// the wrapped kernel's own connection file. (jupyter_client substitutes
// {connection_file} everywhere in argv, so the wrapped argv cannot use it.)
const ChildConnectionPlaceholder = "{child_connection_file}"

// ExitInfo describes how the wrapped kernel ended.
type ExitInfo struct {
	Code      int    // exit status, or 128+signal when killed by a signal
	Signal    string // "SIGKILL" etc. when killed by a signal, else ""
	Requested bool   // the frontend asked for shutdown (shutdown_request)
	Stopped   bool   // we were told to stop (Run's ctx ended) and passed it on
	Err       error  // set when the child could not be waited for
}

// child is the wrapped kernel process.
type child struct {
	cmd          *exec.Cmd
	dir          string         // private directory holding the connection file
	path         string         // the connection file, named as the frontend's
	frontend     ConnectionInfo // what the connection file says once the child is up
	frontendFile string         // the frontend's connection file, "" = unknown
	published    sync.Once
	settled      sync.Once
	conn         ConnectionInfo
	done         chan struct{} // closed when the process has been reaped
	exit         ExitInfo
	waitCh       chan error
}

// startChild writes the child's connection file, named as feFile, into a fresh
// 0700 directory, starts argv with it and waits until the child has bound
// its ports (it writes them back into the file). Once the child is up the
// file describes the frontend's sockets instead (see publish).
func startChild(ctx context.Context, argv, env []string, workDir string, fe ConnectionInfo, feFile string) (*child, error) {
	if len(argv) == 0 {
		return nil, errors.New("no wrapped kernel command")
	}
	dir, err := makePrivateDir()
	if err != nil {
		return nil, err
	}
	connPath := filepath.Join(dir, childFileName(feFile))
	ci := childConnection(dir, fe.Key, fe.SignatureScheme)
	if err := ci.Write(connPath); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	args := make([]string, len(argv))
	for i, a := range argv {
		args[i] = strings.ReplaceAll(a, ChildConnectionPlaceholder, connPath)
	}
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Env = env
	cmd.Dir = workDir
	cmd.Stdin = nil
	cmd.Stdout = os.Stdout
	cmd.Stderr = os.Stderr
	// The child stays in our process group, so the SIGINT jupyter_client
	// sends to the group reaches it, and dies with us.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("start wrapped kernel %s: %w", args[0], err)
	}
	c := &child{cmd: cmd, dir: dir, path: connPath, frontend: fe, frontendFile: feFile, done: make(chan struct{}), waitCh: make(chan error, 1)}
	go c.wait()
	ci, err = c.awaitPorts(ctx, connPath)
	if err != nil {
		c.kill()
		<-c.done
		c.cleanup()
		return nil, err
	}
	c.conn = ci
	if ci.Transport == "tcp" && c.writerDone(50*time.Millisecond) {
		c.settle() // ipc: once we are connected (afterDial)
	}
	return c, nil
}

// maxIPCPath keeps a socket path within sun_path (108 bytes on Linux,
// with its terminating NUL) with room for ipykernel's "-N" suffix.
const maxIPCPath = 100

// childConnection is the wrapped kernel's connection: ipc sockets in our
// private 0700 directory, so that nobody else on the machine can connect
// to the child or read the hop (the frontend sockets may be encrypted; this
// one needs no encryption to stay private), and ipykernel has no reason to
// warn that it runs on plain TCP. TCP on 127.0.0.1 only where the
// directory's path is too long for a socket.
func childConnection(dir, key, scheme string) ConnectionInfo {
	ip := filepath.Join(dir, "k")
	if len(ip)+len("-99") > maxIPCPath {
		return ConnectionInfo{Transport: "tcp", IP: "127.0.0.1", Key: key, SignatureScheme: scheme}
	}
	return ConnectionInfo{Transport: "ipc", IP: ip, Key: key, SignatureScheme: scheme}
}

// afterDial settles an ipc child once we are connected to its sockets and
// its connection-file writer is done (else its first message does).
func (c *child) afterDial() {
	if c.conn.Transport == "ipc" && c.writerDone(50*time.Millisecond) {
		c.settle()
	}
}

// settle runs once the child is up and we are connected: an ipc child's
// socket files go (nobody else may connect to it; our connections stay),
// and its connection file comes to describe the frontend's sockets.
func (c *child) settle() {
	c.settled.Do(func() {
		if c.conn.Transport == "ipc" {
			for _, np := range c.conn.ports() {
				_, addr := c.conn.NetAddr(np.port)
				os.Remove(addr)
			}
		}
		c.publish()
	})
}

// wait reaps the child and records how it ended.
func (c *child) wait() {
	err := c.cmd.Wait()
	c.exit = exitInfo(c.cmd.ProcessState, err)
	close(c.done)
}

func exitInfo(ps *os.ProcessState, err error) ExitInfo {
	if ps == nil {
		return ExitInfo{Code: 1, Err: err}
	}
	if ws, ok := ps.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		sig := ws.Signal()
		return ExitInfo{Code: 128 + int(sig), Signal: signalName(sig)}
	}
	return ExitInfo{Code: ps.ExitCode()}
}

func signalName(sig syscall.Signal) string {
	names := map[syscall.Signal]string{
		syscall.SIGKILL: "SIGKILL", syscall.SIGTERM: "SIGTERM", syscall.SIGSEGV: "SIGSEGV",
		syscall.SIGABRT: "SIGABRT", syscall.SIGINT: "SIGINT", syscall.SIGBUS: "SIGBUS",
		syscall.SIGHUP: "SIGHUP", syscall.SIGQUIT: "SIGQUIT", syscall.SIGILL: "SIGILL",
		syscall.SIGFPE: "SIGFPE",
	}
	if n, ok := names[sig]; ok {
		return n
	}
	return fmt.Sprintf("signal %d", int(sig))
}

// awaitPorts polls the connection file until the child has written its real
// ports, the child exits, or ctx ends.
func (c *child) awaitPorts(ctx context.Context, path string) (ConnectionInfo, error) {
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for {
		if data, err := os.ReadFile(path); err == nil {
			if ci, err := ParseConnectionInfo(data); err == nil && ci.ShellPort != 0 &&
				ci.ControlPort != 0 && ci.StdinPort != 0 && ci.IOPubPort != 0 && ci.HBPort != 0 {
				return ci, nil
			}
		}
		select {
		case <-ctx.Done():
			return ConnectionInfo{}, ctx.Err()
		case <-c.done:
			return ConnectionInfo{}, fmt.Errorf("wrapped kernel exited before it was ready (status %d)", c.exit.Code)
		case <-tick.C:
		}
	}
}

// writerDone reports, waiting at most d, whether jupyter_client's
// write_connection_file (which ipykernel uses to write its ports back) has
// finished with our private directory: its last step stats the directory
// and sets the sticky bit on it. Removing the directory before that would
// crash the child; once the bit is set nothing needs it any more.
func (c *child) writerDone(d time.Duration) bool {
	deadline := time.Now().Add(d)
	for {
		if st, err := os.Stat(c.dir); err == nil && st.Mode()&os.ModeSticky != 0 {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(time.Millisecond)
	}
}

// PID returns the child's process id.
func (c *child) pid() int { return c.cmd.Process.Pid }

func (c *child) signal(sig os.Signal) {
	select {
	case <-c.done:
	default:
		_ = c.cmd.Process.Signal(sig)
	}
}

func (c *child) kill() { c.signal(syscall.SIGKILL) }

// stop asks the child to end with SIGTERM and waits for it; with a grace
// above 0 it kills it after that.
func (c *child) stop(grace time.Duration) {
	c.signal(syscall.SIGTERM)
	if grace <= 0 {
		<-c.done
		return
	}
	t := time.NewTimer(grace)
	defer t.Stop()
	select {
	case <-c.done:
	case <-t.C:
		c.kill()
		<-c.done
	}
}

// cleanup removes the private directory (safe to call more than once), at
// exit. If we are SIGKILLed it stays, and the next kernel started with the
// same TMPDIR removes it (sweepStale).
func (c *child) cleanup() { os.RemoveAll(c.dir) }
