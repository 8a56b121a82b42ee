package main

import (
	"context"
	"fmt"
	"io"
)

func runHistory(_ context.Context, _ []string, _, stderr io.Writer) int {
	fmt.Fprintln(stderr, "cloudline: not implemented yet")
	return 2
}
