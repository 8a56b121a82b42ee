package advisor

import "time"

// Cooldown keeps advice from being repeated: a rule is allowed at most once
// per notebook within a cool-down period, and at most once per cell.
// kernel-died is always allowed. The zero value is ready to use. A Cooldown
// is not safe for concurrent use: the caller serialises calls (one
// Cooldown per kernel, used from the goroutine that evaluates rules).
type Cooldown struct {
	last  map[ruleNotebook]time.Time
	cells map[ruleCell]struct{}
}

type ruleNotebook struct{ rule, notebook string }

type ruleCell struct{ rule, msgID string }

// Allow reports whether rule may be shown for notebook at now, given the
// cool-down every, and if so records now as its last showing. every <= 0
// means no cool-down. A clock that goes backwards counts as time passed.
func (c *Cooldown) Allow(rule, notebook string, now time.Time, every time.Duration) bool {
	if rule == RuleKernelDied {
		return true
	}
	k := ruleNotebook{rule, notebook}
	if last, ok := c.last[k]; ok && every > 0 {
		if d := now.Sub(last); d >= 0 && d < every {
			return false
		}
	}
	if c.last == nil {
		c.last = map[ruleNotebook]time.Time{}
	}
	c.last[k] = now
	return true
}

// AllowCell is Allow for advice on one cell (msgID: its execute_request's
// msg_id): besides the notebook's cool-down, a rule is shown at most once
// per cell, so a cell evaluated at start, live and at its end posts each
// rule once. An empty msgID skips the per-cell check.
func (c *Cooldown) AllowCell(rule, notebook, msgID string, now time.Time, every time.Duration) bool {
	if rule == RuleKernelDied {
		return true
	}
	k := ruleCell{rule, msgID}
	if msgID != "" {
		if _, done := c.cells[k]; done {
			return false
		}
	}
	if !c.Allow(rule, notebook, now, every) {
		return false
	}
	if msgID != "" {
		if c.cells == nil {
			c.cells = map[ruleCell]struct{}{}
		}
		c.cells[k] = struct{}{}
	}
	return true
}

// ForgetCell drops the per-cell memory of msgID; call it once the cell has
// ended and its advice is flushed, so a long session does not accumulate
// entries.
func (c *Cooldown) ForgetCell(msgID string) {
	for k := range c.cells {
		if k.msgID == msgID {
			delete(c.cells, k)
		}
	}
}
