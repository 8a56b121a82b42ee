package kernel

import (
	"bytes"
	"errors"
	"fmt"
	"time"
)

// A subscriber's side of the wire: its handshake, and the subscriptions
// and pings it sends (its queue and writer are in pubqueue.go).

// serve runs the handshake, then reads subscriptions until the peer leaves.
func (s *subscriber) serve() {
	p := s.pub
	defer p.wg.Done()
	defer s.close()
	if err := s.handshake(); err != nil {
		p.log.Debug("iopub peer refused", "peer", s.conn.RemoteAddr().String(), "err", err)
		return
	}
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return
	}
	p.subs[s] = struct{}{}
	p.room.Broadcast() // a new subscriber is not behind
	p.wg.Add(1)
	p.mu.Unlock()
	go s.writeLoop()
	s.readLoop()
}

func (s *subscriber) handshake() error {
	_ = s.conn.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := s.conn.Write(greeting()); err != nil {
		return err
	}
	g := make([]byte, 64)
	if _, err := readFull(s.conn, g); err != nil {
		return err
	}
	if err := checkGreeting(g); err != nil {
		return err
	}
	if err := writeFrame(s.conn, readyCommand(map[string]string{"Socket-Type": "PUB"}), flagCommand); err != nil {
		return err
	}
	body, flags, err := readFrame(s.conn, maxSubscriberFrame)
	if err != nil {
		return err
	}
	name, data, err := parseCommand(body)
	if flags&flagCommand == 0 || err != nil || name != "READY" {
		return errors.New("expected READY")
	}
	props, err := parseProperties(data)
	if err != nil {
		return err
	}
	if t := props["Socket-Type"]; t != "SUB" && t != "XSUB" {
		return fmt.Errorf("peer socket type %q cannot subscribe", t)
	}
	return s.conn.SetDeadline(time.Time{})
}

func (s *subscriber) readLoop() {
	for {
		body, flags, err := readFrame(s.conn, maxSubscriberFrame)
		if err != nil {
			return
		}
		if flags&flagCommand != 0 {
			name, data, err := parseCommand(body)
			if err != nil {
				return
			}
			switch name {
			case "SUBSCRIBE":
				s.subscribe(data)
			case "CANCEL":
				s.unsubscribe(data)
			case "PING":
				s.ping(data)
			}
			continue
		}
		if flags&flagMore != 0 || len(body) == 0 {
			continue // publishers ignore other messages
		}
		switch body[0] {
		case 1:
			s.subscribe(body[1:])
		case 0:
			s.unsubscribe(body[1:])
		}
	}
}

func (s *subscriber) subscribe(topic []byte) {
	s.mu.Lock()
	s.topics = append(s.topics, bytes.Clone(topic))
	s.mu.Unlock()
	if s.pub.onSubscribe != nil {
		s.pub.onSubscribe(s, topic)
	}
}

func (s *subscriber) unsubscribe(topic []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, t := range s.topics {
		if bytes.Equal(t, topic) {
			s.topics = append(s.topics[:i], s.topics[i+1:]...)
			return
		}
	}
}

// ping answers a ZMTP 3.1 PING with a PONG carrying its context.
func (s *subscriber) ping(data []byte) {
	if body, ok := pong(data); ok {
		s.enqueueRaw(body)
	}
}

func (s *subscriber) matches(topic []byte) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.matchesLocked(topic)
}

func (s *subscriber) matchesLocked(topic []byte) bool {
	for _, t := range s.topics {
		if bytes.HasPrefix(topic, t) {
			return true
		}
	}
	return false
}
