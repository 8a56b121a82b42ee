package advisor

import (
	"time"

	"github.com/cloudline/cloudline/cellwatch"
)

// Cooldown keeps advice from being repeated: a rule is allowed at most once
// per notebook within a cool-down period, at most once per cell, and a
// finding about a subject (a file, a port, the kernelspec, the disk) at
// most once per kernel session whatever the cool-down. kernel-died is
// always allowed. The zero value is ready to use; Seed carries the
// cool-down over a restart. A Cooldown is not safe for concurrent use: the
// caller serialises calls (one Cooldown per kernel, used from the
// goroutine that evaluates rules).
type Cooldown struct {
	last  map[ruleNotebook]time.Time
	cells map[ruleCell]struct{}
	told  map[ruleSubject]struct{}
	seen  map[string]struct{} // ports left listening at a cell's end
}

type ruleNotebook struct{ rule, notebook string }

type ruleCell struct{ rule, msgID string }

type ruleSubject struct{ rule, subject string }

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

// Admit returns the advice of as that may be shown on cell rec at now and
// records it as shown: not said before about all of its subjects in this
// session (nor, for ports, left listening by an earlier cell), then
// AllowCell.
func (c *Cooldown) Admit(as []Advice, rec cellwatch.Record, now time.Time, every time.Duration) []Advice {
	var out []Advice
	for _, a := range as {
		if a.Rule != RuleKernelDied && len(a.Subjects) > 0 && c.allTold(a) {
			continue
		}
		if _, done := c.cells[ruleCell{a.Rule, rec.MsgID}]; done {
			// This cell's note has the rule: what it finds now (the
			// file opened, beside the path named in the code) is told.
			c.tell(a)
			continue
		}
		if !c.AllowCell(a.Rule, rec.Notebook, rec.MsgID, now, every) {
			continue
		}
		c.tell(a)
		out = append(out, a)
	}
	return out
}

func (c *Cooldown) tell(a Advice) {
	if c.told == nil {
		c.told = map[ruleSubject]struct{}{}
	}
	for _, s := range a.Subjects {
		c.told[ruleSubject{a.Rule, s}] = struct{}{}
	}
}

func (c *Cooldown) allTold(a Advice) bool {
	for _, s := range a.Subjects {
		_, told := c.told[ruleSubject{a.Rule, s}]
		_, seen := c.seen[s]
		if !told && !seen {
			return false
		}
	}
	return true
}

// CellStarted records the ports already listening when a cell starts:
// they are an earlier cell's (or its dashboard's), not this cell's news.
func (c *Cooldown) CellStarted(rec cellwatch.Record) { c.seePorts(rec.ListenPorts) }

func (c *Cooldown) seePorts(ports []int) {
	for _, p := range ports {
		if c.seen == nil {
			c.seen = map[string]struct{}{}
		}
		c.seen["port:"+itoa(p)] = struct{}{}
	}
}

// CellEnded records what a cell left behind once its advice is judged:
// the ports still listening belong to it (a dashboard it started is not
// news at the next cell), and its per-cell memory is dropped.
func (c *Cooldown) CellEnded(rec cellwatch.Record) {
	c.seePorts(rec.ListenPorts)
	c.ForgetCell(rec.MsgID)
}

// Seed carries the cool-down over a kernel restart: the advice recorded in
// past (the notebook's history, any order) counts as shown when its cell
// ended. Records of an unnamed notebook are ignored (nothing says they are
// this notebook's).
func (c *Cooldown) Seed(past []cellwatch.Record) {
	for _, r := range past {
		if r.Notebook == "" {
			continue
		}
		at := r.Ended
		if at.IsZero() {
			at = r.Requested
		}
		for _, rule := range r.Advice {
			if rule == RuleKernelDied {
				continue
			}
			k := ruleNotebook{rule, r.Notebook}
			if c.last == nil {
				c.last = map[ruleNotebook]time.Time{}
			}
			if last, ok := c.last[k]; !ok || at.After(last) {
				c.last[k] = at
			}
		}
	}
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
