package cellwatch

import (
	"encoding/json"
	"time"

	"github.com/cloudline/cloudline/kernel"
)

// maxClockStep: a kernel-dated running time longer than the one measured
// here by more than this means the wall clock was stepped during the cell.
const maxClockStep = time.Minute

// wall is the cell's running time, ending at end: by the kernel's own
// clock, from the date on its execute_input to the one on its idle (the
// headers JupyterLab's recorded timing reads too), when both have one;
// else from their arrival here. Under load the proxy may read either
// message late, which once made a 3 s cell "2s".
func (c *cell) wall(end time.Time) time.Duration {
	arrived := max(0, end.Sub(c.startTime()))
	if c.kStart.IsZero() || c.kEnd.IsZero() {
		return arrived
	}
	if k := c.kEnd.Sub(c.kStart); k >= 0 && k <= arrived+maxClockStep {
		return k
	}
	return arrived
}

// kernelDate is the date in m's header (ISO 8601, as jupyter_client
// writes it), zero when it has none that parses.
func kernelDate(m *kernel.Message) time.Time {
	var h struct {
		Date string `json:"date"`
	}
	if len(m.Header) == 0 || json.Unmarshal(m.Header, &h) != nil {
		return time.Time{}
	}
	t, err := time.Parse(time.RFC3339Nano, h.Date)
	if err != nil {
		return time.Time{}
	}
	return t
}
