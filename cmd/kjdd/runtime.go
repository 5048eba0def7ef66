package main

import (
	"runtime/debug"
)

// kjdd's live heap is small (a few MiB plus the store's object cache) while
// every request allocates tens of kilobytes. With Go's default (GOGC=100)
// the collector then runs dozens of times a second and its marking and
// write barriers took about a quarter of the instructions of an ITI-38
// request (BENCHMARKS.md). kjdd lets the heap grow to three times the live
// heap between collections instead (GOGC=200), under a soft memory limit
// that makes the collector run sooner whenever the process nears it.
// GOGC=400 saved more, but let a 100 MB retrieve's chunk buffers pile up to
// 16.7 MiB of growth, past issue 2's bound of 16 MB; 200 keeps it at 4-8
// MiB. An operator's GOGC or GOMEMLIMIT takes precedence.
const (
	defaultGCPercent   = 200
	defaultMemoryLimit = 768 << 20
)

// tuneGC applies the defaults above where getenv has no setting, and
// reports what it set.
func tuneGC(getenv func(string) string) (gcPercent int, memoryLimit int64) {
	gcPercent, memoryLimit = -2, -1 // unchanged
	if getenv("GOGC") == "" {
		debug.SetGCPercent(defaultGCPercent)
		gcPercent = defaultGCPercent
	}
	if getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(defaultMemoryLimit)
		memoryLimit = defaultMemoryLimit
	}
	return gcPercent, memoryLimit
}
