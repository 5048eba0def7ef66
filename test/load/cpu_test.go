package main

import (
	"os"
	"testing"
	"time"
)

// TestCPUMeter: the meter sees CPU time this process spends, as both
// readings of it (rusage for itself, /proc for a server process) agree.
// It spins until this process has had 150 ms of CPU, however long that
// takes on a machine whose other work takes its cores, so that wall time
// never decides the outcome.
func TestCPUMeter(t *testing.T) {
	m := startCPU(os.Getpid())
	start, n := selfCPU(), 0
	for selfCPU()-start < 150*time.Millisecond {
		for range 10_000 {
			n++
		}
	}
	self, server := m.stop()
	// /proc counts in clock ticks (10 ms); the two readings of the same
	// spin agree to a few of them.
	if self < 150*time.Millisecond || server < 100*time.Millisecond {
		t.Fatalf("after 150 ms of CPU spinning (%d rounds): self %s, /proc %s", n, self, server)
	}
	if _, err := processCPU(-1); err == nil {
		t.Fatal("no error for a process that does not exist")
	}
}
