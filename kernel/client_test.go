package kernel

import (
	"context"
	"encoding/json"
	"sync"
	"testing"
	"time"

	"github.com/go-zeromq/zmq4"
)

// waitLimit is the generous deadline after which a wait fails the test.
const waitLimit = 30 * time.Second

// received is one message a test client or observer got.
type received struct {
	raw [][]byte
	f   Frames
	m   *Message
}

// inbox collects messages from one socket; waiters are woken on each add.
type inbox struct {
	mu     sync.Mutex
	msgs   []received
	notify chan struct{}
}

func newInbox() *inbox { return &inbox{notify: make(chan struct{}, 1)} }

func (b *inbox) add(r received) {
	b.mu.Lock()
	b.msgs = append(b.msgs, r)
	b.mu.Unlock()
	select {
	case b.notify <- struct{}{}:
	default:
	}
}

func (b *inbox) snapshot() []received {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]received(nil), b.msgs...)
}

// waitFor returns the first message matching pred, failing the test after
// waitLimit.
func (b *inbox) waitFor(t *testing.T, what string, pred func(received) bool) received {
	t.Helper()
	deadline := time.NewTimer(waitLimit)
	defer deadline.Stop()
	for {
		for _, r := range b.snapshot() {
			if pred(r) {
				return r
			}
		}
		select {
		case <-b.notify:
		case <-deadline.C:
			t.Fatalf("timed out waiting for %s; got %d messages", what, len(b.snapshot()))
		}
	}
}

// waitCount waits until at least n messages match pred and returns them all.
func (b *inbox) waitCount(t *testing.T, what string, n int, pred func(received) bool) []received {
	t.Helper()
	var got []received
	b.waitFor(t, what, func(received) bool {
		got = got[:0]
		for _, r := range b.snapshot() {
			if pred(r) {
				got = append(got, r)
			}
		}
		return len(got) >= n
	})
	return got
}

// testClient is a Jupyter frontend built on zmq4, like jupyter_client:
// DEALER shell and stdin with one identity, DEALER control, SUB iopub, REQ
// heartbeat.
type testClient struct {
	t                            *testing.T
	signer                       *Signer
	session                      string
	shell, control, stdin, iopub zmq4.Socket
	hb                           zmq4.Socket
	shellIn, controlIn, stdinIn  *inbox
	iopubIn                      *inbox
	cancel                       context.CancelFunc
	wg                           sync.WaitGroup
	closeOnce                    sync.Once
}

func dialClient(t *testing.T, ci ConnectionInfo) *testClient {
	t.Helper()
	signer, err := NewSigner(ci.SignatureScheme, []byte(ci.Key))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	id := zmq4.SocketIdentity("client-" + newID())
	opt := zmq4.WithLogger(discardLogger())
	c := &testClient{
		t: t, signer: signer, session: "client-" + newID(), cancel: cancel,
		shell: zmq4.NewDealer(ctx, opt, zmq4.WithID(id)), stdin: zmq4.NewDealer(ctx, opt, zmq4.WithID(id)),
		control: zmq4.NewDealer(ctx, opt), iopub: zmq4.NewSub(ctx, opt), hb: zmq4.NewReq(ctx, opt),
		shellIn: newInbox(), controlIn: newInbox(), stdinIn: newInbox(), iopubIn: newInbox(),
	}
	t.Cleanup(c.close)
	if err := c.iopub.SetOption(zmq4.OptionSubscribe, ""); err != nil {
		t.Fatal(err)
	}
	for _, d := range []struct {
		sock zmq4.Socket
		port int
	}{{c.shell, ci.ShellPort}, {c.control, ci.ControlPort}, {c.stdin, ci.StdinPort}, {c.iopub, ci.IOPubPort}, {c.hb, ci.HBPort}} {
		if err := d.sock.Dial(ci.Endpoint(d.port)); err != nil {
			t.Fatalf("dial %s: %v", ci.Endpoint(d.port), err)
		}
	}
	for _, r := range []struct {
		sock zmq4.Socket
		box  *inbox
		ch   Channel
	}{{c.shell, c.shellIn, Shell}, {c.control, c.controlIn, Control}, {c.stdin, c.stdinIn, Stdin}, {c.iopub, c.iopubIn, IOPub}} {
		c.wg.Add(1)
		go c.receive(r.sock, r.box, r.ch)
	}
	// The proxy greets each subscriber: after that, nothing published is lost.
	c.iopubIn.waitFor(t, "iopub_welcome", isType("iopub_welcome"))
	return c
}

