package xca

import (
	"os"
	"testing"

	"kjdd/test/internal/corpus"
	"kjdd/test/internal/harness"
)

func TestMain(m *testing.M) { os.Exit(harness.Run(m)) }

// TestReplay replays the corpus' ITI-38 and ITI-39 samples; golden files
// are in testdata/golden (go test ./test/xca -update rewrites them).
func TestReplay(t *testing.T) { corpus.Replay(t, "iti38", "iti39") }
