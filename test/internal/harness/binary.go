package harness

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"kjdd/test/testkit/paths"
)

var (
	binOnce sync.Once
	binDir  string
	binPath string
	binErr  error
)

// Run is the body of a TestMain for packages that start kjdd: it runs the
// tests and then removes the binary built for them.
//
//	func TestMain(m *testing.M) { os.Exit(harness.Run(m)) }
func Run(m *testing.M) int {
	code := m.Run()
	if binDir != "" {
		_ = os.RemoveAll(binDir)
	}
	return code
}

// BinaryEnv names an environment variable that, when set, points at a
// prebuilt kjdd binary to test instead of building one (CI builds once for
// all test packages).
const BinaryEnv = "KJDD_TEST_BINARY"

// Binary returns the path of a kjdd binary built from this working tree,
// building it on first use; later calls in the same process reuse it.
func Binary() (string, error) {
	if p := os.Getenv(BinaryEnv); p != "" {
		return p, nil
	}
	binOnce.Do(func() {
		binDir, binErr = os.MkdirTemp("", "kjdd-bin-")
		if binErr != nil {
			return
		}
		// Poisoned: a use of a message's tree after Close fails loudly
		// in every end-to-end test (xds/poison.go).
		binPath, binErr = Build(binDir, "kjdd_poison")
	})
	return binPath, binErr
}

// Build compiles ./cmd/kjdd into dir with the build tags given and returns
// the binary's path.
func Build(dir string, tags ...string) (string, error) {
	root, err := paths.RepoRoot()
	if err != nil {
		return "", err
	}
	out := filepath.Join(dir, "kjdd")
	cmd := exec.Command("go", "build", "-tags", strings.Join(tags, ","), "-o", out, "./cmd/kjdd")
	cmd.Dir = root
	if b, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build ./cmd/kjdd: %w\n%s", err, b)
	}
	return out, nil
}
