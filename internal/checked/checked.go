// Package checked tells whether this is a checked build: a test binary, a
// build with the race detector, or one with the kjdd_poison tag (the binary
// the end-to-end tests run, test/internal/harness). Checked builds verify
// at run time the ownership rules that ordinary builds rely on without
// checking: pooled memory is poisoned when released instead of reused
// (xds), and shared cached objects are compared with what they were when
// cached each time they are handed out (adapter/store, xds' fragments).
package checked

import "testing"

// Build reports a checked build.
var Build = raceEnabled || poisonTag || testing.Testing()
