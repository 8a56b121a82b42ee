package kernel

import (
	"encoding/json"
	"time"
)

// Channel names one of the Jupyter sockets a message travelled on.
type Channel uint8

// The channels of the Jupyter messaging protocol.
const (
	Shell Channel = iota
	Control
	Stdin
	IOPub
	Heartbeat
)

var channelNames = [...]string{"shell", "control", "stdin", "iopub", "hb"}

func (c Channel) String() string {
	if int(c) < len(channelNames) {
		return channelNames[c]
	}
	return "unknown"
}

// Direction says which side sent a message.
type Direction uint8

// Directions: a message comes from the frontend (client) or from the kernel.
const (
	FromFrontend Direction = iota
	FromKernel
)

func (d Direction) String() string {
	if d == FromKernel {
		return "kernel"
	}
	return "frontend"
}

// Message is the decoded view of one Jupyter message that the proxy hands
// to its observer. The raw JSON fields alias the frames that were forwarded;
// they are never written after forwarding, so observers may keep and read
// them but must not modify them.
type Message struct {
	Time      time.Time // when the proxy received it
	Channel   Channel
	Direction Direction

	MsgID         string // header.msg_id
	MsgType       string // header.msg_type
	Session       string // header.session
	ParentMsgID   string // parent_header.msg_id ("" when there is no parent)
	ParentMsgType string // parent_header.msg_type

	Header       json.RawMessage
	ParentHeader json.RawMessage
	Metadata     json.RawMessage
	Content      json.RawMessage
	Buffers      [][]byte
}

// Idle reports whether m is a status message saying the kernel went idle.
func (m *Message) Idle() bool { return m.MsgType == "status" && isIdle(m.Content) }
