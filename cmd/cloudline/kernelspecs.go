package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"text/tabwriter"

	"github.com/cloudline/cloudline/kernelspec"
)

// listEntry is one line of `cloudline list --json`.
type listEntry struct {
	Name        string `json:"name"`
	DisplayName string `json:"display_name"`
	Language    string `json:"language"`
	Dir         string `json:"dir"`
	Cloudline   bool   `json:"cloudline"`
	Wraps       string `json:"wraps,omitempty"`
}

func runList(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("cloudline list", flag.ContinueOnError)
	asJSON := fs.Bool("json", false, "print a JSON array")
	python := fs.String("python", "", "the Python interpreter `PATH` whose sys.prefix is searched (default: python3 on PATH)")
	pos, err := parseArgs(fs, args, stderr, "cloudline list [--json] [--python PATH]")
	if err == nil && len(pos) > 0 {
		err = fmt.Errorf("unexpected argument %q", pos[0])
	}
	if err != nil {
		return fail(stderr, "list", err)
	}
	specs, errs := kernelspec.List(ctx, kernelspec.Options{Python: *python})
	for _, e := range errs {
		fmt.Fprintf(stderr, "cloudline list: skipped: %s\n", strings.ReplaceAll(e.Error(), "\n", "; "))
	}
	entries := make([]listEntry, 0, len(specs))
	for _, s := range specs {
		entries = append(entries, listEntry{s.Name, s.DisplayName, s.Language, s.Dir, s.IsCloudline(), s.Wraps()})
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(entries); err != nil {
			return fail(stderr, "list", err)
		}
		return 0
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "  NAME\tDISPLAY NAME\tDIRECTORY\tWRAPS")
	for _, e := range entries {
		mark, wraps := " ", ""
		if e.Cloudline {
			mark, wraps = "*", e.Wraps
		}
		fmt.Fprintf(tw, "%s %s\t%s\t%s\t%s\n", mark, e.Name, e.DisplayName, e.Dir, wraps)
	}
	if err := tw.Flush(); err != nil {
		return fail(stderr, "list", err)
	}
	return 0
}

func runUninstall(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if err := uninstall(ctx, args, stdout, stderr); err != nil {
		return fail(stderr, "uninstall", err)
	}
	return 0
}

func uninstall(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("cloudline uninstall", flag.ContinueOnError)
	var dest destFlags
	dest.register(fs, "remove from", " (default: the first spec of that name on the search path)")
	pos, err := parseArgs(fs, args, stderr, "cloudline uninstall NAME [--user | --sys-prefix | --prefix DIR] [--python PATH]")
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return errors.New("want exactly one kernelspec NAME")
	}
	name := strings.ToLower(pos[0])
	if !kernelspec.ValidName(name) {
		return fmt.Errorf("bad kernelspec name %q", pos[0])
	}
	if err := dest.check(); err != nil {
		return err
	}
	kernels, chosen, err := dest.kernelsDir(ctx, dest.python)
	if err != nil {
		return err
	}
	var spec *kernelspec.Spec
	if chosen {
		spec, err = kernelspec.FindIn(name, []kernelspec.DataDir{{Path: filepath.Dir(kernels)}})
	} else {
		spec, err = kernelspec.Find(ctx, name, kernelspec.Options{Python: dest.python})
	}
	if err != nil {
		return err
	}
	if !spec.IsCloudline() {
		return fmt.Errorf("%s in %s is not a cloudline kernelspec; not removing it (use jupyter kernelspec remove)", spec.Name, spec.Dir)
	}
	if err := kernelspec.Remove(spec.Dir); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "removed kernelspec %s from %s\n", spec.Name, spec.Dir)
	return nil
}
