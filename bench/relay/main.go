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
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// channels are the connection file's port keys.
var channels = []string{"shell_port", "iopub_port", "stdin_port", "control_port", "hb_port"}

const placeholder = "{child_connection_file}"

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintf(os.Stderr, "relay: %v\n", err)
		os.Exit(2)
	}
}

func run(args []string) error {
	if len(args) < 4 || args[0] != "-f" || args[2] != "--" {
		return errors.New("usage: relay -f CONNECTION_FILE -- KERNEL_ARGV (with " + placeholder + ")")
	}
	conn, argv := args[1], args[3:]
	raw, err := os.ReadFile(conn)
	if err != nil {
		return err
	}
	var info map[string]any
	if err := json.Unmarshal(raw, &info); err != nil {
		return fmt.Errorf("%s: %w", conn, err)
	}
	ip, _ := info["ip"].(string)
	if ip == "" {
		ip = "127.0.0.1"
	}
	// The kernel gets the same file with ports of its own.
	child := map[string]any{}
	for k, v := range info {
		child[k] = v
	}
	listeners := map[string]net.Listener{}
	for _, ch := range channels {
		port, ok := info[ch].(float64)
		if !ok {
			return fmt.Errorf("%s: no %s", conn, ch)
		}
		ln, err := net.Listen("tcp", net.JoinHostPort(ip, strconv.Itoa(int(port))))
		if err != nil {
			return err
		}
		listeners[ch] = ln
		if child[ch], err = freePort(ip); err != nil {
			return err
		}
	}
	dir, err := os.MkdirTemp("", "relay-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	childConn := filepath.Join(dir, "kernel.json")
	b, _ := json.Marshal(child)
	if err := os.WriteFile(childConn, b, 0o600); err != nil {
		return err
	}
	for i, a := range argv {
		argv[i] = strings.ReplaceAll(a, placeholder, childConn)
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
	for ch, ln := range listeners {
		go accept(ln, net.JoinHostPort(ip, strconv.Itoa(child[ch].(int))))
	}
	return cmd.Wait()
}

// freePort returns a port nobody listens on now.
func freePort(ip string) (int, error) {
	ln, err := net.Listen("tcp", net.JoinHostPort(ip, "0"))
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
