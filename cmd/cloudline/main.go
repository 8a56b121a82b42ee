// Command cloudline is a Jupyter kernel that runs ipykernel behind a proxy
// and tells the user, inside the notebook, when the work has outgrown the
// laptop. It is the only place in the module that exits.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
)

// command is one subcommand: it returns the process exit status.
// Status 2 means bad input (one line on stderr says what).
type command struct {
	run     func(ctx context.Context, args []string, stdout, stderr io.Writer) int
	summary string
}

var commands = map[string]command{
	"kernel":    {runKernel, "run as a Jupyter kernel (what kernel.json starts): kernel -f CONNECTION_FILE"},
	"launch":    {runLaunch, "run as Enterprise Gateway's kernel launcher (remote process proxies)"},
	"install":   {runInstall, "install a cloudline kernelspec wrapping an existing one"},
	"list":      {runList, "list kernelspecs, marking the ones cloudline wraps"},
	"uninstall": {runUninstall, "remove a cloudline kernelspec"},
	"history":   {runHistory, "show the cells cloudline measured"},
	"report":    {runReport, "write an HTML report of the history"},
	"job":       {runJob, "write a cloud job (Azure ML, SageMaker, Vertex AI) sized from a notebook's history"},
	"version":   {runVersion, "print the version and commit (also --version)"},
}

func main() {
	os.Exit(run(context.Background(), os.Args[1:], os.Stdout, os.Stderr))
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		usage(stderr)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	if args[0] == "--version" || args[0] == "-V" {
		return runVersion(ctx, args[1:], stdout, stderr)
	}
	cmd, ok := commands[args[0]]
	if !ok {
		fmt.Fprintf(stderr, "cloudline: unknown command %q (run 'cloudline help')\n", args[0])
		return 2
	}
	return cmd.run(ctx, args[1:], stdout, stderr)
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "usage: cloudline COMMAND [flags]")
	fmt.Fprintln(w)
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-10s %s\n", n, commands[n].summary)
	}
}

// parseFlags parses a subcommand's flags and allows no other arguments.
// -h prints usage to stdout (status 0); a bad flag or a stray argument is
// one line on stderr (status 2). When done is true the command returns
// status at once.
func parseFlags(fs *flag.FlagSet, args []string, usage string, stdout, stderr io.Writer) (status int, done bool) {
	fs.SetOutput(io.Discard)
	name := "cloudline " + fs.Name()
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fmt.Fprint(stdout, usage)
			return 0, true
		}
		fmt.Fprintf(stderr, "%s: %v (see %s -h)\n", name, err, name)
		return 2, true
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "%s: unexpected argument %q (see %s -h)\n", name, fs.Arg(0), name)
		return 2, true
	}
	return 0, false
}
