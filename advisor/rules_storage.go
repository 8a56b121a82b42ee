package advisor

import (
	"fmt"
	"path/filepath"
	"sort"
	"strings"

	"github.com/cloudline/cloudline/cellwatch"
)

const (
	whyStorage = "Storage checkpoint: training on as much data as possible soon outgrows a laptop's disk and memory; data at this scale belongs in cloud storage and processing."

	// bigData is the least data or written bytes that the memory and disk
	// based judgements count (an explicit dataset_size has no floor), so a
	// nearly full disk does not turn every small read into advice.
	bigData = 64 << 20
	// topPaths is how many paths the details list.
	topPaths = 3
)

// dataUse is the data a cell works with: the larger of the distinct paths it
// names or opens and the bytes it read.
type dataUse struct {
	total uint64
	paths []cellwatch.FileUse // distinct, largest first
	read  uint64
	named uint64 // size of the distinct paths
}

func measureData(rec cellwatch.Record) dataUse {
	paths := distinctPaths(rec.CodePaths, rec.Files)
	var named uint64
	for _, p := range paths {
		named += uint64(max(p.Bytes, 0))
	}
	named = max(named, uint64(max(rec.CodeBytes, 0)))
	return dataUse{total: max(named, rec.ReadBytes), paths: paths, read: rec.ReadBytes, named: named}
}

// distinctPaths merges the lists, dropping repeats and paths inside another
// listed path (a directory named in the code and a file read from it),
// largest first. A directory is at least as big as a file listed in it: its
// size is the code scan's, which may predate the file's last write.
func distinctPaths(lists ...[]cellwatch.FileUse) []cellwatch.FileUse {
	size := map[string]int64{}
	for _, l := range lists {
		for _, f := range l {
			p := filepath.Clean(f.Path)
			size[p] = max(size[p], f.Bytes)
		}
	}
	outer := map[string]int64{}
	for p, b := range size {
		top := p
		for dir := filepath.Dir(p); ; dir = filepath.Dir(dir) {
			if _, ok := size[dir]; ok && dir != p {
				top = dir // the outermost listed directory holding p
			}
			if next := filepath.Dir(dir); next == dir {
				break
			}
		}
		outer[top] = max(outer[top], size[top], b)
	}
	var out []cellwatch.FileUse
	for p, b := range outer {
		out = append(out, cellwatch.FileUse{Path: p, Bytes: b})
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Bytes != out[j].Bytes {
			return out[i].Bytes > out[j].Bytes
		}
		return out[i].Path < out[j].Path
	})
	return out
}

