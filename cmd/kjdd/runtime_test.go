package main

import (
	"runtime/debug"
	"testing"
)

// TestTuneGC: kjdd's collector defaults apply only where the operator set
// nothing.
func TestTuneGC(t *testing.T) {
	prevGC := debug.SetGCPercent(100)
	prevLimit := debug.SetMemoryLimit(-1)
	t.Cleanup(func() {
		debug.SetGCPercent(prevGC)
		debug.SetMemoryLimit(prevLimit)
	})
	tests := map[string]struct {
		env       map[string]string
		wantGC    int
		wantLimit int64
	}{
		"defaults":              {env: nil, wantGC: defaultGCPercent, wantLimit: defaultMemoryLimit},
		"operator's GOGC":       {env: map[string]string{"GOGC": "50"}, wantGC: 50, wantLimit: defaultMemoryLimit},
		"operator's GOMEMLIMIT": {env: map[string]string{"GOMEMLIMIT": "2GiB"}, wantGC: defaultGCPercent, wantLimit: 1 << 40},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			debug.SetGCPercent(50)        // stands for the operator's GOGC=50
			debug.SetMemoryLimit(1 << 40) // and for GOMEMLIMIT
			tuneGC(func(k string) string { return tc.env[k] })
			if got := debug.SetGCPercent(-1); got != tc.wantGC {
				t.Errorf("GC percent %d, want %d", got, tc.wantGC)
			}
			debug.SetGCPercent(100)
			if got := debug.SetMemoryLimit(-1); got != tc.wantLimit {
				t.Errorf("memory limit %d, want %d", got, tc.wantLimit)
			}
		})
	}
}
