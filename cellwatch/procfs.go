package cellwatch

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// The pure /proc and cgroup parsers. They take file contents and return
// values, so tests feed them literals; the I/O lives in sampler.go and
// machine.go.

// clockTicks is USER_HZ, the unit of the times in /proc/PID/stat. It is 100
// on every Linux architecture Go supports.
const clockTicks = 100

// ErrGone says a process vanished while it was read: expected, not a failure.
var ErrGone = errors.New("process gone")

// procStat is what cellwatch needs from /proc/PID/stat.
type procStat struct {
	PPID int
	CPU  time.Duration // utime + stime + cutime + cstime
}

// parseStat parses /proc/PID/stat. The command name may hold spaces and
// parentheses, so fields are counted from the last ')'.
func parseStat(b []byte) (procStat, error) {
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return procStat{}, fmt.Errorf("parse stat: no ')'")
	}
	f := strings.Fields(string(b[i+1:]))
	// After ')': state(0) ppid(1) ... utime(11) stime(12) cutime(13) cstime(14).
	if len(f) < 15 {
		return procStat{}, fmt.Errorf("parse stat: %d fields", len(f))
	}
	ppid, err := strconv.Atoi(f[1])
	if err != nil {
		return procStat{}, fmt.Errorf("parse stat ppid: %w", err)
	}
	var ticks int64
	for _, s := range f[11:15] {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return procStat{}, fmt.Errorf("parse stat times: %w", err)
		}
		ticks += n
	}
	return procStat{PPID: ppid, CPU: time.Duration(ticks) * time.Second / clockTicks}, nil
}

// parseStatus returns VmRSS, VmHWM and RssAnon+RssShmem from
// /proc/PID/status, in bytes. Kernel threads and zombies have none; all
// are then zero.
func parseStatus(b []byte) (rss, hwm, anon uint64) {
	for line := range bytes.Lines(b) {
		switch {
		case bytes.HasPrefix(line, []byte("VmRSS:")):
			rss = kbField(line[len("VmRSS:"):])
		case bytes.HasPrefix(line, []byte("VmHWM:")):
			hwm = kbField(line[len("VmHWM:"):])
		case bytes.HasPrefix(line, []byte("RssAnon:")):
			anon += kbField(line[len("RssAnon:"):])
		case bytes.HasPrefix(line, []byte("RssShmem:")):
			anon += kbField(line[len("RssShmem:"):])
		}
	}
	return rss, hwm, anon
}

// kbField parses "   1234 kB" into bytes.
func kbField(b []byte) uint64 {
	f := bytes.Fields(b)
	if len(f) == 0 {
		return 0
	}
	n, err := strconv.ParseUint(string(f[0]), 10, 64)
	if err != nil {
		return 0
	}
	if len(f) > 1 && string(f[1]) == "kB" {
		n *= 1024
	}
	return n
}

// procIO is /proc/PID/io. Chars count every read/write call (page cache,
// pipes and sockets included); Bytes count what reached the block layer.
type procIO struct {
	RChar, WChar          uint64
	ReadBytes, WriteBytes uint64
}

// parseIO parses /proc/PID/io.
func parseIO(b []byte) (procIO, error) {
	var io procIO
	seen := 0
	for line := range bytes.Lines(b) {
		k, v, ok := bytes.Cut(line, []byte(":"))
		if !ok {
			continue
		}
		n, err := strconv.ParseUint(string(bytes.TrimSpace(v)), 10, 64)
		if err != nil {
			continue
		}
		switch string(k) {
		case "rchar":
			io.RChar = n
		case "wchar":
			io.WChar = n
		case "read_bytes":
			io.ReadBytes = n
		case "write_bytes":
			io.WriteBytes = n
		default:
			continue
		}
		seen++
	}
	if seen == 0 {
		return io, fmt.Errorf("parse io: no counters")
	}
	return io, nil
}

