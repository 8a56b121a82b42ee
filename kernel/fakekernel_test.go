package kernel

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/go-zeromq/zmq4"
)

// The test binary doubles as the wrapped kernel: with fakeKernelEnv set it
// runs fakeKernel instead of the tests. The proxy tests start it through
// Proxy.Argv, exactly as cloudline starts ipykernel.
const fakeKernelEnv = "CLOUDLINE_FAKE_KERNEL"

func TestMain(m *testing.M) {
	if os.Getenv(fakeKernelEnv) == "1" {
		if err := runFakeKernel(os.Args[1:]); err != nil {
			fmt.Fprintln(os.Stderr, "fake kernel:", err)
			os.Exit(2)
		}
		os.Exit(0)
	}
	if os.Getenv(proxyHostEnv) == "1" {
		if err := runProxyHost(os.Args[1:]); err != nil {
			fmt.Fprintln(os.Stderr, "proxy host:", err)
			os.Exit(2)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// fakeKernelArgv is the Proxy.Argv that starts the fake kernel.
func fakeKernelArgv() []string { return []string{os.Args[0], ChildConnectionPlaceholder} }

// fakeKernelEnviron is the Proxy.Env that makes the test binary a fake
// kernel. Under -race a process exiting with status 0 sleeps 1 s for late
// race reports unless atexit_sleep_ms says otherwise.
func fakeKernelEnviron() []string {
	return append(os.Environ(), fakeKernelEnv+"=1", "GORACE=atexit_sleep_ms=0 "+os.Getenv("GORACE"))
}

// fakeKernel is a minimal Jupyter kernel in the shape of ipykernel: ROUTER
// shell/control/stdin, PUB iopub, its own session id. It deliberately does
// not check signatures, so a message the proxy should have dropped shows up
// in its shell_received count (reported in kernel_info_reply).
type fakeKernel struct {
	signer                      *Signer
	session                     string
	shell, control, stdin, iopb zmq4.Socket
	hb                          zmq4.Socket
	shellReceived               atomic.Int64
	count                       int
	interrupt                   chan struct{}
	inputs                      chan Frames
}

func runFakeKernel(args []string) error {
	if len(args) != 1 {
		return fmt.Errorf("want one connection file argument, got %q", args)
	}
	ci, err := ReadConnectionFile(args[0])
	if err != nil {
		return err
	}
	signer, err := NewSigner(ci.SignatureScheme, []byte(ci.Key))
	if err != nil {
		return err
	}
	ctx := context.Background()
	k := &fakeKernel{
		signer: signer, session: "fake-" + newID(),
		shell: zmq4.NewRouter(ctx, zmq4.WithLogger(discardLogger())), control: zmq4.NewRouter(ctx, zmq4.WithLogger(discardLogger())),
		stdin: zmq4.NewRouter(ctx, zmq4.WithLogger(discardLogger())), iopb: zmq4.NewPub(ctx, zmq4.WithLogger(discardLogger())),
		hb:        zmq4.NewRep(ctx, zmq4.WithLogger(discardLogger())),
		interrupt: make(chan struct{}, 1), inputs: make(chan Frames, 1),
	}
	for i, b := range []struct {
		sock zmq4.Socket
		port *int
	}{{k.shell, &ci.ShellPort}, {k.control, &ci.ControlPort}, {k.stdin, &ci.StdinPort}, {k.iopb, &ci.IOPubPort}, {k.hb, &ci.HBPort}} {
		// ipc as ipykernel does it: the first free "-N" suffix from 1.
		ep, port := "tcp://127.0.0.1:0", 0
		if ci.Transport == "ipc" {
			port = i + 1
			ep = ci.Endpoint(port)
		}
		if err := b.sock.Listen(ep); err != nil {
			return err
		}
		if port == 0 {
			port = b.sock.Addr().(*net.TCPAddr).Port
		}
		*b.port = port
	}
	// Write the real ports back as ipykernel does, atomically so the proxy
	// never reads half a file.
	tmp := filepath.Join(filepath.Dir(args[0]), ".fake-ports.json")
	if err := ci.Write(tmp); err != nil {
		return err
	}
	if err := os.Rename(tmp, args[0]); err != nil {
		return err
	}
	// Then, like jupyter_client's write_connection_file, set the sticky
	// bit on the directory: the proxy takes it as the writer being done.
	dir := filepath.Dir(args[0])
	if st, err := os.Stat(dir); err == nil {
		_ = os.Chmod(dir, st.Mode()|os.ModeSticky)
	}
	go k.serveControl()
	go k.serveStdin()
	go k.serveHeartbeat()
	k.serveShell()
	return nil
}

// waitSubscribed blocks until the proxy's SUB has subscribed to everything:
// zmq4's PUB drops what it sends before that.
func (k *fakeKernel) waitSubscribed() {
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if slices.Contains(k.iopb.(zmq4.Topics).Topics(), "") {
			return
		}
		time.Sleep(time.Millisecond)
	}
}

func (k *fakeKernel) serveShell() {
	k.waitSubscribed()
	// ipykernel 7 greets its subscriber (the proxy); the proxy must not
	// pass this greeting on.
	k.publish([]byte("{}"), "iopub_welcome", map[string]string{"subscription": ""})
	handlers := map[string]func(req Frames, h header){
		"kernel_info_request": k.kernelInfo,
		"execute_request":     k.execute,
		"shutdown_request":    func(req Frames, h header) { k.shutdown(k.shell, req) },
	}
	for {
		msg, err := k.shell.Recv()
		if err != nil {
			return
		}
		k.shellReceived.Add(1)
		req, err := Parse(msg.Frames)
		if err != nil {
			continue
		}
		var h header
		_ = json.Unmarshal(req.Header, &h)
		if f := handlers[h.MsgType]; f != nil {
			f(req, h)
		}
	}
}

func (k *fakeKernel) serveControl() {
	for {
		msg, err := k.control.Recv()
		if err != nil {
			return
		}
		req, err := Parse(msg.Frames)
		if err != nil {
			continue
		}
		var h header
		_ = json.Unmarshal(req.Header, &h)
		switch h.MsgType {
		case "interrupt_request":
			select {
			case k.interrupt <- struct{}{}:
			default:
			}
			k.send(k.control, req.Idents, req.Header, "interrupt_reply", map[string]any{"status": "ok"})
		case "shutdown_request":
			k.shutdown(k.control, req)
		}
	}
}

func (k *fakeKernel) serveStdin() {
	for {
		msg, err := k.stdin.Recv()
		if err != nil {
			return
		}
		req, err := Parse(msg.Frames)
		if err != nil || !strings.Contains(string(req.Header), `"input_reply"`) {
			continue
		}
		k.inputs <- req
	}
}

func (k *fakeKernel) serveHeartbeat() {
	for {
		msg, err := k.hb.Recv()
		if err != nil || k.hb.Send(msg) != nil {
			return
		}
	}
}

func (k *fakeKernel) kernelInfo(req Frames, _ header) {
	k.status(req.Header, "busy")
	k.send(k.shell, req.Idents, req.Header, "kernel_info_reply", map[string]any{
		"status": "ok", "protocol_version": "5.3", "implementation": "fake",
		"shell_received": k.shellReceived.Load(),
	})
	k.status(req.Header, "idle")
}

// execute runs a "cell": its code is a command of the fake kernel.
func (k *fakeKernel) execute(req Frames, _ header) {
	var c struct {
		Code string `json:"code"`
	}
	_ = json.Unmarshal(req.Content, &c)
	k.count++
	k.status(req.Header, "busy")
	k.publish(req.Header, "execute_input", map[string]any{"code": c.Code, "execution_count": k.count})
	reply := map[string]any{"status": "ok", "execution_count": k.count, "user_expressions": map[string]any{}}
	switch {
	case c.Code == "crash":
		os.Exit(3)
	case c.Code == "ignore sigterm":
		signal.Ignore(syscall.SIGTERM)
	case c.Code == "hang":
		<-k.interrupt
		reply = map[string]any{"status": "error", "execution_count": k.count, "ename": "KeyboardInterrupt", "evalue": "", "traceback": []string{}}
	case c.Code == "input":
		k.send(k.stdin, req.Idents, req.Header, "input_request", map[string]any{"prompt": "? ", "password": false})
		in := <-k.inputs
		var v struct {
			Value string `json:"value"`
		}
		_ = json.Unmarshal(in.Content, &v)
		k.publish(req.Header, "stream", map[string]any{"name": "stdout", "text": "got " + v.Value})
	case strings.HasPrefix(c.Code, "flood "):
		n, _ := strconv.Atoi(strings.TrimPrefix(c.Code, "flood "))
		pad := strings.Repeat("x", 1000)
		for i := range n {
			k.publish(req.Header, "display_data", map[string]any{
				"data": map[string]any{"text/plain": strconv.Itoa(i), "text/x-pad": pad}, "metadata": map[string]any{}, "transient": map[string]any{},
			})
		}
	default:
		k.publish(req.Header, "stream", map[string]any{"name": "stdout", "text": c.Code})
	}
	k.send(k.shell, req.Idents, req.Header, "execute_reply", reply)
	k.status(req.Header, "idle")
}

func (k *fakeKernel) shutdown(sock zmq4.Socket, req Frames) {
	k.send(sock, req.Idents, req.Header, "shutdown_reply", map[string]any{"status": "ok", "restart": false})
	os.Exit(0)
}

func (k *fakeKernel) status(parent []byte, state string) {
	k.publish(parent, "status", map[string]any{"execution_state": state})
}

func (k *fakeKernel) publish(parent []byte, msgType string, content any) {
	_ = k.iopb.SendMulti(zmq4.NewMsgFrom(k.encode([][]byte{[]byte("kernel." + k.session + "." + msgType)}, parent, msgType, content)...))
}

func (k *fakeKernel) send(sock zmq4.Socket, idents [][]byte, parent []byte, msgType string, content any) {
	_ = sock.SendMulti(zmq4.NewMsgFrom(k.encode(idents, parent, msgType, content)...))
}

func (k *fakeKernel) encode(idents [][]byte, parent []byte, msgType string, content any) [][]byte {
	return k.signer.Encode(Frames{
		Idents: idents, Header: newHeader(msgType, k.session), ParentHeader: parent,
		Metadata: []byte("{}"), Content: mustJSON(content),
	})
}

func newHeader(msgType, session string) []byte {
	return mustJSON(map[string]string{
		"msg_id": newID(), "msg_type": msgType, "session": session, "username": "test",
		"date": time.Now().UTC().Format(time.RFC3339Nano), "version": "5.3",
	})
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}
