package cellwatch

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// Reading the history back: `cloudline history`, `cloudline report`, and a
// kernel's start (the stable-model rule looks at a notebook's past runs).

// tailBytes bounds what ReadRecentHistory reads of each file: a kernel's
// start does not read a history that grew past rotation (an old version,
// or a file shared by many kernels) whole. 4 MiB holds about 4,800
// records of ~860 bytes. (A variable so tests use less.)
var tailBytes int64 = 4 << 20

// recordStart is how every history line begins: a line torn by a full
// disk and glued to the next record by an older writer (one that did not
// start each append on a fresh line) is read from the glued record on.
var recordStart = []byte(`{"session":`)

// ReadHistory returns the records in the history file (the rotated part
// first), oldest first, keeping those of notebook ("" = all) and the last
// `last` of them (<= 0 = all); only those are held in memory, however long
// the file. A torn fragment (a kernel killed mid-write, a full disk) is
// skipped, never the record after it. A missing file is no error; a path
// that is not a regular file (a FIFO) is, without blocking.
func ReadHistory(path, notebook string, last int) ([]Record, error) {
	return readHistory(path, notebook, last, false)
}

// ReadRecentHistory is ReadHistory reading only the last tailBytes of each
// file: the records it returns are the last of those.
func ReadRecentHistory(path, notebook string, last int) ([]Record, error) {
	return readHistory(path, notebook, last, true)
}

func readHistory(path, notebook string, last int, tail bool) ([]Record, error) {
	keep := records{last: last}
	for _, p := range []string{path + ".1", path} {
		f, err := openHistory(p, os.O_RDONLY)
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("read history: %w", err)
		}
		err = readLines(f, notebook, tail, &keep)
		f.Close()
		if err != nil {
			return nil, fmt.Errorf("read history %s: %w", filepath.Base(p), err)
		}
	}
	return keep.list(), nil
}

// records keeps the last `last` records added (all when last <= 0), in a
// ring, so reading a long history holds only what is returned.
type records struct {
	last int
	ring []Record
	next int // with a full ring: the oldest
}

func (k *records) add(r Record) {
	if k.last <= 0 || len(k.ring) < k.last {
		k.ring = append(k.ring, r)
		return
	}
	k.ring[k.next] = r
	k.next = (k.next + 1) % k.last
}

func (k *records) list() []Record {
	return append(k.ring[k.next:], k.ring[:k.next]...)
}

// readLines adds f's records of notebook to keep; tail reads only the
// last tailBytes (from the first line start in them).
func readLines(f *os.File, notebook string, tail bool, keep *records) error {
	var r io.Reader = f
	skipFirst := false
	if fi, err := f.Stat(); err == nil && tail && fi.Size() > tailBytes {
		r = io.NewSectionReader(f, fi.Size()-tailBytes, tailBytes)
		skipFirst = true // starts mid-line
	}
	br := bufio.NewReader(r)
	for {
		line, err := br.ReadBytes('\n')
		if skipFirst {
			skipFirst = false
			line = nil
		}
		if rec, ok := parseLine(line); ok && (notebook == "" || rec.Notebook == notebook) {
			keep.add(rec)
		}
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

// parseLine reads one history line; a torn record glued before a whole
// one is dropped, the whole one kept.
func parseLine(line []byte) (Record, bool) {
	line = bytes.TrimSpace(line)
	if len(line) == 0 {
		return Record{}, false
	}
	var rec Record
	if json.Unmarshal(line, &rec) == nil {
		return rec, true
	}
	if i := bytes.LastIndex(line, recordStart); i > 0 && json.Unmarshal(line[i:], &rec) == nil {
		return rec, true
	}
	return Record{}, false
}
