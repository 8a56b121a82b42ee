package kernel

import (
	"strings"
	"testing"
)

// The hop to the child is ipc inside the private directory, TCP on
// loopback only where the socket path would not fit.
func TestChildConnection(t *testing.T) {
	ci := childConnection("/tmp/cloudline-123", "k", "hmac-sha256")
	if ci.Transport != "ipc" || ci.IP != "/tmp/cloudline-123/k" {
		t.Errorf("short dir: %s %s, want ipc in the dir", ci.Transport, ci.IP)
	}
	long := "/" + strings.Repeat("d", maxIPCPath)
	if ci := childConnection(long, "k", "hmac-sha256"); ci.Transport != "tcp" || ci.IP != "127.0.0.1" {
		t.Errorf("long dir: %s %s, want tcp on 127.0.0.1", ci.Transport, ci.IP)
	}
	if ci.Key != "k" || ci.SignatureScheme != "hmac-sha256" {
		t.Errorf("key and scheme not kept: %+v", ci)
	}
}
