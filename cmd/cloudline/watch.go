package main

import (
	"log/slog"

	"github.com/cloudline/cloudline/kernel"
)

// watch wires the proxy to cellwatch and the advisor.
type watch struct{}

func newWatch(p *kernel.Proxy, ka kernelArgs, log *slog.Logger) (*watch, error) {
	return &watch{}, nil
}

func (w *watch) close() {}
