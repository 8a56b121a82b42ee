package cellwatch

import (
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// ProcSampler's reads beyond the counters: open files and sockets (the fd
// tables), command lines, peak resets, listening ports.

// fds lists the regular-file paths among pid's open fds and, when sockets
// is not nil, adds its socket inodes to it.
func (s *ProcSampler) fds(pid int, sockets map[uint64]bool) ([]string, error) {
	fdDir := s.proc(strconv.Itoa(pid), "fd")
	ents, err := os.ReadDir(fdDir)
	if err != nil {
		return nil, gone(err)
	}
	var files []string
	for _, e := range ents {
		link, err := os.Readlink(filepath.Join(fdDir, e.Name()))
		if err != nil {
			continue
		}
		if ino, ok := socketInode(link); ok {
			if sockets != nil {
				sockets[ino] = true
			}
			continue
		}
		if dataFile(link) && !slices.Contains(files, link) {
			files = append(files, link)
		}
	}
	return files, nil
}

// dataFile reports whether an fd link names a file that may hold data: an
// absolute path outside the pseudo filesystems, not deleted.
func dataFile(link string) bool {
	if !strings.HasPrefix(link, "/") || strings.HasSuffix(link, " (deleted)") {
		return false
	}
	for _, p := range []string{"/dev/", "/proc/", "/sys/", "/run/"} {
		if strings.HasPrefix(link, p) {
			return false
		}
	}
	return true
}

// Cmdline reads /proc/PID/cmdline.
func (s *ProcSampler) Cmdline(pid int) (string, error) {
	b, err := os.ReadFile(s.proc(strconv.Itoa(pid), "cmdline"))
	if err != nil {
		return "", gone(err)
	}
	return string(b), nil
}

// ResetPeak writes 5 to /proc/PID/clear_refs (Linux >= 4.0, same user),
// kept open like the files Proc reads.
func (s *ProcSampler) ResetPeak(pid int) error {
	s.fmu.Lock()
	defer s.fmu.Unlock()
	if err := s.resetPeak(pid); err != nil {
		return fmt.Errorf("reset peak of %d: %w", pid, err)
	}
	return nil
}

// resetHWM, written to clear_refs, resets VmHWM.
var resetHWM = []byte("5")

// resetPeak writes clear_refs; fmu is held.
func (s *ProcSampler) resetPeak(pid int) error {
	pf, err := s.procFiles(pid)
	if err != nil {
		return err
	}
	if pf.clearRefs == nil {
		f, err := openProcFile(s.proc(strconv.Itoa(pid), "clear_refs"), os.O_WRONLY)
		if err != nil {
			return err
		}
		pf.clearRefs = f
	}
	for {
		// An ordinary system call: clear_refs takes the process's mmap
		// lock for writing, which can wait while the kernel maps memory.
		_, err := syscall.Pwrite(pf.clearRefs.fd, resetHWM, 0)
		if err == syscall.EINTR {
			continue
		}
		if err != nil {
			s.forget(pid)
			return gone(err)
		}
		return nil
	}
}

// ListenPorts matches the processes' socket inodes against the listening
// sockets in the network namespace of the first of them. The TCP tables
// are slow to read where there are many connections (~20 ms for 500), so
// while the processes hold the same sockets the last answer is reused, for
// at most portsTTL; but not an answer read within portsSettle of the
// sockets changing: a server creates its socket, then binds and listens
// (socketserver does so in its constructor), and an answer read in
// between would hide the listener until portsTTL has passed.
func (s *ProcSampler) ListenPorts(pids []int) ([]int, error) {
	if len(pids) == 0 {
		return nil, nil
	}
	inodes := map[uint64]bool{}
	for _, pid := range pids {
		_, _ = s.fds(pid, inodes)
	}
	if len(inodes) == 0 {
		return nil, nil
	}
	s.mu.Lock()
	c := s.ports
	s.mu.Unlock()
	now := time.Now()
	same := c.pid == pids[0] && maps.Equal(c.inodes, inodes)
	if same && now.Sub(c.at) < portsTTL && c.at.Sub(c.since) >= portsSettle {
		return slices.Clone(c.ports), nil
	}
	since := now
	if same {
		since = c.since
	}
	listening := map[uint64]int{}
	read := false
	for _, name := range []string{"tcp", "tcp6"} {
		b, err := os.ReadFile(s.proc(strconv.Itoa(pids[0]), "net", name))
		if err != nil {
			continue
		}
		read = true
		parseListening(b, listening)
	}
	if !read {
		return nil, fmt.Errorf("read net/tcp of %d: not readable", pids[0])
	}
	var ports []int
	for ino := range inodes {
		if port, ok := listening[ino]; ok && !slices.Contains(ports, port) {
			ports = append(ports, port)
		}
	}
	slices.Sort(ports)
	s.mu.Lock()
	s.ports = portsCache{pid: pids[0], at: now, since: since, inodes: inodes, ports: slices.Clone(ports)}
	s.mu.Unlock()
	return ports, nil
}

// portsTTL bounds how long ListenPorts reuses an answer; portsSettle is
// how long the sockets must have been the same before an answer is reused.
const (
	portsTTL    = time.Minute
	portsSettle = time.Second
)

type portsCache struct {
	pid    int
	at     time.Time
	since  time.Time // the sockets have been these since
	inodes map[uint64]bool
	ports  []int
}
