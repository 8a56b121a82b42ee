package kernel

import (
	"bytes"
	"errors"
	"io"
	"net"
	"os"
	"syscall"
	"testing"
	"time"
)

// rawPair returns a raw connection and its plain peer over loopback.
func rawPair(t *testing.T) (net.Conn, net.Conn) {
	t.Helper()
	return rawPairOn(t, "tcp", "127.0.0.1:0")
}

// rawPairOn is rawPair on any stream network.
func rawPairOn(t *testing.T, network, addr string) (net.Conn, net.Conn) {
	t.Helper()
	ln, err := net.Listen(network, addr)
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	accepted := make(chan net.Conn, 1)
	go func() {
		c, _ := ln.Accept()
		accepted <- c
	}()
	c, err := net.Dial(network, ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	peer := <-accepted
	if peer == nil {
		t.Fatal("accept failed")
	}
	raw := rawSocket(c)
	if _, ok := raw.(*rawSock); !ok {
		t.Fatalf("rawSocket returned %T for %s", raw, network)
	}
	t.Cleanup(func() { raw.Close(); peer.Close() })
	return raw, peer
}

func TestRawTCPCarriesMoreThanTheSocketBuffers(t *testing.T) {
	raw, peer := rawPair(t)
	want := make([]byte, 32<<20) // far more than the kernel buffers: Write must wait
	for i := range want {
		want[i] = byte(i * 7)
	}
	got := make(chan []byte, 1)
	go func() {
		b, _ := io.ReadAll(peer)
		got <- b
	}()
	n, err := raw.Write(want)
	if err != nil || n != len(want) {
		t.Fatalf("Write = %d, %v", n, err)
	}
	raw.(*rawSock).Conn.(*net.TCPConn).CloseWrite()
	if b := <-got; !bytes.Equal(b, want) {
		t.Fatalf("peer read %d bytes, not the %d written in order", len(b), len(want))
	}

	// And the other way, through small reads, ending in io.EOF.
	go func() {
		peer.Write(want[:1<<20])
		peer.Close()
	}()
	b, err := io.ReadAll(raw)
	if err != nil || !bytes.Equal(b, want[:1<<20]) {
		t.Fatalf("ReadAll = %d bytes, %v", len(b), err)
	}
	if n, err := raw.Read(make([]byte, 8)); n != 0 || err != io.EOF {
		t.Fatalf("Read after EOF = %d, %v", n, err)
	}
}

func TestRawTCPHonoursDeadlinesAndClose(t *testing.T) {
	raw, _ := rawPair(t)
	if err := raw.SetReadDeadline(time.Now().Add(time.Millisecond)); err != nil {
		t.Fatal(err)
	}
	if _, err := raw.Read(make([]byte, 8)); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("Read past its deadline: %v", err)
	}
	raw.SetReadDeadline(time.Time{})
	done := make(chan error, 1)
	go func() {
		_, err := raw.Read(make([]byte, 8))
		done <- err
	}()
	raw.Close() // the Read either is waiting or has not started: both end
	if err := <-done; !errors.Is(err, net.ErrClosed) {
		t.Fatalf("Read on a closed connection: %v", err)
	}
	if _, err := raw.Write([]byte("x")); !errors.Is(err, net.ErrClosed) {
		t.Fatalf("Write on a closed connection: %v", err)
	}
	if n, err := raw.Read(nil); n != 0 || err != nil {
		t.Fatalf("empty Read = %d, %v", n, err)
	}
}

func TestRawTCPWriteToAGonePeerFails(t *testing.T) {
	raw, peer := rawPair(t)
	peer.(*net.TCPConn).SetLinger(0) // close with a reset
	peer.Close()
	var err error
	for range 100 { // the reset arrives asynchronously: a few writes may still land
		if _, err = raw.Write(make([]byte, 64<<10)); err != nil {
			break
		}
	}
	var op *net.OpError
	if !errors.As(err, &op) || op.Op != "write" {
		t.Fatalf("writes to a reset peer: %v", err)
	}
}

// writeSome stops at a full socket without an error: the queue's writer
// takes the rest.
func TestWriteSomeStopsAtAFullSocket(t *testing.T) {
	raw, _ := rawPair(t)
	rc := raw.(*rawSock).rc
	chunk := make([]byte, 1<<20)
	var total, n int
	var errno syscall.Errno
	for n = len(chunk); n == len(chunk) && errno == 0 && total < 256<<20; total += n {
		rc.Write(func(fd uintptr) bool {
			n, errno = writeSome(fd, chunk)
			return true
		})
	}
	if errno != 0 || n == len(chunk) {
		t.Fatalf("after %d bytes to a peer that does not read: wrote %d of %d, errno %v", total, n, len(chunk), errno)
	}
}

// The ipc hop to the wrapped kernel is a unix-domain socket: raw as well,
// both ways, and its inline writes find the descriptor.
func TestRawSocketUnix(t *testing.T) {
	raw, peer := rawPairOn(t, "unix", t.TempDir()+"/s")
	if _, ok := raw.(syscall.Conn); !ok {
		t.Fatal("a raw unix socket hides its descriptor from the inline writes")
	}
	if _, err := peer.Write([]byte("back")); err != nil {
		t.Fatal(err)
	}
	b := make([]byte, 4)
	if _, err := io.ReadFull(raw, b); err != nil || string(b) != "back" {
		t.Fatalf("raw read %q, %v", b, err)
	}
	want := bytes.Repeat([]byte("ipc"), 1<<20) // more than the socket buffers
	go func() {
		raw.Write(want)
		raw.Close()
	}()
	got, err := io.ReadAll(peer)
	if err != nil || !bytes.Equal(got, want) {
		t.Fatalf("peer read %d bytes (%v), want the %d written", len(got), err, len(want))
	}
}
