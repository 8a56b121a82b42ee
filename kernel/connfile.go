package kernel

import (
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
)

// ConnectionInfo is the content of a Jupyter connection file.
type ConnectionInfo struct {
	Transport       string `json:"transport"`
	IP              string `json:"ip"`
	ShellPort       int    `json:"shell_port"`
	ControlPort     int    `json:"control_port"`
	StdinPort       int    `json:"stdin_port"`
	IOPubPort       int    `json:"iopub_port"`
	HBPort          int    `json:"hb_port"`
	Key             string `json:"key"`
	SignatureScheme string `json:"signature_scheme"`
	KernelName      string `json:"kernel_name,omitempty"`
	// CurvePublicKey and CurveSecretKey (Z85), when present, make every
	// socket speak CURVE (jupyter_client's transport_encryption).
	CurvePublicKey string `json:"curve_publickey,omitempty"`
	CurveSecretKey string `json:"curve_secretkey,omitempty"`
}

// ReadConnectionFile reads and validates a connection file.
func ReadConnectionFile(path string) (ConnectionInfo, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return ConnectionInfo{}, fmt.Errorf("read connection file: %w", err)
	}
	ci, err := ParseConnectionInfo(data)
	if err != nil {
		return ConnectionInfo{}, fmt.Errorf("connection file %s: %w", path, err)
	}
	return ci, nil
}

// ParseConnectionInfo parses and validates connection file content.
// Missing transport and signature scheme take Jupyter's defaults.
func ParseConnectionInfo(data []byte) (ConnectionInfo, error) {
	var ci ConnectionInfo
	if len(data) == 0 {
		return ci, errors.New("empty file")
	}
	if err := json.Unmarshal(data, &ci); err != nil {
		return ci, fmt.Errorf("not a valid connection file: %w", err)
	}
	if ci.Transport == "" {
		ci.Transport = "tcp"
	}
	if ci.SignatureScheme == "" {
		ci.SignatureScheme = "hmac-sha256"
	}
	switch ci.Transport {
	case "tcp":
		if net.ParseIP(ci.IP) == nil && ci.IP != "localhost" && ci.IP != "*" {
			return ci, fmt.Errorf("ip %q is not an IP address", ci.IP)
		}
		for _, p := range ci.ports() {
			if p.port < 0 || p.port > 65535 {
				return ci, fmt.Errorf("%s %d out of range", p.name, p.port)
			}
		}
	case "ipc":
		if ci.IP == "" {
			return ci, errors.New("ipc transport needs ip (the socket path prefix)")
		}
	default:
		return ci, fmt.Errorf("unknown transport %q (want tcp or ipc)", ci.Transport)
	}
	if _, err := NewSigner(ci.SignatureScheme, []byte(ci.Key)); err != nil {
		return ci, err
	}
	if _, err := ci.Curve(); err != nil {
		return ci, err
	}
	return ci, nil
}

// Curve returns the CURVE keypair the file asks for, or nil for none.
// One key without the other is an error: encryption asked for and not
// honoured must never become a plaintext kernel.
func (ci ConnectionInfo) Curve() (*CurveKeys, error) {
	if ci.CurvePublicKey == "" && ci.CurveSecretKey == "" {
		return nil, nil
	}
	if ci.CurvePublicKey == "" || ci.CurveSecretKey == "" {
		return nil, errors.New("curve_publickey and curve_secretkey must be given together")
	}
	k, err := ParseCurveKeys(ci.CurvePublicKey, ci.CurveSecretKey)
	if err != nil {
		return nil, err
	}
	return &k, nil
}

type namedPort struct {
	name string
	port int
}

func (ci ConnectionInfo) ports() []namedPort {
	return []namedPort{
		{"shell_port", ci.ShellPort}, {"control_port", ci.ControlPort},
		{"stdin_port", ci.StdinPort}, {"iopub_port", ci.IOPubPort}, {"hb_port", ci.HBPort},
	}
}

// Endpoint returns the ZeroMQ endpoint of a port, as Jupyter builds it:
// tcp://IP:PORT, or ipc://IP-PORT.
func (ci ConnectionInfo) Endpoint(port int) string {
	if ci.Transport == "ipc" {
		return "ipc://" + ci.IP + "-" + strconv.Itoa(port)
	}
	ip := ci.IP
	if ip == "*" {
		ip = "0.0.0.0"
	}
	return "tcp://" + net.JoinHostPort(ip, strconv.Itoa(port))
}

// NetAddr returns the net.Listen/net.Dial network and address of a port.
func (ci ConnectionInfo) NetAddr(port int) (network, addr string) {
	ep := ci.Endpoint(port)
	if ci.Transport == "ipc" {
		return "unix", strings.TrimPrefix(ep, "ipc://")
	}
	return "tcp", strings.TrimPrefix(ep, "tcp://")
}

// Write writes the connection file with mode 0600.
func (ci ConnectionInfo) Write(path string) error {
	data, err := json.MarshalIndent(ci, "", "  ")
	if err != nil {
		return fmt.Errorf("encode connection file: %w", err)
	}
	if err := os.WriteFile(path, data, 0o600); err != nil {
		return fmt.Errorf("write connection file: %w", err)
	}
	return nil
}
