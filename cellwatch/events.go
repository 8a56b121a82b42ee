package cellwatch

import "encoding/json"

// The events a Watcher's handlers receive.

// EventKind says what happened to a cell.
type EventKind int

// Event kinds, in the order a cell sees them.
const (
	CellStart  EventKind = iota + 1 // execute_request seen
	CellOutput                      // outputs seen since the cell's previous event (once per batch, not per message)
	CellTick                        // a sample while the kernel runs the cell (every SampleEvery)
	CellEnd                         // its status idle seen, or the kernel died
)

func (k EventKind) String() string {
	switch k {
	case CellStart:
		return "start"
	case CellOutput:
		return "output"
	case CellTick:
		return "tick"
	case CellEnd:
		return "end"
	}
	return "unknown"
}

// Event is one step of one cell. Record and Parent are copies: keep them
// freely.
type Event struct {
	Kind   EventKind
	Record Record
	// Parent is the cell's execute_request header: the parent_header of
	// anything posted for the cell (kernel.Proxy.Inject).
	Parent json.RawMessage
	// Output says what the cell printed since its previous event; set on
	// CellOutput only.
	Output Output
}

// Output counts the outputs of one cell seen since its previous event.
type Output struct {
	Streams    int    // stream messages
	Displays   int    // display_data, update_display_data, execute_result
	Errors     int    // error messages
	LastStream string // name of the last stream seen ("stdout", "stderr")
}

func (o Output) any() bool { return o.Streams+o.Displays+o.Errors > 0 }

// Handler receives the watcher's events on the Run goroutine, in order.
// Message handling waits while it runs, and a held idle (HoldIdle) is
// released only once every handler has returned from the cell's CellEnd,
// so a handler posts what it has to say about the cell before returning
// and never blocks for long. It may call AddAdvice; it must not call
// Sync or ChildExited (they wait for the Run goroutine).
type Handler func(Event)
