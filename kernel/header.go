package kernel

import (
	"bytes"
	"encoding/json"
	"time"
)

// header holds the header fields the proxy routes on.
type header struct {
	MsgID   string `json:"msg_id"`
	MsgType string `json:"msg_type"`
	Session string `json:"session"`
}

// decode builds the observer's view of a parsed message. Unparseable
// headers leave the decoded fields empty: the bytes are forwarded anyway.
func decode(f *Frames, ch Channel, dir Direction, now time.Time) *Message {
	m := &Message{
		Time:         now,
		Channel:      ch,
		Direction:    dir,
		Header:       f.Header,
		ParentHeader: f.ParentHeader,
		Metadata:     f.Metadata,
		Content:      f.Content,
		Buffers:      f.Buffers,
	}
	var h header
	if json.Unmarshal(f.Header, &h) == nil {
		m.MsgID, m.MsgType, m.Session = h.MsgID, h.MsgType, h.Session
	}
	if len(f.ParentHeader) > 2 { // "{}" has no parent
		var p header
		if json.Unmarshal(f.ParentHeader, &p) == nil {
			m.ParentMsgID, m.ParentMsgType = p.MsgID, p.MsgType
		}
	}
	return m
}

// isIdle reports whether an iopub status message says the kernel went idle.
// It looks at the bytes rather than decoding the content: it runs for every
// status message on the forwarding path.
func isIdle(content []byte) bool {
	return bytes.Contains(content, []byte(`"idle"`))
}

// digestHistory remembers recent signatures so a replayed message can be
// dropped, as jupyter_client's Session does. It is not safe for concurrent
// use; each receiving loop owns one.
type digestHistory struct {
	seen map[string]struct{}
	ring []string
	next int
}

const digestHistorySize = 1 << 16

// add records sig and reports whether it was new.
func (d *digestHistory) add(sig []byte) bool {
	if len(sig) == 0 {
		return true // unsigned connections have no signatures to replay
	}
	if d.seen == nil {
		d.seen = make(map[string]struct{}, 1024)
		d.ring = make([]string, digestHistorySize)
	}
	if _, dup := d.seen[string(sig)]; dup {
		return false
	}
	s := string(sig)
	if old := d.ring[d.next]; old != "" {
		delete(d.seen, old)
	}
	d.ring[d.next] = s
	d.next = (d.next + 1) % len(d.ring)
	d.seen[s] = struct{}{}
	return true
}
