package gateway

import (
	"context"
	"fmt"
	"net"
	"time"
)

// respondTimeout bounds connecting to the gateway's response address and
// writing the payload: the gateway accepts at once while it waits for the
// kernel (EG_KERNEL_LAUNCH_TIMEOUT, 30 s by default, covers the whole
// launch).
const respondTimeout = 20 * time.Second

// Respond sends a sealed payload to the gateway's response address and
// closes the connection: the gateway reads until EOF.
func Respond(ctx context.Context, addr string, payload []byte) error {
	ctx, cancel := context.WithTimeout(ctx, respondTimeout)
	defer cancel()
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return fmt.Errorf("connect to the gateway's response address: %w", err)
	}
	defer conn.Close()
	if dl, ok := ctx.Deadline(); ok {
		conn.SetWriteDeadline(dl)
	}
	if _, err := conn.Write(payload); err != nil {
		return fmt.Errorf("send connection info to %s: %w", addr, err)
	}
	if err := conn.Close(); err != nil {
		return fmt.Errorf("send connection info to %s: %w", addr, err)
	}
	return nil
}
