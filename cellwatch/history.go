package cellwatch

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/user"
	"path/filepath"
	"syscall"
)

// The history file: one JSON line per finished cell, appended by every
// cloudline kernel of the user. Each append of whole lines is one O_APPEND
// write, so lines from concurrent kernels never interleave; rotation renames the file to
// PATH.1 under an exclusive flock on PATH.lock.

// HistoryMaxBytes is the size at which the history file is rotated.
const HistoryMaxBytes = 10 << 20

// DefaultHistoryPath is $XDG_STATE_HOME/cloudline/history.jsonl, with
// ~/.local/state as the default state directory. Without $HOME (Enterprise
// Gateway starts kernels with only the variables it lets through) home is
// the user's from the password database, as Python's expanduser does.
func DefaultHistoryPath() string {
	dir := os.Getenv("XDG_STATE_HOME")
	if dir == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			home = os.TempDir()
			if u, uerr := user.Current(); uerr == nil && u.HomeDir != "" {
				home = u.HomeDir
			}
		}
		dir = filepath.Join(home, ".local", "state")
	}
	return filepath.Join(dir, "cloudline", "history.jsonl")
}

// historyLine renders a finished record as one JSON line. The code itself
// is never written (its field has no JSON name).
func historyLine(r Record) ([]byte, error) {
	b, err := json.Marshal(r)
	if err != nil {
		return nil, fmt.Errorf("encode history record: %w", err)
	}
	return append(b, '\n'), nil
}

// diskRecord is Record's JSON form, the history line: the field names of
// the files written so far (they must still read), durations in seconds.
type diskRecord struct {
	recordFields
	WallS float64 `json:"wall_s"`
	CPUS  float64 `json:"cpu_s"`
}

// recordFields is Record without its methods (no recursion).
type recordFields Record

// MarshalJSON writes the history form.
func (r Record) MarshalJSON() ([]byte, error) {
	return json.Marshal(diskRecord{recordFields: recordFields(r), WallS: r.Wall.Seconds(), CPUS: r.CPU.Seconds()})
}

// UnmarshalJSON reads the history form.
func (r *Record) UnmarshalJSON(b []byte) error {
	var d diskRecord
	if err := json.Unmarshal(b, &d); err != nil {
		return err
	}
	*r = Record(d.recordFields)
	r.Wall, r.CPU = secs(d.WallS), secs(d.CPUS)
	return nil
}

// diskProgress is Progress's JSON form.
type diskProgress struct {
	progressFields
	ProjectedS float64 `json:"projected_s"`
}

type progressFields Progress

// MarshalJSON writes the history form.
func (p Progress) MarshalJSON() ([]byte, error) {
	return json.Marshal(diskProgress{progressFields: progressFields(p), ProjectedS: p.Projected.Seconds()})
}

// UnmarshalJSON reads the history form.
func (p *Progress) UnmarshalJSON(b []byte) error {
	var d diskProgress
	if err := json.Unmarshal(b, &d); err != nil {
		return err
	}
	*p = Progress(d.progressFields)
	p.Projected = secs(d.ProjectedS)
	return nil
}

// AppendHistory appends one record to the history file at path, creating
// it (0600, directory 0700) and rotating it past maxBytes (<= 0: the
// default).
func AppendHistory(path string, r Record, maxBytes int64) error {
	line, err := historyLine(r)
	if err != nil {
		return err
	}
	return appendLines(path, [][]byte{line}, maxBytes, nil)
}

// appendLines appends lines, in order, as AppendHistory appends one: a line
// that would take the file past maxBytes rotates it first. The lines
// between rotations (usually all of them) go in one open and one write.
// The size checked is the file's at the start plus what was written since.
func appendLines(path string, lines [][]byte, maxBytes int64, out *historyOut) error {
	if maxBytes <= 0 {
		maxBytes = HistoryMaxBytes
	}
	st, err := os.Stat(path)
	if err != nil {
		if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
			return fmt.Errorf("history dir: %w", err)
		}
	}
	size := fileSize(st)
	var pending []byte
	for _, line := range lines {
		if size+int64(len(pending)+len(line)) > maxBytes {
			if err := out.append(path, st, pending); err != nil {
				return err
			}
			pending = pending[:0]
			if err := rotate(path, maxBytes-int64(len(line))); err != nil {
				return err
			}
			st, _ = os.Stat(path)
			size = fileSize(st)
		}
		pending = append(pending, line...)
	}
	return out.append(path, st, pending)
}

// fileSize is the size st describes, 0 for a missing file.
func fileSize(st os.FileInfo) int64 {
	if st == nil {
		return 0
	}
	return st.Size()
}

