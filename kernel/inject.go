package kernel

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// ErrNoSession is returned by Inject before the wrapped kernel has sent
// anything on iopub: until then its session id is unknown.
var ErrNoSession = errors.New("wrapped kernel's session not known yet")

// injectedHeader is the header of a message cloudline sends itself.
type injectedHeader struct {
	MsgID    string `json:"msg_id"`
	MsgType  string `json:"msg_type"`
	Username string `json:"username"`
	Session  string `json:"session"`
	Date     string `json:"date"`
	Version  string `json:"version"`
}

// Inject posts a message on iopub as if the wrapped kernel had sent it: it
// carries the kernel's session id, parentHeader (raw JSON, "{}" for none)
// and our signature. content and metadata are encoded as JSON.
func (p *Proxy) Inject(parentHeader json.RawMessage, msgType string, content, metadata any) error {
	sess := p.session.Load()
	if sess == nil || p.pub == nil {
		return ErrNoSession
	}
	if len(parentHeader) == 0 {
		parentHeader = json.RawMessage("{}")
	}
	if metadata == nil {
		metadata = map[string]any{}
	}
	h, err := json.Marshal(injectedHeader{
		MsgID: newID(), MsgType: msgType, Username: "cloudline", Session: *sess,
		Date: time.Now().UTC().Format("2006-01-02T15:04:05.000000Z"), Version: "5.3",
	})
	if err != nil {
		return fmt.Errorf("encode header: %w", err)
	}
	c, err := json.Marshal(content)
	if err != nil {
		return fmt.Errorf("encode content: %w", err)
	}
	md, err := json.Marshal(metadata)
	if err != nil {
		return fmt.Errorf("encode metadata: %w", err)
	}
	topic := []byte("kernel." + *sess + "." + msgType)
	frames := p.signer.Encode(Frames{Idents: [][]byte{topic}, Header: h, ParentHeader: parentHeader, Metadata: md, Content: c})
	p.pub.post(frames)
	return nil
}

// welcome greets a new iopub subscriber, as ipykernel 7's XPUB does.
func (p *Proxy) welcome(s *subscriber, topic []byte) {
	sess := "cloudline"
	if v := p.session.Load(); v != nil {
		sess = *v
	}
	h, _ := json.Marshal(injectedHeader{
		MsgID: newID(), MsgType: "iopub_welcome", Username: "cloudline", Session: sess,
		Date: time.Now().UTC().Format("2006-01-02T15:04:05.000000Z"), Version: "5.4",
	})
	c, _ := json.Marshal(map[string]string{"subscription": string(topic)})
	id := topic
	if len(id) == 0 {
		id = []byte("iopub_welcome")
	}
	s.enqueue(p.signer.Encode(Frames{Idents: [][]byte{id}, Header: h, ParentHeader: []byte("{}"), Metadata: []byte("{}"), Content: c}), s.pub.maxQueue*postSlack)
}
