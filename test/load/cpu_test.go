package main

import (
	"os"
	"testing"
	"time"
)

// TestCPUMeter: the meter sees CPU time this process spends, as both
// readings of it (rusage for itself, /proc for a server process) agree.
func TestCPUMeter(t *testing.T) {
	m := startCPU(os.Getpid())
	deadline := time.Now().Add(150 * time.Millisecond)
	n := 0
	for time.Now().Before(deadline) {
		n++
	}
	self, server := m.stop()
	if self < 50*time.Millisecond || server < 50*time.Millisecond {
		t.Fatalf("after 150 ms of spinning (%d rounds): self %s, /proc %s", n, self, server)
	}
	if _, err := processCPU(-1); err == nil {
		t.Fatal("no error for a process that does not exist")
	}
}
