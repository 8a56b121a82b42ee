package gateway

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"strconv"
)

// Listen binds a TCP listener on ip at a port within r: a random port of
// the range, tried up to retries+1 times as the gateway's launchers do, or
// a port of the system's choice when r is Any.
func Listen(ip string, r PortRange, retries int) (net.Listener, error) {
	var errs []error
	for range retries + 1 {
		ln, err := net.Listen("tcp", net.JoinHostPort(ip, strconv.Itoa(r.candidate())))
		if err == nil {
			return ln, nil
		}
		errs = append(errs, err)
		if r.Any() {
			break
		}
	}
	return nil, fmt.Errorf("no free port in range %s on %s after %d tries: %w", r, ip, len(errs), errors.Join(errs...))
}

// candidate is a random port of the range, or 0 (the system's choice).
func (r PortRange) candidate() int {
	if r.Any() {
		return 0
	}
	return r.Lower + rand.IntN(r.Upper-r.Lower+1)
}

// SelectPorts returns n distinct free ports within r on ip. The ports are
// held until all are chosen, then released for the kernel to bind, as the
// gateway's launchers do: another process could take one in between, and
// then the kernel fails to bind it and exits.
func SelectPorts(ip string, r PortRange, retries, n int) ([]int, error) {
	held := make([]net.Listener, 0, n)
	defer func() {
		for _, ln := range held {
			ln.Close()
		}
	}()
	ports := make([]int, 0, n)
	for range n {
		ln, err := Listen(ip, r, retries)
		if err != nil {
			return nil, err
		}
		held = append(held, ln)
		ports = append(ports, ln.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}
