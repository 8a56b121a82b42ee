package gateway

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"sync"
	"syscall"
	"time"
)

// The gateway connects, writes one JSON object and closes (it gives each
// connect and send 5 ms by default, EG_SOCKET_TIMEOUT), and polls liveness
// this way every few seconds. A request bigger or slower than these bounds
// is not the gateway's and is dropped.
const (
	maxRequestBytes = 4 << 10
	requestTimeout  = 5 * time.Second
	maxConcurrent   = 8 // connections read at once; more wait in the backlog
)

// Request is one message from the gateway on the communication port:
// {"signum": N} asks for signal N (0 polls liveness), {"shutdown": 1}
// says the gateway is done with this launcher.
type Request struct {
	Signal   syscall.Signal
	IsSignal bool
	Shutdown bool
}

// ParseRequest decodes a request. Like the gateway's launchers it takes
// any true-ish shutdown value (1, true) and an integral signum.
func ParseRequest(data []byte) (Request, error) {
	var raw struct {
		Signum   *json.Number `json:"signum"`
		Shutdown any          `json:"shutdown"`
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	if err := dec.Decode(&raw); err != nil {
		return Request{}, fmt.Errorf("request: %w", err)
	}
	var r Request
	if raw.Signum != nil {
		n, err := raw.Signum.Int64()
		if err != nil || n < 0 || n > 64 {
			return Request{}, fmt.Errorf("request: signum %s is not a signal number", raw.Signum)
		}
		r.Signal, r.IsSignal = syscall.Signal(n), true
	}
	switch v := raw.Shutdown.(type) {
	case nil:
	case bool:
		r.Shutdown = v
	case json.Number:
		r.Shutdown = v.String() != "0"
	default:
		return Request{}, fmt.Errorf("request: shutdown %v is not a number or bool", v)
	}
	if !r.IsSignal && raw.Shutdown == nil {
		return Request{}, errors.New("request: neither signum nor shutdown")
	}
	return r, nil
}

// Listener serves the gateway's requests on the communication port.
type Listener struct {
	// Signal is called for each request of a signal above 0 (0 only polls:
	// accepting the connection answers it). It runs on a connection's
	// goroutine and must not block for long.
	Signal func(syscall.Signal)
	// Shutdown is called for each shutdown request, after Signal when one
	// request holds both. nil ignores them.
	Shutdown func()
	// Log receives one line per dropped request (nil = discard).
	Log *slog.Logger

	mu     sync.Mutex
	ln     net.Listener
	closed bool
	wg     sync.WaitGroup
}

// Serve accepts connections on ln until Close. It returns nil after Close.
func (l *Listener) Serve(ln net.Listener) error {
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		ln.Close()
		return nil
	}
	l.ln = ln
	l.wg.Add(1)
	l.mu.Unlock()
	defer l.wg.Done()
	log := l.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	slots := make(chan struct{}, maxConcurrent)
	for {
		conn, err := ln.Accept()
		if err != nil {
			l.mu.Lock()
			closed := l.closed
			l.mu.Unlock()
			if closed {
				return nil
			}
			return fmt.Errorf("gateway listener: %w", err)
		}
		slots <- struct{}{}
		l.wg.Add(1)
		go func() {
			defer func() { <-slots; l.wg.Done() }()
			l.serveConn(conn, log)
		}()
	}
}

// serveConn reads one request to EOF and acts on it.
func (l *Listener) serveConn(conn net.Conn, log *slog.Logger) {
	defer conn.Close()
	conn.SetReadDeadline(time.Now().Add(requestTimeout))
	data, err := io.ReadAll(io.LimitReader(conn, maxRequestBytes+1))
	if err != nil || len(data) > maxRequestBytes {
		log.Warn("dropped gateway request", "from", conn.RemoteAddr().String(), "err", errOr(err, "too long"))
		return
	}
	req, err := ParseRequest(data)
	if err != nil {
		log.Warn("dropped gateway request", "from", conn.RemoteAddr().String(), "err", err)
		return
	}
	if req.IsSignal && req.Signal > 0 && l.Signal != nil {
		l.Signal(req.Signal)
	}
	if req.Shutdown && l.Shutdown != nil {
		l.Shutdown()
	}
}

func errOr(err error, msg string) any {
	if err != nil {
		return err
	}
	return msg
}

// Close stops accepting, waits for requests being handled and returns.
// It is safe to call more than once and before Serve.
func (l *Listener) Close() error {
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return nil
	}
	l.closed = true
	ln := l.ln
	l.mu.Unlock()
	var err error
	if ln != nil {
		err = ln.Close()
	}
	l.wg.Wait()
	return err
}