// historyOut keeps the history file open between one writer's appends. The
// stat each append makes for its size check tells whether path is still
// the file held (another kernel may have rotated or removed it); if not, it
// is opened again. A nil *historyOut opens and closes the file each time.
type historyOut struct {
	f  *os.File
	fi os.FileInfo // of f, when opened
}

// append appends b to path with one O_APPEND write, so that lines from
// concurrent kernels never interleave; st is path's stat, nil if missing.
// The write starts on a fresh line: a line torn by a full disk or a
// truncation has no newline, and the record written after it would be
// glued to it and lost with it.
func (o *historyOut) append(path string, st os.FileInfo, b []byte) error {
	if len(b) == 0 {
		return nil
	}
	f := (*os.File)(nil)
	if o != nil && o.f != nil && st != nil && os.SameFile(o.fi, st) {
		f = o.f
	} else {
		o.close()
		var err error
		if f, err = openHistory(path, os.O_RDWR|os.O_APPEND|os.O_CREATE); err != nil {
			return err
		}
		if o != nil {
			if fi, err := f.Stat(); err == nil {
				o.f, o.fi = f, fi
			}
		}
	}
	if !endsLine(f) {
		b = append([]byte{'\n'}, b...)
	}
	_, err := f.Write(b)
	if o == nil || o.f != f {
		if cerr := f.Close(); err == nil {
			err = cerr
		}
	}
	if err != nil {
		o.close()
		return fmt.Errorf("append history: %w", err)
	}
	return nil
}

// errNotRegular: the history path names a FIFO, a device or a directory.
var errNotRegular = errors.New("not a regular file")

// openHistory opens the history file without blocking on a FIFO (whose
// open would wait for a peer forever) and refuses anything but a regular
// file.
func openHistory(path string, flag int) (*os.File, error) {
	f, err := os.OpenFile(path, flag|syscall.O_NONBLOCK, 0o600)
	if err != nil {
		return nil, fmt.Errorf("open history: %w", err)
	}
	if fi, err := f.Stat(); err != nil || !fi.Mode().IsRegular() {
		f.Close()
		if err == nil {
			err = errNotRegular
		}
		return nil, fmt.Errorf("open history %s: %w", filepath.Base(path), err)
	}
	return f, nil
}

// endsLine reports whether f is empty or ends with a newline.
func endsLine(f *os.File) bool {
	fi, err := f.Stat()
	if err != nil || fi.Size() == 0 {
		return true
	}
	var last [1]byte
	if _, err := f.ReadAt(last[:], fi.Size()-1); err != nil {
		return true // write-only: cannot tell, assume whole
	}
	return last[0] == '\n'
}

func (o *historyOut) close() {
	if o != nil && o.f != nil {
		o.f.Close()
		o.f, o.fi = nil, nil
	}
}

// rotate renames path to path.1 unless another kernel did it meanwhile
// (checked again under the lock). Appenders that opened the old file just
// before finish their line there: it stays whole, in path.1.
func rotate(path string, limit int64) error {
	lf, err := os.OpenFile(path+".lock", os.O_WRONLY|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("history lock: %w", err)
	}
	defer lf.Close()
	if err := syscall.Flock(int(lf.Fd()), syscall.LOCK_EX); err != nil {
		return fmt.Errorf("history lock: %w", err)
	}
	defer syscall.Flock(int(lf.Fd()), syscall.LOCK_UN) //nolint:errcheck // closing unlocks too
	info, err := os.Stat(path)
	if err != nil || info.Size() <= limit {
		return nil
	}
	if err := os.Rename(path, path+".1"); err != nil {
		return fmt.Errorf("rotate history: %w", err)
	}
	return nil
}

// writeHistory appends finished records until ch is closed. Each record
// received is written with every record already queued behind it, in one
// append: a run all's records cost one write, not one each; the file stays
// open between appends.
// Nothing waits for more, so at close everything received is written.
func (w *Watcher) writeHistory(path string, ch <-chan Record, log *slog.Logger) {
	var out historyOut
	defer out.close()
	var lines [][]byte
	add := func(r Record) {
		line, err := historyLine(r)
		if err != nil {
			log.Warn("cellwatch: history", "err", err)
			return
		}
		lines = append(lines, line)
	}
	for r := range ch {
		lines = lines[:0]
		add(r)
	queued:
		for {
			select {
			case r, ok := <-ch:
				if !ok {
					break queued
				}
				add(r)
			default:
				break queued
			}
		}
		if len(lines) == 0 {
			continue
		}
		if err := appendLines(path, lines, w.HistoryMaxBytes, &out); err != nil {
			log.Warn("cellwatch: history", "err", err)
		}
	}
}
