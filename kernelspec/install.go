package kernelspec

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
)

// Install writes spec as dest/kernel.json, together with every file of
// resourcesFrom except its kernel.json (logos, kernel.js; "" copies
// nothing). It builds the spec in a temporary directory next to dest and
// renames it into place, replacing an existing dest; on error nothing is
// left behind and an existing dest is unchanged. The parent of dest is
// created if needed.
func Install(spec *Spec, resourcesFrom, dest string) (err error) {
	dest, err = filepath.Abs(dest)
	if err != nil {
		return fmt.Errorf("install kernelspec: %w", err)
	}
	data, err := spec.MarshalJSON()
	if err != nil {
		return fmt.Errorf("install kernelspec: encode: %w", err)
	}
	parent := filepath.Dir(dest)
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return fmt.Errorf("install kernelspec: %w", err)
	}
	tmp, err := os.MkdirTemp(parent, "."+filepath.Base(dest)+".new-")
	if err != nil {
		return fmt.Errorf("install kernelspec: %w", err)
	}
	defer func() {
		if err != nil {
			_ = os.RemoveAll(tmp)
		}
	}()
	if err := os.Chmod(tmp, 0o755); err != nil {
		return fmt.Errorf("install kernelspec: %w", err)
	}
	if resourcesFrom != "" {
		if err := copyResources(resourcesFrom, tmp); err != nil {
			return fmt.Errorf("install kernelspec: copy resources of %s: %w", resourcesFrom, err)
		}
	}
	if err := os.WriteFile(filepath.Join(tmp, SpecFile), append(data, '\n'), 0o644); err != nil {
		return fmt.Errorf("install kernelspec: %w", err)
	}
	if err := replaceDir(tmp, dest); err != nil {
		return fmt.Errorf("install kernelspec: %w", err)
	}
	return nil
}

// replaceDir renames src to dst. An existing dst is first moved aside and
// removed only once src is in place; if that rename fails it is restored.
func replaceDir(src, dst string) error {
	if _, err := os.Lstat(dst); errors.Is(err, fs.ErrNotExist) {
		return os.Rename(src, dst)
	}
	old, err := os.MkdirTemp(filepath.Dir(dst), "."+filepath.Base(dst)+".old-")
	if err != nil {
		return err
	}
	aside := filepath.Join(old, "spec")
	if err := os.Rename(dst, aside); err != nil {
		_ = os.Remove(old)
		return err
	}
	if err := os.Rename(src, dst); err != nil {
		if rerr := os.Rename(aside, dst); rerr != nil {
			return fmt.Errorf("%w (and restoring %s from %s: %v)", err, dst, aside, rerr)
		}
		_ = os.Remove(old)
		return err
	}
	return os.RemoveAll(old)
}

// copyResources copies the files under src (following symlinks to regular
// files, skipping anything else) to dst, except src/kernel.json.
func copyResources(src, dst string) error {
	return filepath.WalkDir(src, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, path)
		if err != nil {
			return err
		}
		if rel == "." || rel == SpecFile {
			return nil
		}
		target := filepath.Join(dst, rel)
		if d.IsDir() {
			return os.Mkdir(target, 0o755)
		}
		fi, err := os.Stat(path) // follows symlinks
		if err != nil || !fi.Mode().IsRegular() {
			return nil // dangling links, sockets and the like are not resources
		}
		return copyFile(path, target)
	})
}

func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

// Remove deletes the spec directory dir: it is renamed to a hidden name
// first, so a crash midway never leaves a half-removed spec that Jupyter
// would list.
func Remove(dir string) error {
	old, err := os.MkdirTemp(filepath.Dir(dir), "."+filepath.Base(dir)+".old-")
	if err != nil {
		return fmt.Errorf("remove kernelspec: %w", err)
	}
	if err := os.Rename(dir, filepath.Join(old, "spec")); err != nil {
		_ = os.Remove(old)
		return fmt.Errorf("remove kernelspec: %w", err)
	}
	if err := os.RemoveAll(old); err != nil {
		return fmt.Errorf("remove kernelspec: %w", err)
	}
	return nil
}