// parseSchedstat returns the run-queue wait of /proc/PID/schedstat
// ("on-cpu-ns wait-ns timeslices"): how long the process's main thread was
// ready to run while others had the cores.
func parseSchedstat(b []byte) (time.Duration, error) {
	f := bytes.Fields(b)
	if len(f) < 2 {
		return 0, fmt.Errorf("parse schedstat: %d fields", len(f))
	}
	n, err := strconv.ParseInt(string(f[1]), 10, 64)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("parse schedstat wait: %q", f[1])
	}
	return time.Duration(n), nil
}

// parseListening returns inode -> port for the listening sockets
// (state 0A) of /proc/net/tcp or tcp6.
func parseListening(b []byte, into map[uint64]int) {
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 0, 4096), 1<<20)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		// sl local rem st tx:rx tr:when retrnsmt uid timeout inode
		if len(f) < 10 || f[3] != "0A" {
			continue
		}
		_, portHex, ok := strings.Cut(f[1], ":")
		if !ok {
			continue
		}
		port, err := strconv.ParseUint(portHex, 16, 16)
		if err != nil {
			continue
		}
		inode, err := strconv.ParseUint(f[9], 10, 64)
		if err != nil || inode == 0 {
			continue
		}
		into[inode] = int(port)
	}
}

// socketInode returns the inode of an fd link "socket:[12345]".
func socketInode(link string) (uint64, bool) {
	s, ok := strings.CutPrefix(link, "socket:[")
	if !ok {
		return 0, false
	}
	s, ok = strings.CutSuffix(s, "]")
	if !ok {
		return 0, false
	}
	n, err := strconv.ParseUint(s, 10, 64)
	return n, err == nil
}

// cgroupPaths parses /proc/PID/cgroup and returns the cgroup v2 path
// ("0::/path") and the v1 memory and cpu controller paths when present.
func cgroupPaths(b []byte) (v2, memV1, cpuV1 string) {
	for line := range bytes.Lines(b) {
		parts := strings.SplitN(strings.TrimSpace(string(line)), ":", 3)
		if len(parts) != 3 {
			continue
		}
		if parts[0] == "0" && parts[1] == "" {
			v2 = parts[2]
			continue
		}
		for c := range strings.SplitSeq(parts[1], ",") {
			switch c {
			case "memory":
				memV1 = parts[2]
			case "cpu":
				cpuV1 = parts[2]
			}
		}
	}
	return v2, memV1, cpuV1
}

// noLimit is what a cgroup limit parser returns for "no limit".
const noLimit = ^uint64(0)

// parseMemoryMax parses cgroup v2 memory.max or v1 memory.limit_in_bytes:
// a number of bytes, or "max" for none. v1 writes "no limit" as a huge
// page-rounded number; anything at or above 2^62 counts as none.
func parseMemoryMax(b []byte) (uint64, error) {
	s := strings.TrimSpace(string(b))
	if s == "max" {
		return noLimit, nil
	}
	n, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("parse memory limit %q: %w", s, err)
	}
	if n >= 1<<62 {
		return noLimit, nil
	}
	return n, nil
}

// parseCPUMax parses cgroup v2 cpu.max ("quota period" or "max period")
// into a number of cores, rounded up; 0 means no quota.
func parseCPUMax(b []byte) (int, error) {
	f := strings.Fields(string(b))
	if len(f) == 0 || len(f) > 2 {
		return 0, fmt.Errorf("parse cpu.max %q", b)
	}
	if f[0] == "max" {
		return 0, nil
	}
	quota, err := strconv.ParseInt(f[0], 10, 64)
	if err != nil {
		return 0, fmt.Errorf("parse cpu.max quota: %w", err)
	}
	period := int64(100000)
	if len(f) == 2 {
		if period, err = strconv.ParseInt(f[1], 10, 64); err != nil || period <= 0 {
			return 0, fmt.Errorf("parse cpu.max period %q", f[1])
		}
	}
	return quotaCores(quota, period), nil
}

// quotaCores rounds quota/period up to whole cores; 0 for no quota.
func quotaCores(quota, period int64) int {
	if quota <= 0 || period <= 0 {
		return 0
	}
	return int((quota + period - 1) / period)
}
