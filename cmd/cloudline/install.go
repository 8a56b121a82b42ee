package main

import (
	"context"
	"fmt"
	"io"
)

func runInstall(_ context.Context, _ []string, _, stderr io.Writer) int {
	fmt.Fprintln(stderr, "cloudline: not implemented yet")
	return 2
}
func runList(_ context.Context, _ []string, _, stderr io.Writer) int {
	fmt.Fprintln(stderr, "cloudline: not implemented yet")
	return 2
}
func runUninstall(_ context.Context, _ []string, _, stderr io.Writer) int {
	fmt.Fprintln(stderr, "cloudline: not implemented yet")
	return 2
}
