package cellwatch

// What the per-process readings would cost through gopsutil, beside ours
// (BenchmarkProcSampler/Proc, /Tree): the reason they stay our own code.
//
//	go test -run '^$' -bench 'ProcSampler|Gopsutil' -benchmem ./cellwatch/

import (
	"os"
	"testing"

	"github.com/shirou/gopsutil/v4/process"
)

func BenchmarkGopsutil(b *testing.B) {
	pid := int32(os.Getpid())
	b.Run("Proc", func(b *testing.B) {
		// One process's CPU, RSS and peak, and I/O counters: what Proc reads.
		p, err := process.NewProcess(pid)
		if err != nil {
			b.Fatal(err)
		}
		b.ReportAllocs()
		for b.Loop() {
			if _, err := p.Times(); err != nil {
				b.Fatal(err)
			}
			if _, err := p.MemoryInfoEx(); err != nil {
				b.Fatal(err)
			}
			if _, err := p.IOCounters(); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("Tree", func(b *testing.B) {
		// The descendants of pid: every process's parent, as Tree finds them.
		b.ReportAllocs()
		for b.Loop() {
			procs, err := process.Processes()
			if err != nil {
				b.Fatal(err)
			}
			for _, p := range procs {
				_, _ = p.Ppid()
			}
		}
	})
}
