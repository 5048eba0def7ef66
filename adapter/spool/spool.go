// Package spool keeps the MTOM attachments that are too large to hold in
// memory while their request is handled, as files in one directory
// (KJDD_SPOOL_DIR): the soap.Spool that the SOAP reader is given.
package spool

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"

	"kjdd/xds/soap"
)

// Dir spools into files in a directory; "" is the system's temporary
// directory.
type Dir string

var _ soap.Spool = Dir("")

// prefix names kjdd's spooled files, so that an operator can tell them.
const prefix = "kjdd-part-"

// Create makes a new file, readable and writable by kjdd only.
func (d Dir) Create() (io.WriteCloser, string, error) {
	f, err := os.CreateTemp(string(d), prefix+"*")
	if err != nil {
		return nil, "", err
	}
	return f, filepath.Base(f.Name()), nil
}

// Open opens a file Create made.
func (d Dir) Open(name string) (io.ReadCloser, error) {
	p, err := d.path(name)
	if err != nil {
		return nil, err
	}
	return os.Open(p)
}

// Remove deletes a file Create made; a file already gone is no error.
func (d Dir) Remove(name string) error {
	p, err := d.path(name)
	if err != nil {
		return err
	}
	if err := os.Remove(p); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	return nil
}

// path is the file of name, which must be one Create gave.
func (d Dir) path(name string) (string, error) {
	if !strings.HasPrefix(name, prefix) || name != filepath.Base(name) {
		return "", errors.New("spool: not a spooled file: " + name)
	}
	dir := string(d)
	if dir == "" {
		dir = os.TempDir()
	}
	return filepath.Join(dir, name), nil
}
