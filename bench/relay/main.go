// Command relay is the benchmark's floor. Launched by a kernelspec in
// place of the kernel, it starts ipykernel on ports of its own and copies
// bytes between every frontend connection and a connection of its own to
// the kernel, parsing nothing. A round trip through it is the least that
// any process between frontend and kernel costs on the machine; bench.py
// reports it beside cloudline's. It is a measuring tool, not a product:
// no signing, no observation, and errors end it.
//
//	relay -f CONNECTION_FILE -- python -m ipykernel_launcher -f {child_connection_file}
package main

import (
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/cloudline/cloudline/kernel"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintf(os.Stderr, "relay: %v\n", err)
		os.Exit(2)
	}
}

func run(args []string) error {
	if len(args) < 4 || args[0] != "-f" || args[2] != "--" {
		return errors.New("usage: relay -f CONNECTION_FILE -- KERNEL_ARGV (with " + kernel.ChildConnectionPlaceholder + ")")
	}
	fe, err := kernel.ReadConnectionFile(args[1])
	if err != nil {
		return err
	}
	// The kernel gets the same connection with loopback ports of its own.
	k := fe
	k.Transport, k.IP = "tcp", "127.0.0.1"
	pairs := []struct {
		fe int
		k  *int
	}{
		{fe.ShellPort, &k.ShellPort}, {fe.IOPubPort, &k.IOPubPort}, {fe.StdinPort, &k.StdinPort},
		{fe.ControlPort, &k.ControlPort}, {fe.HBPort, &k.HBPort},
	}
	listeners := make([]net.Listener, len(pairs))
	for i, p := range pairs {
		if listeners[i], err = net.Listen(fe.NetAddr(p.fe)); err != nil {
			return err
		}
		if *p.k, err = freePort(); err != nil {
			return err
		}
	}
	dir, err := os.MkdirTemp("", "relay-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	childConn := filepath.Join(dir, "kernel.json")
	if err := k.Write(childConn); err != nil {
		return err
	}
	argv := args[3:]
	for i, a := range argv {
		argv[i] = strings.ReplaceAll(a, kernel.ChildConnectionPlaceholder, childConn)
	}
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	if err := cmd.Start(); err != nil {
		return err
	}
	// Interrupts reach the kernel through the process group; a stop
	// request is passed on.
	signal.Ignore(syscall.SIGINT)
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGTERM, syscall.SIGHUP)
	go func() {
		s := <-stop
		_ = cmd.Process.Signal(s)
	}()
	for i, p := range pairs {
		_, addr := k.NetAddr(*p.k)
		go accept(listeners[i], addr)
	}
	return cmd.Wait()
}

// freePort returns a loopback port nobody listens on now.
func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// accept relays each frontend connection of ln to its own connection to
// the kernel at addr.
func accept(ln net.Listener, addr string) {
	for {
		front, err := ln.Accept()
		if err != nil {
			return
		}
		go relay(front, addr)
	}
}

// relay copies bytes both ways until either side closes.
func relay(front net.Conn, addr string) {
	defer front.Close()
	var back net.Conn
	deadline := time.Now().Add(30 * time.Second)
	for { // the kernel may not listen yet
		var err error
		if back, err = net.Dial("tcp", addr); err == nil {
			break
		}
		if time.Now().After(deadline) {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	defer back.Close()
	done := make(chan struct{})
	go func() {
		_, _ = io.Copy(back, front)
		back.Close()
		close(done)
	}()
	_, _ = io.Copy(front, back)
	front.Close()
	<-done
}
