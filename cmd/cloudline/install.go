package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/cloudline/cloudline/kernelspec"
)

// setFlags collects repeated --set KEY=VALUE flags.
type setFlags []string

func (s *setFlags) String() string     { return strings.Join(*s, " ") }
func (s *setFlags) Set(v string) error { *s = append(*s, v); return nil }

// destFlags are the --user | --sys-prefix | --prefix DIR choice shared by
// install and uninstall, plus --python.
type destFlags struct {
	user, sysPrefix bool
	prefix, python  string
	// fromEnv names the environment --python defaulted to (the one the
	// cloudline executable was installed into), or is "".
	fromEnv string
}

func (d *destFlags) register(fs *flag.FlagSet, verb, userNote string) {
	fs.BoolVar(&d.user, "user", false, verb+" the user's Jupyter data dir"+userNote)
	fs.BoolVar(&d.sysPrefix, "sys-prefix", false, verb+" {sys.prefix}/share/jupyter of the Python interpreter")
	fs.StringVar(&d.prefix, "prefix", "", verb+" `DIR`/share/jupyter")
	fs.StringVar(&d.python, "python", "", "the Python interpreter `PATH` (default: that of the virtualenv or conda env cloudline is installed in, else python3 on PATH)")
}

// check rejects more than one destination and resolves --python to an
// absolute path (symlinks kept: a venv's python is one). Without --python,
// a cloudline installed in a virtualenv or conda env uses its interpreter.
func (d *destFlags) check() error {
	n := 0
	for _, set := range []bool{d.user, d.sysPrefix, d.prefix != ""} {
		if set {
			n++
		}
	}
	if n > 1 {
		return errors.New("--user, --sys-prefix and --prefix exclude each other")
	}
	if d.python == "" {
		if exe, err := os.Executable(); err == nil {
			d.python, d.fromEnv, _ = envInterpreter(exe)
		}
		return nil
	}
	py := d.python
	if !strings.ContainsRune(py, filepath.Separator) {
		p, err := exec.LookPath(py)
		if err != nil && !errors.Is(err, exec.ErrDot) {
			return fmt.Errorf("--python %s: %w", d.python, err)
		}
		py = p
	}
	abs, err := filepath.Abs(py)
	if err != nil {
		return fmt.Errorf("--python %s: %w", d.python, err)
	}
	if fi, err := os.Stat(abs); err != nil || fi.IsDir() {
		return fmt.Errorf("--python %s: not an executable file", d.python)
	}
	d.python = abs
	return nil
}

// kernelsDir returns the kernels directory the flags choose; ok is false
// when none was given. python is asked for sys.prefix with --sys-prefix.
func (d *destFlags) kernelsDir(ctx context.Context, python string) (dir string, ok bool, err error) {
	switch {
	case d.prefix != "":
		abs, err := filepath.Abs(d.prefix)
		return filepath.Join(abs, "share", "jupyter", "kernels"), true, err
	case d.sysPrefix:
		prefix, err := kernelspec.SysPrefix(ctx, python)
		if err != nil {
			return "", true, err
		}
		return filepath.Join(prefix, "share", "jupyter", "kernels"), true, nil
	case d.user:
		u, err := kernelspec.UserDataDir()
		return filepath.Join(u, "kernels"), true, err
	}
	return "", false, nil
}

// parseArgs parses flags wherever they appear among the positional
// arguments. Flag errors are returned, not printed; -h prints usage.
func parseArgs(fs *flag.FlagSet, args []string, stderr io.Writer, synopsis string) ([]string, error) {
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				fs.SetOutput(stderr)
				fmt.Fprintf(stderr, "usage: %s\n\n", synopsis)
				fs.PrintDefaults()
			}
			return nil, err
		}
		if len(fs.Args()) == 0 {
			return pos, nil
		}
		pos = append(pos, fs.Arg(0))
		args = fs.Args()[1:]
	}
}

// fail prints err as the single line "cloudline CMD: ..." and returns the
// exit status: 0 after -h, else 2.
func fail(stderr io.Writer, cmd string, err error) int {
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	msg := strings.ReplaceAll(strings.TrimSpace(err.Error()), "\n", "; ")
	fmt.Fprintf(stderr, "cloudline %s: %s\n", cmd, msg)
	return 2
}

func runInstall(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if err := install(ctx, args, stdout, stderr); err != nil {
		return fail(stderr, "install", err)
	}
	return 0
}

