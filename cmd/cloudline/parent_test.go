package main

import (
	"context"
	"sync/atomic"
	"testing"
	"time"
)

func TestParentToWatch(t *testing.T) {
	tests := []struct {
		name      string
		ppid      int
		jpy       string
		want      int
		wantMatch bool
	}{
		{"started by jupyter_client", 4242, "4242", 4242, true},
		{"started through a wrapper", 4242, "17", 4242, false},
		{"no JPY_PARENT_PID", 4242, "", 4242, false},
		{"already adopted by init", 1, "4242", 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("JPY_PARENT_PID", tt.jpy)
			got, match := parentToWatch(func() int { return tt.ppid })
			if got != tt.want || match != tt.wantMatch {
				t.Errorf("parentToWatch = %d, %v; want %d, %v", got, match, tt.want, tt.wantMatch)
			}
		})
	}
}

// The watcher fires once the parent pid changes (to init or a sub-reaper),
// and never while it stays.
func TestWatchParent(t *testing.T) {
	for _, adopter := range []int{1, 777} {
		var ppid atomic.Int64
		ppid.Store(4242)
		var polls atomic.Int64
		getppid := func() int { polls.Add(1); return int(ppid.Load()) }
		fired := make(chan struct{})
		done := make(chan struct{})
		go func() {
			defer close(done)
			watchParent(context.Background(), 4242, getppid, time.Millisecond, func() { close(fired) })
		}()
		for polls.Load() < 3 { // it has looked, and the parent is still there
			time.Sleep(time.Millisecond)
		}
		select {
		case <-fired:
			t.Fatal("fired while the parent lives")
		default:
		}
		ppid.Store(int64(adopter))
		select {
		case <-fired:
		case <-time.After(30 * time.Second):
			t.Fatalf("not fired after re-parenting to %d", adopter)
		}
		<-done
	}
}

// Cancelled, the watcher returns without firing; with no parent to watch
// it returns at once.
func TestWatchParentEnds(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	watchParent(ctx, 4242, func() int { return 4242 }, time.Millisecond, func() { t.Error("fired") })
	watchParent(context.Background(), 0, func() int { return 1 }, time.Millisecond, func() { t.Error("fired") })
}
