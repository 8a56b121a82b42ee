package cellwatch

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
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
	Wait       time.Duration // run-queue wait of the main thread (schedstat; 0 if unreadable)
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
// Its methods are safe for concurrent use. Proc keeps the files it reads
// open for the next sample of the same process, Tree closes those of the
// processes that left the tree it returns (so one sampler serves one tree
// best), and Close closes the rest.
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

	fmu  sync.Mutex // guards open and buf, held through a Proc's reads
	open map[int]*procFiles
	buf  []byte
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
	s.keepOnly(tree)
	return tree, nil
}

// Proc reads stat, status, io and, with files, the fd table of one process.
// The three files stay open between calls (see procFiles).
func (s *ProcSampler) Proc(pid int, files bool) (ProcSample, error) {
	s.fmu.Lock()
	p, err := s.readProc(pid)
	s.fmu.Unlock()
	if err != nil {
		return ProcSample{}, err
	}
	if files {
		p.Files, _ = s.fds(pid, nil)
	}
	return p, nil
}

// readProc reads stat, status, io and schedstat through the cached files;
// fmu is held.
func (s *ProcSampler) readProc(pid int) (ProcSample, error) {
	pf, err := s.procFiles(pid)
	if err != nil {
		return ProcSample{}, err
	}
	b, err := s.readAt(pf.stat)
	if err != nil {
		s.forget(pid)
		return ProcSample{}, gone(err)
	}
	st, err := parseStat(b)
	if err != nil {
		return ProcSample{}, fmt.Errorf("pid %d: %w", pid, err)
	}
	p := ProcSample{PID: pid, PPID: st.PPID, CPU: st.CPU}
	if b, err = s.readAt(pf.status); err != nil {
		s.forget(pid)
		return ProcSample{}, gone(err)
	}
	p.RSS, p.HWM, p.Anon = parseStatus(b)
	if pf.sched != nil {
		if b, err = s.readAt(pf.sched); err == nil {
			p.Wait, _ = parseSchedstat(b)
		}
	}
	if pf.io != nil {
		if b, err = s.readAt(pf.io); err == nil {
			if io, err := parseIO(b); err == nil {
				p.IO = true
				p.RChar, p.WChar, p.ReadBytes, p.WriteBytes = io.RChar, io.WChar, io.ReadBytes, io.WriteBytes
			}
		}
	}
	return p, nil
}

// procFiles are a process's stat, status, io and schedstat, kept open so that a
// sample costs four preads instead of four open+fstat+read+close (and its
// clear_refs, written by ResetPeak). procfs
// generates a file's text afresh on every read from offset 0. An open file
// stays bound to the process it was opened for: once that process is reaped
// its reads fail with ESRCH, even when a new process took the pid, so a
// failed read drops the files and the next call reopens them by pid.
type procFiles struct {
	stat, status *procFile
	io           *procFile // nil when unreadable (another user's process)
	sched        *procFile // schedstat; nil without CONFIG_SCHED_INFO
	clearRefs    *procFile // opened by the first ResetPeak
}

// procFile is one open procfs file and its descriptor, taken once (each
// os.File.Fd call is another fcntl system call).
type procFile struct {
	f  *os.File
	fd int
}

func openProcFile(path string, flag int) (*procFile, error) {
	f, err := os.OpenFile(path, flag, 0)
	if err != nil {
		return nil, err
	}
	return &procFile{f: f, fd: int(f.Fd())}, nil
}

// procFiles returns pid's open files, opening them on first use; fmu is held.
func (s *ProcSampler) procFiles(pid int) (*procFiles, error) {
	if pf := s.open[pid]; pf != nil {
		return pf, nil
	}
	dir := strconv.Itoa(pid)
	stat, err := openProcFile(s.proc(dir, "stat"), os.O_RDONLY)
	if err != nil {
		return nil, gone(err)
	}
	status, err := openProcFile(s.proc(dir, "status"), os.O_RDONLY)
	if err != nil {
		stat.f.Close()
		return nil, gone(err)
	}
	pf := &procFiles{stat: stat, status: status}
	if f, err := openProcFile(s.proc(dir, "io"), os.O_RDONLY); err == nil {
		pf.io = f
	}
	if f, err := openProcFile(s.proc(dir, "schedstat"), os.O_RDONLY); err == nil {
		pf.sched = f
	}
	if s.open == nil {
		s.open = map[int]*procFiles{}
	}
	s.open[pid] = pf
	return pf, nil
}

func (pf *procFiles) close() {
	for _, f := range []*procFile{pf.stat, pf.status, pf.io, pf.sched, pf.clearRefs} {
		if f != nil {
			f.f.Close()
		}
	}
}

// forget closes pid's files; fmu is held.
func (s *ProcSampler) forget(pid int) {
	if pf := s.open[pid]; pf != nil {
		pf.close()
		delete(s.open, pid)
	}
}

// keepOnly closes the files of the processes not in tree.
func (s *ProcSampler) keepOnly(tree []int) {
	s.fmu.Lock()
	defer s.fmu.Unlock()
	for pid := range s.open {
		if !slices.Contains(tree, pid) {
			s.forget(pid)
		}
	}
}

// errEmpty is a read of 0 bytes: procfs gives none for a process gone.
var errEmpty = fmt.Errorf("empty read: %w", ErrGone)

// readAt reads f whole from offset 0 into the reused buffer, in one pread
// when it fits (os.File.ReadAt would pread again to see EOF, and procfs
// would generate the text twice). The bytes are valid until the next call;
// fmu is held.
func (s *ProcSampler) readAt(f *procFile) ([]byte, error) {
	if len(s.buf) == 0 {
		s.buf = make([]byte, 4096)
	}
	for {
		n, err := preadProc(f.fd, s.buf)
		switch {
		case err == syscall.EINTR:
			continue
		case err != nil:
			return nil, fmt.Errorf("read %s: %w", f.f.Name(), err)
		case n == 0:
			return nil, fmt.Errorf("read %s: %w", f.f.Name(), errEmpty)
		case n == len(s.buf): // perhaps cut: read again with room to spare
			s.buf = make([]byte, 2*len(s.buf))
			continue
		}
		return s.buf[:n], nil
	}
}

// Close closes the files Proc keeps open. The sampler stays usable (it
// opens them again); Close is safe to call twice.
func (s *ProcSampler) Close() error {
	s.fmu.Lock()
	defer s.fmu.Unlock()
	for pid := range s.open {
		s.forget(pid)
	}
	return nil
}