func install(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("cloudline install", flag.ContinueOnError)
	name := fs.String("name", "", "name of the new kernelspec (default: WRAP-cloudline)")
	display := fs.String("display-name", "", `display name (default: the wrapped one's, e.g. "Python 3 (cloudline)")`)
	wrap := fs.String("wrap", "python3", "name of the kernelspec to wrap")
	var sets setFlags
	fs.Var(&sets, "set", "set a configuration `KEY=VALUE` in metadata.cloudline (repeatable)")
	gw := fs.String("gateway", "", "a kernelspec for Enterprise Gateway's `distributed` or `kubernetes` process proxy")
	image := fs.String("image", "", "with --gateway kubernetes: the kernel `IMAGE` (see deploy/)")
	var dest destFlags
	dest.register(fs, "install into", " (the default)")
	pos, err := parseArgs(fs, args, stderr, "cloudline install [--name NAME] [--display-name S] [--wrap SPEC] [--python PATH] [--user | --sys-prefix | --prefix DIR] [--set KEY=VALUE ...] [--gateway distributed|kubernetes [--image IMAGE]]")
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return fmt.Errorf("unexpected argument %q", pos[0])
	}
	if err := dest.check(); err != nil {
		return err
	}
	if *name, err = specName(*wrap, *name, *gw); err != nil {
		return err
	}
	config, err := sets.config()
	if err != nil {
		return err
	}

	wrapped, err := kernelspec.Find(ctx, *wrap, kernelspec.Options{Python: dest.python})
	if err != nil {
		return err
	}
	if wrapped.IsCloudline() {
		return fmt.Errorf("kernelspec %q in %s is itself a cloudline kernelspec; wrap the kernelspec it wraps (%s) instead", wrapped.Name, wrapped.Dir, wrapped.Wraps())
	}
	exe, err := selfExecutable()
	if err != nil {
		return err
	}
	spec, err := kernelspec.Wrap(wrapped, kernelspec.WrapOptions{
		Executable: exe, Python: dest.python, DisplayName: *display, Config: config,
	})
	if err != nil {
		return err
	}

	if !dest.sysPrefix && dest.prefix == "" {
		dest.user = true
	}
	interpreter := dest.python
	if interpreter == "" {
		interpreter = spec.Argv[7] // the wrapped program, resolved by Wrap
	}
	if *gw != "" {
		if err := gatewaySpec(spec, *gw, *image, *display == ""); err != nil {
			return err
		}
	} else if *image != "" {
		return errors.New("--image needs --gateway kubernetes")
	}
	target, err := installTarget(ctx, &dest, interpreter, *name, wrapped.Dir)
	if err != nil {
		return err
	}
	if err := kernelspec.Install(spec, wrapped.Dir, target); err != nil {
		return err
	}
	if dest.fromEnv != "" {
		fmt.Fprintf(stdout, "wrapped %s of %s, where cloudline is installed (--python chooses another)\n", dest.python, dest.fromEnv)
	}
	fmt.Fprintf(stdout, "installed kernelspec %s in %s\n", *name, target)
	return nil
}

// specName checks --wrap and returns the new kernelspec's name: --name, or
// WRAP-cloudline[-GATEWAY], lowercased as jupyter_client looks names up.
func specName(wrap, name, gateway string) (string, error) {
	if !kernelspec.ValidName(wrap) {
		return "", fmt.Errorf("bad --wrap %q: not a kernelspec name", wrap)
	}
	if name == "" {
		name = wrap + "-cloudline"
		if gateway != "" {
			name += "-" + gateway
		}
	}
	if !kernelspec.ValidName(name) {
		return "", fmt.Errorf("bad --name %q: use letters, digits, '.', '_' and '-'", name)
	}
	return strings.ToLower(name), nil
}

// config returns the --set values, typed and checked, by lowercase key.
func (sets setFlags) config() (map[string]any, error) {
	config := map[string]any{}
	for _, kv := range sets {
		k, v, ok := strings.Cut(kv, "=")
		if !ok {
			return nil, fmt.Errorf("bad --set %q: want KEY=VALUE", kv)
		}
		typed, err := kernelspec.SetValue(k, v)
		if err != nil {
			return nil, fmt.Errorf("bad --set: %w", err)
		}
		config[strings.ToLower(strings.TrimSpace(k))] = typed
	}
	return config, nil
}

// selfExecutable is this program's absolute path, for the kernelspec's argv.
func selfExecutable() (string, error) {
	exe, err := os.Executable()
	if err == nil {
		exe, err = filepath.Abs(exe)
	}
	if err != nil {
		return "", fmt.Errorf("find the cloudline executable: %w", err)
	}
	return exe, nil
}

// installTarget returns the directory the kernelspec name goes to, refusing
// the wrapped kernelspec's own (wrappedDir) and one cloudline did not install.
func installTarget(ctx context.Context, dest *destFlags, interpreter, name, wrappedDir string) (string, error) {
	kernels, _, err := dest.kernelsDir(ctx, interpreter)
	if err != nil {
		return "", err
	}
	target := filepath.Join(kernels, name)
	if target == wrappedDir {
		return "", fmt.Errorf("%s is the wrapped kernelspec itself; choose another --name", target)
	}
	if existing, err := kernelspec.ReadSpec(target); err == nil && !existing.IsCloudline() {
		return "", fmt.Errorf("%s holds a kernelspec cloudline did not install; remove it first or choose another --name", target)
	} else if err != nil && !errors.Is(err, os.ErrNotExist) {
		return "", fmt.Errorf("%s holds a kernelspec that cannot be read, so it is left alone: %w", target, err)
	}
	return target, nil
}