// receive is the client's reader for one socket.
func (c *testClient) receive(sock zmq4.Socket, box *inbox, ch Channel) {
	defer c.wg.Done()
	for {
		msg, err := sock.Recv()
		if err != nil {
			return
		}
		if msg.Type == zmq4.CmdMsg {
			continue
		}
		r := received{raw: msg.Frames}
		if f, err := Parse(msg.Frames); err == nil {
			r.f = f
			r.m = decode(&f, ch, FromKernel, time.Now())
		}
		box.add(r)
	}
}

// close closes the client's sockets and waits for its readers.
func (c *testClient) close() {
	c.closeOnce.Do(func() {
		for _, s := range []zmq4.Socket{c.shell, c.control, c.stdin, c.iopub, c.hb} {
			_ = s.Close()
		}
		c.cancel()
		c.wg.Wait()
	})
}

// request builds a signed request; it returns its frames and header.
func (c *testClient) request(msgType string, content any) ([][]byte, []byte) {
	h := newHeader(msgType, c.session)
	return c.signer.Encode(Frames{Header: h, ParentHeader: []byte("{}"), Metadata: []byte("{}"), Content: mustJSON(content)}), h
}

// send sends raw frames on sock.
func (c *testClient) send(sock zmq4.Socket, raw [][]byte) {
	c.t.Helper()
	if err := sock.SendMulti(zmq4.NewMsgFrom(raw...)); err != nil {
		c.t.Fatalf("send: %v", err)
	}
}

// execute sends an execute_request and returns its msg_id and header.
func (c *testClient) execute(code string) (string, []byte) {
	raw, h := c.request("execute_request", map[string]any{
		"code": code, "silent": false, "store_history": true, "user_expressions": map[string]any{},
		"allow_stdin": true, "stop_on_error": true,
	})
	c.send(c.shell, raw)
	return msgID(h), h
}

// kernelInfo asks for kernel_info and returns the reply's content.
func (c *testClient) kernelInfo() map[string]any {
	c.t.Helper()
	raw, h := c.request("kernel_info_request", map[string]any{})
	c.send(c.shell, raw)
	r := c.shellIn.waitFor(c.t, "kernel_info_reply", isReplyTo(msgID(h)))
	var content map[string]any
	if err := json.Unmarshal(r.f.Content, &content); err != nil {
		c.t.Fatal(err)
	}
	return content
}

// idle waits for the status idle of parent on iopub.
func (c *testClient) idle(parent string) received {
	c.t.Helper()
	return c.iopubIn.waitFor(c.t, "idle of "+parent, func(r received) bool {
		return isType("status")(r) && r.m.ParentMsgID == parent && isIdle(r.f.Content)
	})
}

// forParent returns the iopub messages with parent msg_id id, in order.
func (c *testClient) forParent(id string) []received {
	var out []received
	for _, r := range c.iopubIn.snapshot() {
		if r.m != nil && r.m.ParentMsgID == id {
			out = append(out, r)
		}
	}
	return out
}

func msgID(hdr []byte) string {
	var h header
	_ = json.Unmarshal(hdr, &h)
	return h.MsgID
}

func isType(t string) func(received) bool {
	return func(r received) bool { return r.m != nil && r.m.MsgType == t }
}

func isReplyTo(id string) func(received) bool {
	return func(r received) bool { return r.m != nil && r.m.ParentMsgID == id }
}

func types(rs []received) []string {
	out := make([]string, len(rs))
	for i, r := range rs {
		if r.m != nil {
			out[i] = r.m.MsgType
		}
	}
	return out
}
