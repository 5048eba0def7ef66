package store

import (
	"context"
	"path/filepath"
	"testing"
)

func BenchmarkRegistryVersion(b *testing.B) {
	ctx := context.Background()
	s, err := Open(ctx, "sqlite:"+filepath.Join(b.TempDir(), "kjdd.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	if err := s.Register(ctx, func(tx *Tx) error { return raiseRegistryVersion(ctx, tx.d, tx.tx, testPatient) }); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if v, err := registryVersion(ctx, s.d, s.reads, testPatient); err != nil || v != 1 {
			b.Fatal(v, err)
		}
	}
}
