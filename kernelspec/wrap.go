package kernelspec

import (
	"encoding/json"
	"errors"
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
)

// Placeholders in kernel.json argv. jupyter_client fills in ConnectionFile
// and ResourceDir (and leaves unknown names alone); `cloudline kernel`
// fills in ChildConnectionFile for the wrapped kernel.
const (
	ConnectionFile      = "{connection_file}"
	ChildConnectionFile = "{child_connection_file}"
	ResourceDir         = "{resource_dir}"
)

// WrapOptions configures Wrap.
type WrapOptions struct {
	// Executable is the absolute path of the cloudline binary. Required.
	Executable string
	// Python replaces a wrapped argv[0] of "python" or "python3"; "" means
	// look the name up on PATH. It is made absolute, never
	// symlink-resolved (a venv's python is a symlink into the base install).
	Python string
	// DisplayName overrides the derived "<wrapped name> (cloudline)".
	DisplayName string
	// Config is written as metadata.cloudline; nil means an empty object.
	Config map[string]any
	// LookPath finds programs; nil means exec.LookPath.
	LookPath func(file string) (string, error)
}

// Wrap returns the cloudline spec that runs the wrapped spec behind
// `cloudline kernel`. Its argv is
//
//	[Executable, "kernel", "-f", "{connection_file}", "--resource-dir", "{resource_dir}", "--", wrapped argv...]
//
// with {connection_file} in the wrapped argv rewritten to
// {child_connection_file}, {resource_dir} to the wrapped spec's directory,
// and a relative argv[0] made absolute. The result has no Name or Dir.
func Wrap(wrapped *Spec, opts WrapOptions) (*Spec, error) {
	if wrapped.IsCloudline() {
		return nil, fmt.Errorf("kernelspec %q in %s is already a cloudline kernelspec", wrapped.Name, wrapped.Dir)
	}
	if len(wrapped.Argv) == 0 || wrapped.Argv[0] == "" {
		return nil, fmt.Errorf("kernelspec %q in %s has no argv", wrapped.Name, wrapped.Dir)
	}
	if !filepath.IsAbs(opts.Executable) {
		return nil, fmt.Errorf("cloudline executable %q is not an absolute path", opts.Executable)
	}
	prog, err := resolveProgram(wrapped.Argv[0], opts)
	if err != nil {
		return nil, fmt.Errorf("kernelspec %q: %w", wrapped.Name, err)
	}
	argv := []string{opts.Executable, "kernel", "-f", ConnectionFile, "--resource-dir", ResourceDir, "--", prog}
	for _, a := range wrapped.Argv[1:] {
		a = strings.ReplaceAll(a, ConnectionFile, ChildConnectionFile)
		a = strings.ReplaceAll(a, ResourceDir, wrapped.Dir)
		argv = append(argv, a)
	}

	meta := map[string]json.RawMessage{}
	for k, v := range wrapped.Metadata {
		meta[k] = v
	}
	// cloudline serves CURVE itself (kernel/curve*.go) and nothing else:
	// declare it exactly when the wrapped kernel does, so that
	// transport_encryption "auto" encrypts both kernels alike.
	delete(meta, metaEncryption)
	if declaresCurve(wrapped.Metadata[metaEncryption]) {
		meta[metaEncryption] = json.RawMessage(`["curve"]`)
	}
	cfg := opts.Config
	if cfg == nil {
		cfg = map[string]any{}
	}
	var err1, err2 error
	meta[MetaConfig], err1 = json.Marshal(cfg)
	meta[MetaWraps], err2 = json.Marshal(wrapped.Name)
	if err := errors.Join(err1, err2); err != nil {
		return nil, fmt.Errorf("encode metadata: %w", err)
	}

	display := opts.DisplayName
	if display == "" {
		display = WrappedDisplayName(wrapped)
	}
	mode := wrapped.InterruptMode
	if mode == "" {
		mode = "signal"
	}
	var env map[string]string
	if len(wrapped.Env) > 0 {
		env = make(map[string]string, len(wrapped.Env))
		for k, v := range wrapped.Env {
			env[k] = v
		}
	}
	return &Spec{
		Argv:                  argv,
		DisplayName:           display,
		Language:              wrapped.Language,
		InterruptMode:         mode,
		Env:                   env,
		Metadata:              meta,
		KernelProtocolVersion: wrapped.KernelProtocolVersion,
		Mimetype:              wrapped.Mimetype,
	}, nil
}

// WrappedDisplayName is the display name of a cloudline spec wrapping s:
// "Python 3 (ipykernel)" gives "Python 3 (cloudline)".
func WrappedDisplayName(s *Spec) string {
	name := strings.TrimSpace(s.DisplayName)
	if name == "" {
		name = s.Name
	}
	name = strings.TrimSpace(strings.TrimSuffix(name, " (ipykernel)"))
	return name + " (cloudline)"
}

// IsPythonName reports whether prog is a bare "python" or "python3", the
// names jupyter_client replaces with its own interpreter.
func IsPythonName(prog string) bool {
	return prog == "python" || prog == "python3"
}

// resolveProgram makes the wrapped argv[0] absolute without resolving
// symlinks.
func resolveProgram(prog string, opts WrapOptions) (string, error) {
	if filepath.IsAbs(prog) {
		return prog, nil
	}
	if IsPythonName(prog) && opts.Python != "" {
		prog = opts.Python
		if filepath.IsAbs(prog) {
			return filepath.Clean(prog), nil
		}
	}
	look := opts.LookPath
	if look == nil {
		look = exec.LookPath
	}
	path, err := look(prog)
	if err != nil && !errors.Is(err, exec.ErrDot) {
		return "", fmt.Errorf("find program %q: %w", prog, err)
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return "", fmt.Errorf("find program %q: %w", prog, err)
	}
	return abs, nil
}

// metaEncryption is jupyter_client 8.10's kernelspec key for the transport
// encryption a kernel supports.
const metaEncryption = "supported_encryption"

// declaresCurve reports whether a supported_encryption value names curve,
// read as jupyter_client reads it: a string or a list, case and spaces
// ignored.
func declaresCurve(raw json.RawMessage) bool {
	var one string
	if json.Unmarshal(raw, &one) == nil {
		return strings.EqualFold(strings.TrimSpace(one), "curve")
	}
	var list []any
	if json.Unmarshal(raw, &list) != nil {
		return false
	}
	for _, v := range list {
		if strings.EqualFold(strings.TrimSpace(fmt.Sprint(v)), "curve") {
			return true
		}
	}
	return false
}
