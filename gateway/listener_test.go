package gateway

import (
	"net"
	"strings"
	"sync"
	"syscall"
	"testing"
)

func TestParseRequest(t *testing.T) {
	for in, want := range map[string]Request{
		`{"signum": 0}`:                 {Signal: 0, IsSignal: true},
		`{"signum": 2}`:                 {Signal: syscall.SIGINT, IsSignal: true},
		`{"shutdown": 1}`:               {Shutdown: true},
		`{"shutdown": true}`:            {Shutdown: true},
		`{"shutdown": 0}`:               {},
		`{"signum": 15, "shutdown": 1}`: {Signal: syscall.SIGTERM, IsSignal: true, Shutdown: true},
	} {
		got, err := ParseRequest([]byte(in))
		if err != nil || got != want {
			t.Errorf("ParseRequest(%s) = %+v, %v; want %+v", in, got, err, want)
		}
	}
	for _, in := range []string{``, `[]`, `{}`, `{"signum": -1}`, `{"signum": 2.5}`, `{"shutdown": "yes"}`, `{"signum": 99}`} {
		if _, err := ParseRequest([]byte(in)); err == nil {
			t.Errorf("ParseRequest(%s) accepted a bad request", in)
		}
	}
}

// send writes one request the way the gateway does: connect, write, close.
func send(t *testing.T, addr, req string) {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Write([]byte(req)); err != nil {
		t.Fatal(err)
	}
	c.Close()
}

func TestListener(t *testing.T) {
	ln, err := Listen("127.0.0.1", PortRange{}, 0)
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var got []string
	record := func(s string) { mu.Lock(); got = append(got, s); mu.Unlock() }
	shut := make(chan struct{}, 1)
	l := &Listener{
		Signal:   func(s syscall.Signal) { record(s.String()) },
		Shutdown: func() { record("shutdown"); shut <- struct{}{} },
	}
	served := make(chan error, 1)
	go func() { served <- l.Serve(ln) }()
	addr := ln.Addr().String()

	send(t, addr, `{"signum": 0}`)           // a poll: no call
	send(t, addr, `{"signum": "garbage"`)    // dropped
	send(t, addr, strings.Repeat(" ", 5000)) // too long: dropped
	send(t, addr, `{"signum": 2}`)
	send(t, addr, `{"shutdown": 1}`)
	<-shut
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if err := <-served; err != nil {
		t.Fatalf("Serve after Close = %v, want nil", err)
	}
	if err := l.Close(); err != nil {
		t.Fatalf("second Close = %v", err)
	}
	mu.Lock()
	defer mu.Unlock()
	// Connections are served concurrently; the interrupt came before the
	// shutdown was sent, but may be handled after it.
	if len(got) != 2 || !contains(got, "interrupt") || !contains(got, "shutdown") {
		t.Fatalf("calls = %v, want interrupt and shutdown", got)
	}
	if _, err := net.Dial("tcp", addr); err == nil {
		t.Fatal("the port still accepts after Close")
	}
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

func TestListenInRange(t *testing.T) {
	r := PortRange{Lower: 42000, Upper: 43000}
	ports, err := SelectPorts("127.0.0.1", r, DefaultMaxPortRetries, 6)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[int]bool{}
	for _, p := range ports {
		if p < r.Lower || p > r.Upper || seen[p] {
			t.Fatalf("ports %v: want 6 distinct ports in %s", ports, r)
		}
		seen[p] = true
	}
}
