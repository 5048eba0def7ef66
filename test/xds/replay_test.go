package xds

import (
	"testing"

	"kjdd/test/internal/corpus"
)

// TestReplay replays the corpus' ITI-18, ITI-41, ITI-42 and ITI-43
// samples; golden files are in testdata/golden (go test ./test/xds
// -update rewrites them).
func TestReplay(t *testing.T) { corpus.Replay(t, "iti18", "iti41", "iti42", "iti43") }
