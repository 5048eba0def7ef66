// Package paths locates the repository and the shared conformance corpus
// from anywhere inside the module, so that tests never copy shared files.
package paths

import (
	"errors"
	"os"
	"path/filepath"
	"sync"
	"testing"
)

var (
	rootOnce sync.Once
	root     string
	rootErr  error
)

// RepoRoot returns the directory holding the module's go.mod, found by
// walking up from the working directory (a test runs in its package dir).
func RepoRoot() (string, error) {
	rootOnce.Do(func() {
		dir, err := os.Getwd()
		if err != nil {
			rootErr = err
			return
		}
		for {
			if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
				root = dir
				return
			}
			parent := filepath.Dir(dir)
			if parent == dir {
				rootErr = errors.New("no go.mod above the working directory")
				return
			}
			dir = parent
		}
	})
	return root, rootErr
}

// Shared returns the shared project directory (../shared beside the repo)
// joined with elem.
func Shared(elem ...string) (string, error) {
	r, err := RepoRoot()
	if err != nil {
		return "", err
	}
	return filepath.Join(append([]string{r, "..", "shared"}, elem...)...), nil
}

// Conformance returns the conformance corpus directory joined with elem.
func Conformance(elem ...string) (string, error) {
	return Shared(append([]string{"conformance"}, elem...)...)
}

// Repo returns the repository root joined with elem.
func Repo(elem ...string) (string, error) {
	r, err := RepoRoot()
	if err != nil {
		return "", err
	}
	return filepath.Join(append([]string{r}, elem...)...), nil
}

// Sample reads the file name of the conformance corpus
// (conformance/samples) and fails t when it cannot.
func Sample(t testing.TB, name string) []byte {
	t.Helper()
	p, err := Conformance("samples", name)
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
