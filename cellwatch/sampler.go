package cellwatch

import (
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Sampler reads the kernel's processes and the machine. The Watcher calls it
// from its own goroutine only. ProcSampler is the real one; tests fake it.
type Sampler interface {
	// Tree returns root and its live descendants, root first. A missing
	// root is ErrGone.
	Tree(root int) ([]int, error)
	// Proc reads one process, its open files only when files is set. A
	// vanished process is ErrGone.
	Proc(pid int, files bool) (ProcSample, error)
	// Cmdline returns the process's command line, NUL-separated.
	Cmdline(pid int) (string, error)
	// ResetPeak resets the process's peak RSS (VmHWM) to its current RSS.
	ResetPeak(pid int) error
	// Machine reads the machine facts; pid picks the cgroup, dir the
	// filesystem whose free space counts.
	Machine(pid int, dir string) (Machine, error)
	// ListenPorts returns the TCP ports the processes listen on, sorted.
	ListenPorts(pids []int) ([]int, error)
}

// ProcSample is one reading of one process.
type ProcSample struct {
	PID, PPID  int
	CPU        time.Duration // user+system, reaped children included
	RSS, HWM   uint64        // VmRSS, VmHWM in bytes
	Anon       uint64        // RssAnon + RssShmem: the part a fork inherits mapped
	IO         bool          // /proc/PID/io was readable
	RChar      uint64        // bytes passed to read calls (reaped children included)
	WChar      uint64
	ReadBytes  uint64 // bytes fetched from storage
	WriteBytes uint64
	Files      []string // regular files open, absolute paths
}

// ProcSampler reads /proc and /sys. The zero value reads the real ones.
// Its methods are safe for concurrent use.
type ProcSampler struct {
	// Root is the proc mount; "" means $HOST_PROC, else /proc.
	Root string
	// SysRoot is the sysfs mount; "" means $HOST_SYS, else /sys.
	SysRoot string

	mu      sync.Mutex
	parents map[int]int    // pid -> ppid, for the pids seen in /proc
	seen    map[int]uint64 // pid -> scan generation it was last listed in
	gen     uint64
	limits  cgroupCache
	ports   portsCache
}

func (s *ProcSampler) proc(parts ...string) string {
	root := s.Root
	if root == "" {
		if root = os.Getenv("HOST_PROC"); root == "" {
			root = "/proc"
		}
	}
	return filepath.Join(append([]string{root}, parts...)...)
}

func (s *ProcSampler) sys(parts ...string) string {
	root := s.SysRoot
	if root == "" {
		if root = os.Getenv("HOST_SYS"); root == "" {
			root = "/sys"
		}
	}
	return filepath.Join(append([]string{root}, parts...)...)
}

func gone(err error) error {
	if errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ESRCH) {
		return fmt.Errorf("%w: %w", ErrGone, err)
	}
	return err
}

// Tree finds the descendants from the parent links in /proc/N/stat. The
// links are cached: a scan lists /proc and reads the stat of new pids only,
// so sampling the tree often stays cheap. (A dead pid's children move to
// init and so leave the tree without a re-read.)
func (s *ProcSampler) Tree(root int) ([]int, error) {
	b, err := os.ReadFile(s.proc(strconv.Itoa(root), "stat"))
	if err != nil {
		return nil, gone(err)
	}
	d, err := os.Open(s.proc())
	if err != nil {
		return nil, fmt.Errorf("read proc: %w", err)
	}
	names, err := d.Readdirnames(-1)
	d.Close()
	if err != nil {
		return nil, fmt.Errorf("read proc: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.parents == nil {
		s.parents = map[int]int{}
	}
	if st, err := parseStat(b); err == nil {
		s.parents[root] = st.PPID
	}
	s.gen++
	if s.seen == nil {
		s.seen = map[int]uint64{}
	}
	for _, name := range names {
		pid, err := strconv.Atoi(name)
		if err != nil {
			continue
		}
		s.seen[pid] = s.gen
		if _, ok := s.parents[pid]; ok {
			continue
		}
		b, err := os.ReadFile(s.proc(name, "stat"))
		if err != nil {
			continue // gone meanwhile
		}
		if st, err := parseStat(b); err == nil {
			s.parents[pid] = st.PPID
		}
	}
	children := map[int][]int{}
	for pid, ppid := range s.parents {
		if s.seen[pid] != s.gen {
			delete(s.parents, pid)
			delete(s.seen, pid)
			continue
		}
		children[ppid] = append(children[ppid], pid)
	}
	tree := []int{root}
	for i := 0; i < len(tree); i++ {
		kids := children[tree[i]]
		slices.Sort(kids)
		for _, k := range kids {
			if k != root {
				tree = append(tree, k)
			}
		}
	}
	return tree, nil
}

// Proc reads stat, status, io and, with files, the fd table of one process.
func (s *ProcSampler) Proc(pid int, files bool) (ProcSample, error) {
	dir := strconv.Itoa(pid)
	b, err := os.ReadFile(s.proc(dir, "stat"))
	if err != nil {
		return ProcSample{}, gone(err)
	}
	st, err := parseStat(b)
	if err != nil {
		return ProcSample{}, fmt.Errorf("pid %d: %w", pid, err)
	}
	p := ProcSample{PID: pid, PPID: st.PPID, CPU: st.CPU}
	if b, err = os.ReadFile(s.proc(dir, "status")); err != nil {
		return ProcSample{}, gone(err)
	}
	p.RSS, p.HWM, p.Anon = parseStatus(b)
	if b, err = os.ReadFile(s.proc(dir, "io")); err == nil {
		if io, err := parseIO(b); err == nil {
			p.IO = true
			p.RChar, p.WChar, p.ReadBytes, p.WriteBytes = io.RChar, io.WChar, io.ReadBytes, io.WriteBytes
		}
	}
	if files {
		p.Files, _ = s.fds(pid, nil)
	}
	return p, nil
}

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

// ResetPeak writes 5 to /proc/PID/clear_refs (Linux >= 4.0, same user).
func (s *ProcSampler) ResetPeak(pid int) error {
	f, err := os.OpenFile(s.proc(strconv.Itoa(pid), "clear_refs"), os.O_WRONLY, 0)
	if err != nil {
		return fmt.Errorf("reset peak of %d: %w", pid, err)
	}
	_, err = f.WriteString("5")
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("reset peak of %d: %w", pid, err)
	}
	return nil
}

// ListenPorts matches the processes' socket inodes against the listening
// sockets in the network namespace of the first of them. The TCP tables
// are slow to read where there are many connections (~20 ms for 500), so
// while the processes hold the same sockets the last answer is reused, for
// at most portsTTL (a socket may start listening after it was created).
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
	if c.pid == pids[0] && now.Sub(c.at) < portsTTL && maps.Equal(c.inodes, inodes) {
		return slices.Clone(c.ports), nil
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
	s.ports = portsCache{pid: pids[0], at: now, inodes: inodes, ports: slices.Clone(ports)}
	s.mu.Unlock()
	return ports, nil
}

// portsTTL bounds how long ListenPorts reuses an answer.
const portsTTL = time.Minute

type portsCache struct {
	pid    int
	at     time.Time
	inodes map[uint64]bool
	ports  []int
}
