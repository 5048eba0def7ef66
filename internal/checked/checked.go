// Package checked tells whether this is a checked build: a test binary, a
// build with the race detector, or one with the kjdd_poison tag (the binary
// the end-to-end tests run, test/internal/harness). Checked builds verify
// at run time the ownership rules that ordinary builds rely on without
// checking: pooled memory is poisoned when released instead of reused
// (xds), and shared cached objects are compared with what they were when
// cached each time they are handed out (adapter/store, xds' fragments).
//
// A test binary that runs benchmarks (-test.bench) is not checked: the
// checks cost more than what benchmarks measure, and benchmarks must
// measure what production runs.
package checked

import (
	"flag"
	"sync"
	"testing"
)

// Build reports a checked build. It is decided on first use, after the test
// flags were parsed.
func Build() bool {
	once.Do(func() {
		build = raceEnabled || poisonTag || testing.Testing() && !benchmarking()
	})
	return build
}

var (
	once  sync.Once
	build bool
)

// benchmarking reports a test binary asked to run benchmarks.
func benchmarking() bool {
	f := flag.Lookup("test.bench")
	return f != nil && f.Value.String() != ""
}
