package kernel

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// The wrapped kernel's connection file stays while it runs and, once the
// kernel has read it and written its ports back, describes the
// frontend-facing sockets (ports, transport, key): ipykernel's
// get_connection_file(), get_connection_info() and %connect_info read the
// file given with -f when they are called, so they describe cloudline, and a
// second client (`jupyter console --existing FILE`) connects through
// cloudline and is observed like the first. The file keeps the frontend
// file's `kernel-<id>.json` base name, which code parses for the kernel id.
// It becomes a symbolic link to the frontend's own file, so no copy of the
// key outlives the frontend's (a copy, 0600, only when that file is
// unknown). Its 0700 directory, named after our pid, is removed at exit;
// one left by a SIGKILLed kernel (jupyter_client's shutdown_kernel(now=True)
// kills the process group) holds that link only and is removed by the next
// kernel started with the same TMPDIR.

// privateDirPrefix names our private directories in TMPDIR:
// cloudline-<pid>-<random>.
const privateDirPrefix = "cloudline-"

// makePrivateDir makes a fresh 0700 directory in TMPDIR, after removing
// those of kernels that are gone.
func makePrivateDir() (string, error) {
	sweepStale(os.TempDir())
	dir, err := os.MkdirTemp("", privateDirPrefix+strconv.Itoa(os.Getpid())+"-")
	if err != nil {
		return "", fmt.Errorf("make private dir: %w", err)
	}
	if err := os.Chmod(dir, 0o700); err != nil {
		os.RemoveAll(dir)
		return "", fmt.Errorf("make private dir: %w", err)
	}
	return dir, nil
}

// sweepStale removes private directories in tmp whose kernel (the pid in
// the name) no longer exists and that belong to us.
func sweepStale(tmp string) {
	entries, err := os.ReadDir(tmp)
	if err != nil {
		return
	}
	for _, e := range entries {
		pid, ok := dirPID(e.Name())
		if !ok || !e.IsDir() || processExists(pid) {
			continue
		}
		path := filepath.Join(tmp, e.Name())
		if st, err := os.Lstat(path); err == nil && ownedByUs(st) {
			os.RemoveAll(path)
		}
	}
}

// dirPID returns the pid in a private directory's name.
func dirPID(name string) (int, bool) {
	rest, ok := strings.CutPrefix(name, privateDirPrefix)
	if !ok {
		return 0, false
	}
	num, _, ok := strings.Cut(rest, "-")
	if !ok {
		return 0, false
	}
	pid, err := strconv.Atoi(num)
	return pid, err == nil && pid > 0
}

func processExists(pid int) bool {
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}

func ownedByUs(st os.FileInfo) bool {
	sys, ok := st.Sys().(*syscall.Stat_t)
	return ok && int(sys.Uid) == os.Getuid() && st.Mode()&os.ModeSymlink == 0
}

// childFileName is the base name of the wrapped kernel's connection file:
// the frontend's, when it has the usual form.
func childFileName(frontendName string) string {
	base := filepath.Base(frontendName)
	if base == "." || base == "/" || base == "" || !strings.HasSuffix(base, ".json") {
		return "kernel.json"
	}
	return base
}

// publish makes the connection file describe the frontend's sockets: a
// link to frontendFile when that file exists, else a copy of c.frontend.
// It runs once, when the child's own writer is done with the file (see
// writerDone), else at the child's first message. The link or copy is made
// beside the file and renamed over it, so no reader sees half a file.
func (c *child) publish() {
	c.published.Do(func() {
		tmp := c.path + ".new"
		var err error
		if abs, aerr := filepath.Abs(c.frontendFile); c.frontendFile != "" && aerr == nil && isFile(abs) {
			err = os.Symlink(abs, tmp)
		} else {
			err = c.frontend.Write(tmp)
		}
		if err == nil {
			err = os.Rename(tmp, c.path)
		}
		if err != nil {
			os.Remove(tmp)
		}
	})
}

func isFile(path string) bool {
	st, err := os.Stat(path)
	return err == nil && st.Mode().IsRegular()
}
