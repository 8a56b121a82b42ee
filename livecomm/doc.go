// Package livecomm answers the "cloudline" comm that cloudline's JupyterLab
// extension opens, and sends it, as versioned JSON ({"v": 1, "type": ...}),
// the live figures of each running cell, each cell's summary at its end
// and the kernel's memory against its limit.
//
// It owns the comm's state (which comms are open), the wire form of its
// messages and their pacing. It does not measure (cellwatch does), judge
// (advisor) or forward (kernel): the program wires Intercept into the
// proxy's shell path, feeds it cellwatch records, and gives it the proxy's
// Inject. The comm never reaches the wrapped kernel, so comm_info_request
// (forwarded unchanged) lists only the wrapped kernel's comms, exactly as
// the plain kernel answers it.
package livecomm
