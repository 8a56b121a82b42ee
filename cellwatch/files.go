package cellwatch

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
)

// The files of a cell: paths its code names (CodePaths, scanned at its
// start) and data files the kernel opened (Files, from the fd tables). One
// file is one entry, whatever paths name it: a file named relatively in
// the code and seen open by its absolute path, or through a link, is
// matched by device and inode and counted once, in CodePaths. Sizes are
// taken again at every listing and at the cell's end, so a file the cell
// was still writing when first seen is not frozen at that size.

// maxFiles bounds the files listed per cell.
const maxFiles = 256

// fileID identifies a file whatever path names it.
type fileID struct{ dev, ino uint64 }

// statFile returns a regular file's identity and size.
func statFile(path string) (fileID, int64, bool) {
	info, err := os.Stat(path)
	if err != nil || !info.Mode().IsRegular() {
		return fileID{}, 0, false
	}
	st, ok := info.Sys().(*syscall.Stat_t)
	if !ok {
		return fileID{}, info.Size(), true
	}
	return fileID{dev: uint64(st.Dev), ino: st.Ino}, info.Size(), true
}

// cellFiles indexes a cell's files by identity.
type cellFiles struct {
	code  map[fileID]int // single-file code paths -> index in CodePaths
	files map[fileID]int // -> index in Files
}

// resolvePath is where a path literal of the code points, seen from dir
// (as ScanCode resolves it).
func resolvePath(lit, dir string) string {
	if rest, ok := strings.CutPrefix(lit, "~/"); ok {
		if home, err := os.UserHomeDir(); err == nil {
			return filepath.Join(home, rest)
		}
	}
	if !filepath.IsAbs(lit) {
		return filepath.Join(dir, lit)
	}
	return filepath.Clean(lit)
}

// identifyCode indexes the code paths that name one regular file (a
// directory or a glob keeps the size its scan found).
func (c *cell) identifyCode(dir string) {
	c.ids.code = map[fileID]int{}
	for i, p := range c.rec.CodePaths {
		if strings.ContainsAny(p.Path, "*?[") {
			continue
		}
		if id, size, ok := statFile(resolvePath(p.Path, dir)); ok && id != (fileID{}) {
			c.ids.code[id] = i
			c.setCodeSize(i, size)
		}
	}
	for id, i := range c.ids.files { // opened before the scan ended
		if _, ok := c.ids.code[id]; ok {
			c.dropFile(i)
		}
	}
}

// setCodeSize sets a single-file code path's size, CodeBytes with it.
func (c *cell) setCodeSize(i int, size int64) {
	c.rec.CodeBytes += size - c.rec.CodePaths[i].Bytes
	c.rec.CodePaths[i].Bytes = size
}

// noteFile lists a data file the kernel has open, once, with its size now.
func (c *cell) noteFile(path string) {
	if c.base.files[path] || c.base.seen[path] {
		return
	}
	c.base.seen[path] = true
	id, size, ok := statFile(path)
	if !ok {
		return
	}
	if i, named := c.ids.code[id]; named {
		c.setCodeSize(i, size)
		return
	}
	if _, listed := c.ids.files[id]; listed || len(c.rec.Files) >= maxFiles {
		return
	}
	if c.ids.files == nil {
		c.ids.files = map[fileID]int{}
	}
	c.ids.files[id] = len(c.rec.Files)
	c.rec.Files = append(c.rec.Files, FileUse{Path: path, Bytes: size})
}

// dropFile removes Files[i], keeping the index right.
func (c *cell) dropFile(i int) {
	c.rec.Files = append(c.rec.Files[:i], c.rec.Files[i+1:]...)
	for id, j := range c.ids.files {
		switch {
		case j == i:
			delete(c.ids.files, id)
		case j > i:
			c.ids.files[id] = j - 1
		}
	}
}

// resize takes the sizes of the cell's files again.
func (c *cell) resize(dir string) {
	for i := range c.rec.Files {
		if _, size, ok := statFile(c.rec.Files[i].Path); ok {
			c.rec.Files[i].Bytes = size
		}
	}
	for _, i := range c.ids.code {
		if _, size, ok := statFile(resolvePath(c.rec.CodePaths[i].Path, dir)); ok {
			c.setCodeSize(i, size)
		}
	}
}
