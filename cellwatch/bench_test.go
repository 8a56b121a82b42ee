package cellwatch

// Benchmarks of the per-cell measurement on the real /proc, with this test
// process standing in for the kernel:
//
//	go test -run '^$' -bench . -benchmem ./cellwatch/
//
// BenchmarkCell is the whole cost cellwatch adds to one trivial cell; the
// others split it by Sampler method. Their cost depends on the machine (how
// many processes /proc lists, how big the TCP tables are), so compare
// numbers from one machine only.

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/cloudline/cloudline/kernel"
)

// benchListener holds a listening socket open, as a kernel has its own.
func benchListener(b *testing.B) {
	b.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { ln.Close() })
}

func BenchmarkProcSampler(b *testing.B) {
	pid := os.Getpid()
	benchListener(b)
	cases := []struct {
		name string
		fn   func(s *ProcSampler) error
	}{
		{"Tree", func(s *ProcSampler) error { _, err := s.Tree(pid); return err }},
		{"TreeCold", func(_ *ProcSampler) error { _, err := (&ProcSampler{}).Tree(pid); return err }},
		{"Proc", func(s *ProcSampler) error { _, err := s.Proc(pid, false); return err }},
		{"ProcFiles", func(s *ProcSampler) error { _, err := s.Proc(pid, true); return err }},
		{"Machine", func(s *ProcSampler) error { _, err := s.Machine(pid, "."); return err }},
		{"ListenPorts", func(s *ProcSampler) error {
			ports, err := s.ListenPorts([]int{pid})
			if err == nil && len(ports) == 0 {
				err = errors.New("our own listener not found")
			}
			return err
		}},
	}
	for _, tc := range cases {
		b.Run(tc.name, func(b *testing.B) {
			s := &ProcSampler{}
			if err := tc.fn(s); err != nil { // warm the tree cache
				b.Fatal(err)
			}
			b.ReportAllocs()
			for b.Loop() {
				if err := tc.fn(s); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

type benchNoGPU struct{}

func (benchNoGPU) ReadGPU(context.Context) (*GPU, error) { return nil, errors.New("no GPU") }

// benchCell is the messages of one trivial cell, in the order the proxy
// observes them.
func benchCell(i int) []*kernel.Message {
	id := fmt.Sprintf("cell-%d", i)
	iopub := func(typ, content string) *kernel.Message {
		return &kernel.Message{Channel: kernel.IOPub, Direction: kernel.FromKernel,
			MsgID: id + "-" + typ, MsgType: typ, ParentMsgID: id, ParentMsgType: "execute_request",
			Content: []byte(content)}
	}
	return []*kernel.Message{
		{Channel: kernel.Shell, Direction: kernel.FromFrontend, MsgID: id, MsgType: "execute_request",
			Metadata: []byte(`{}`), Content: []byte(`{"code":"pass","silent":false}`)},
		iopub("status", `{"execution_state":"busy"}`),
		iopub("execute_input", `{"code":"pass","execution_count":1}`),
		{Channel: kernel.Shell, Direction: kernel.FromKernel, MsgID: id + "-reply", MsgType: "execute_reply",
			ParentMsgID: id, ParentMsgType: "execute_request", Content: []byte(`{"status":"ok"}`)},
		iopub("status", `{"execution_state":"idle"}`),
	}
}

// BenchmarkCell runs trivial cells through a Watcher measuring this
// process: ns/op is what one cell costs the watcher goroutine (start
// baseline, end sample, ports check), waited for with Sync.
func BenchmarkCell(b *testing.B) {
	benchListener(b)
	ends := 0
	w := &Watcher{
		PID: os.Getpid(), Dir: ".", History: "off", BusyDir: "off", PortsEvery: -1,
		GPU: benchNoGPU{},
		Handlers: []Handler{func(e Event) {
			if e.Kind == CellEnd {
				ends++
			}
		}},
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- w.Run(ctx) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			b.Error(err)
		}
	}()
	cells := make([][]*kernel.Message, b.N)
	for i := range cells {
		cells[i] = benchCell(i)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for _, msgs := range cells {
		for _, m := range msgs {
			m.Time = time.Now()
			w.Observe(m)
		}
		if !w.Sync(10 * time.Second) {
			b.Fatal("watcher did not catch up")
		}
	}
	b.StopTimer()
	if ends != b.N {
		b.Fatalf("%d cells ended, want %d", ends, b.N)
	}
}

// BenchmarkCellOutput is the watcher's handling of a cell's outputs, with
// no process measured (PID 0): the time until Sync returns, which is how
// long the proxy holds a longer cell's idle waiting for the watcher.
func BenchmarkCellOutput(b *testing.B) {
	lines := func(from, n int) string {
		var sb strings.Builder
		for i := range n {
			fmt.Fprintf(&sb, "%d\\n", from+i) // JSON-escaped newline
		}
		return sb.String()
	}
	stream := func(text string) string { return `{"name":"stdout","text":"` + text + `"}` }
	cases := []struct {
		name    string
		outputs []string // stream contents
	}{
		{"one-20MB-stream", []string{stream(strings.Repeat("000000000\\n", 2_000_000))}},
		{"1000-streams-of-200-lines", func() []string {
			out := make([]string, 1000)
			for i := range out {
				out[i] = stream(lines(200*i, 200))
			}
			return out
		}()},
	}
	for _, tc := range cases {
		b.Run(tc.name, func(b *testing.B) {
			w := &Watcher{History: "off", BusyDir: "off", PortsEvery: -1, GPU: benchNoGPU{}, QueueSize: 1 << 20}
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			go w.Run(ctx)
			b.ReportAllocs()
			for i := 0; b.Loop(); i++ {
				msgs := benchCell(i)
				for _, m := range msgs[:3] {
					w.Observe(m)
				}
				for _, c := range tc.outputs {
					m := *msgs[1]
					m.MsgType, m.Content = "stream", []byte(c)
					w.Observe(&m)
				}
				for _, m := range msgs[3:] {
					w.Observe(m)
				}
				if !w.Sync(time.Minute) {
					b.Fatal("watcher did not catch up")
				}
			}
		})
	}
}

// BenchmarkListenPortsNetlink measures a proposed replacement of the
// /proc/PID/net/tcp{,6} reads in ListenPorts: one NETLINK_SOCK_DIAG dump
// per address family asking for listening TCP sockets only. Reading
// /proc/net/tcp walks the kernel's whole established-connection hash table
// (sized by RAM, not by the sockets present); the listen-only dump walks
// the listening hash. It yields the same inode -> port map.
func BenchmarkListenPortsNetlink(b *testing.B) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	defer ln.Close()
	port := ln.Addr().(*net.TCPAddr).Port
	b.ReportAllocs()
	for b.Loop() {
		found := false
		for _, family := range []uint8{syscall.AF_INET, syscall.AF_INET6} {
			m, err := benchListeningNetlink(family)
			if err != nil {
				b.Skipf("sock_diag unavailable: %v", err)
			}
			for _, p := range m {
				found = found || p == port
			}
		}
		if !found {
			b.Fatalf("our listener on port %d not reported", port)
		}
	}
}

// benchListeningNetlink returns inode -> port of the listening TCP sockets
// of family in this network namespace (inet_diag_req_v2 with
// states = 1<<TCP_LISTEN; replies are inet_diag_msg).
func benchListeningNetlink(family uint8) (map[uint64]int, error) {
	fd, err := syscall.Socket(syscall.AF_NETLINK, syscall.SOCK_DGRAM|syscall.SOCK_CLOEXEC, 4) // NETLINK_SOCK_DIAG
	if err != nil {
		return nil, err
	}
	defer syscall.Close(fd)
	req := make([]byte, 16+56) // nlmsghdr + inet_diag_req_v2
	binary.NativeEndian.PutUint32(req[0:], uint32(len(req)))
	binary.NativeEndian.PutUint16(req[4:], 20) // SOCK_DIAG_BY_FAMILY
	binary.NativeEndian.PutUint16(req[6:], syscall.NLM_F_REQUEST|syscall.NLM_F_DUMP)
	req[16], req[17] = family, syscall.IPPROTO_TCP
	binary.NativeEndian.PutUint32(req[20:], 1<<10) // TCP_LISTEN
	if err := syscall.Sendto(fd, req, 0, &syscall.SockaddrNetlink{Family: syscall.AF_NETLINK}); err != nil {
		return nil, err
	}
	out := map[uint64]int{}
	buf := make([]byte, 32<<10)
	for {
		n, _, err := syscall.Recvfrom(fd, buf, 0)
		if err != nil {
			return nil, err
		}
		msgs, err := syscall.ParseNetlinkMessage(buf[:n])
		if err != nil {
			return nil, err
		}
		for _, m := range msgs {
			switch m.Header.Type {
			case syscall.NLMSG_DONE:
				return out, nil
			case syscall.NLMSG_ERROR:
				return nil, errors.New("sock_diag: netlink error")
			}
			if len(m.Data) < 72 {
				continue
			}
			// inet_diag_msg: family state timer retrans, id{sport(be16) dport
			// src[16] dst[16] if cookie[2]}, expires rqueue wqueue uid inode.
			out[uint64(binary.NativeEndian.Uint32(m.Data[68:]))] = int(binary.BigEndian.Uint16(m.Data[4:]))
		}
	}
}
