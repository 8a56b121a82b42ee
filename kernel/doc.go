// Package kernel owns the Jupyter side of cloudline: the wire format,
// connection files, the sockets, the proxy between the frontend and the
// wrapped kernel, and the wrapped kernel's process. It forwards messages
// unmodified and knows nothing of what the rest of the program does with the
// copies its observer receives.
package kernel

import (
	_ "github.com/go-zeromq/zmq4" // the sockets (used by the proxy)
	_ "github.com/google/uuid"    // message ids of injected messages
)
