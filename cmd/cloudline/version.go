package main

import (
	"context"
	"fmt"
	"io"
	"runtime/debug"
)

// version and commit are set at build time with
// -ldflags "-X main.version=0.1.0 -X main.commit=abc123" (the wheel's build
// hook and the Makefile do). Without them the commit comes from the Go
// toolchain's VCS stamp, when the binary was built in a git checkout.
var (
	version = "dev"
	commit  = ""
)

// buildCommit is the commit the binary was built from: main.commit, else
// the toolchain's vcs.revision (shortened, "+dirty" when the tree had
// changes), else "unknown".
func buildCommit() string {
	if commit != "" {
		return commit
	}
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return "unknown"
	}
	var rev string
	var dirty bool
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			dirty = s.Value == "true"
		}
	}
	if rev == "" {
		return "unknown"
	}
	if len(rev) > 12 {
		rev = rev[:12]
	}
	if dirty {
		rev += "+dirty"
	}
	return rev
}

// versionLine is what --version prints: "cloudline 0.1.0 (commit abc123)".
func versionLine() string {
	return fmt.Sprintf("cloudline %s (commit %s)", version, buildCommit())
}

func runVersion(_ context.Context, _ []string, stdout, _ io.Writer) int {
	fmt.Fprintln(stdout, versionLine())
	return 0
}