var datasetSizeRule = rule{
	id:         RuleDatasetSize,
	checkpoint: CheckpointStorage,
	phases:     []Phase{CellStart, Live, CellEnd},
	why:        whyStorage,
	keys:       []string{"dataset_size", "memory_fraction"},
	service:    forStorage,
	todo: func(v vendor) string {
		return fmt.Sprintf("Keep the full dataset in %s and prepare it with %s; explore a sample locally.", v.Storage, v.Data)
	},
	detect: func(in Input) (finding, bool) {
		rec, m, cfg := in.Record, in.Record.Machine, in.Config
		u := measureData(rec)
		// Free disk is no measure of data already on this disk (and data
		// read from elsewhere does not land on it): the disk-space rule
		// judges what a cell writes.
		var over []string
		if cfg.DatasetSize > 0 && u.total > uint64(cfg.DatasetSize) {
			over = append(over, "the dataset_size limit of "+limitOf(cfg, "dataset_size", FormatBytes(uint64(cfg.DatasetSize))))
		}
		if u.total >= bigData && m.MemLimit > 0 && cfg.MemoryFraction > 0 {
			if line := cfg.MemoryFraction * float64(m.MemLimit); float64(u.total) > line {
				over = append(over, fmt.Sprintf("%s of the %s memory limit (%s)",
					FormatPercent(cfg.MemoryFraction), FormatBytes(m.MemLimit), FormatBytes(uint64(line))))
			}
		}
		if len(over) == 0 {
			return finding{}, false
		}
		var subjects []string
		for _, p := range u.paths {
			subjects = append(subjects, "path:"+p.Path)
		}
		return finding{
			title:    "This cell's data (" + FormatBytes(u.total) + ") is more than " + over[0],
			subjects: subjects,
			measured: func(s style) string {
				where := ""
				if len(u.paths) > 0 {
					where = " (" + s.code(u.paths[0].Path)
					if n := len(u.paths) - 1; n > 0 {
						where += fmt.Sprintf(" and %d more", n)
					}
					where += ")"
				}
				return fmt.Sprintf("%s works with %s of data%s, more than %s.",
					capital(s.cell(rec)), s.strong(FormatBytes(u.total)), where, strings.Join(over, " and "))
			},
			details: func(s style) []string {
				var lines []string
				for i, p := range u.paths {
					if i == topPaths {
						break
					}
					lines = append(lines, s.code(p.Path)+": "+FormatBytes(uint64(max(p.Bytes, 0))))
				}
				if u.read > 0 {
					lines = append(lines, "read by the kernel during the cell: "+FormatBytes(u.read))
				}
				return lines
			},
			evidence: map[string]any{
				"data_bytes": u.total, "named_bytes": u.named, "read_bytes": u.read, "paths": len(u.paths),
				"dataset_size_bytes": cfg.DatasetSize, "mem_limit_bytes": m.MemLimit,
				"memory_fraction": cfg.MemoryFraction, "disk_free_bytes": m.DiskFree,
			},
		}, true
	},
}

var diskSpaceRule = rule{
	id:         RuleDiskSpace,
	checkpoint: CheckpointStorage,
	phases:     []Phase{Live, CellEnd},
	why:        whyStorage,
	keys:       []string{"disk_free_fraction"},
	service:    forStorage,
	todo: func(v vendor) string {
		return fmt.Sprintf("Write datasets, features and checkpoints to %s instead of the local disk.", v.Storage)
	},
	detect: func(in Input) (finding, bool) {
		rec, m, cfg := in.Record, in.Record.Machine, in.Config
		if m.DiskTotal == 0 {
			return finding{}, false // disk facts unknown
		}
		// Low free disk is machine-wide: only a cell doing real data work
		// (big reads or writes, or a long run) hears about it.
		busy := rec.WriteBytes >= bigData || measureData(rec).total >= bigData ||
			(cfg.LiveAfter > 0 && elapsed(rec, in.Now) >= cfg.LiveAfter)
		low := busy && cfg.DiskFreeFraction > 0 && float64(m.DiskFree) < cfg.DiskFreeFraction*float64(m.DiskTotal)
		outgrown := rec.WriteBytes > 0 && rec.WriteBytes > m.DiskFree
		if !low && !outgrown {
			return finding{}, false
		}
		floor := ""
		if low {
			floor = ", under the " + limitOf(cfg, "disk_free_fraction", FormatPercent(cfg.DiskFreeFraction)) + " floor"
		}
		return finding{
			title:    "The disk is nearly full: " + FormatBytes(m.DiskFree) + " free of " + FormatBytes(m.DiskTotal) + floor,
			subjects: []string{"disk"},
			measured: func(s style) string {
				msg := fmt.Sprintf("The working directory's disk has %s free",
					s.strong(formatShare(m.DiskFree, m.DiskTotal)))
				msg += floor
				if rec.WriteBytes > 0 {
					msg += fmt.Sprintf("; %s wrote %s", s.cell(rec), FormatBytes(rec.WriteBytes))
					if outgrown {
						msg += ", more than what remains"
					}
				}
				return msg + "."
			},
			evidence: map[string]any{
				"disk_free_bytes": m.DiskFree, "disk_total_bytes": m.DiskTotal,
				"disk_free_fraction": cfg.DiskFreeFraction, "write_bytes": rec.WriteBytes,
			},
		}, true
	},
}
