package store

import (
	"bytes"
	"context"
	"crypto/sha1"
	"encoding/hex"
	"errors"
	"io"
	"math/rand/v2"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// patternReader yields n deterministic pseudo-random bytes without holding
// them: the test's own memory stays flat too.
type patternReader struct {
	rng  *rand.ChaCha8
	left int64
}

func newPatternReader(seed byte, n int64) *patternReader {
	var s [32]byte
	s[0] = seed
	return &patternReader{rng: rand.NewChaCha8(s), left: n}
}

func (p *patternReader) Read(b []byte) (int, error) {
	if p.left == 0 {
		return 0, io.EOF
	}
	if int64(len(b)) > p.left {
		b = b[:p.left]
	}
	n, _ := p.rng.Read(b)
	p.left -= int64(n)
	return n, nil
}

func patternSHA1(seed byte, n int64) string {
	h := sha1.New()
	_, _ = io.Copy(h, newPatternReader(seed, n))
	return hex.EncodeToString(h.Sum(nil))
}

func TestContentRoundTrip(t *testing.T) {
	ctx := context.Background()
	sizes := map[string]int64{
		"empty":                0,
		"one byte":             1,
		"one short of a chunk": ChunkSize - 1,
		"exactly one chunk":    ChunkSize,
		"one over a chunk":     ChunkSize + 1,
		"several chunks":       3*ChunkSize + 7,
	}
	for _, b := range backends(t) {
		t.Run(b.name, func(t *testing.T) {
			s := b.open(t)
			for name, size := range sizes {
				t.Run(name, func(t *testing.T) {
					id := "2.25.77." + name
					var gotSize int64
					var gotHash string
					err := s.Register(ctx, func(tx *Tx) (err error) {
						gotSize, gotHash, err = tx.PutContent(ctx, id, newPatternReader(byte(size), size))
						return err
					})
					if err != nil {
						t.Fatal(err)
					}
					want := patternSHA1(byte(size), size)
					if gotSize != size || gotHash != want {
						t.Fatalf("PutContent = %d %s, want %d %s", gotSize, gotHash, size, want)
					}
					rc, err := s.OpenContent(ctx, id)
					if err != nil {
						t.Fatal(err)
					}
					defer func() { _ = rc.Close() }()
					got, err := io.ReadAll(rc)
					if err != nil {
						t.Fatal(err)
					}
					wantBytes, _ := io.ReadAll(newPatternReader(byte(size), size))
					if !bytes.Equal(got, wantBytes) {
						t.Fatalf("content differs (%d bytes read, want %d)", len(got), size)
					}
					if is, ih, err := s.ContentInfo(ctx, id); err != nil || is != size || ih != want {
						t.Fatalf("ContentInfo = %d %s %v", is, ih, err)
					}
				})
			}
			t.Run("replace", func(t *testing.T) {
				id := "2.25.77.replace"
				for _, content := range []string{"first, longer content", "second"} {
					mustRegister(t, s, func(tx *Tx) error {
						_, _, err := tx.PutContent(ctx, id, bytes.NewReader([]byte(content)))
						return err
					})
				}
				rc, err := s.OpenContent(ctx, id)
				if err != nil {
					t.Fatal(err)
				}
				got, _ := io.ReadAll(rc)
				if string(got) != "second" {
					t.Fatalf("got %q", got)
				}
			})
			t.Run("unknown", func(t *testing.T) {
				if _, err := s.OpenContent(ctx, "2.25.0.unknown"); !errors.Is(err, ErrNotFound) {
					t.Fatalf("err = %v, want ErrNotFound", err)
				}
				if _, _, err := s.ContentInfo(ctx, "2.25.0.unknown"); !errors.Is(err, ErrNotFound) {
					t.Fatalf("ContentInfo err = %v, want ErrNotFound", err)
				}
			})
			t.Run("read after close", func(t *testing.T) {
				rc, err := s.OpenContent(ctx, "2.25.77.one byte")
				if err != nil {
					t.Fatal(err)
				}
				_ = rc.Close()
				if _, err := rc.Read(make([]byte, 1)); err == nil {
					t.Fatal("read after close succeeded")
				}
			})
		})
	}
}

// TestContentLarge streams 20 MB in and out and reports the heap high-water
// mark, which stays at a few chunks however large the document.
func TestContentLarge(t *testing.T) {
	if testing.Short() {
		t.Skip("20 MB round trip")
	}
	ctx := context.Background()
	const size = 20 << 20
	want := patternSHA1(42, size)
	for _, b := range fileBackends(t) {
		t.Run(b.name, func(t *testing.T) {
			s := b.open(t)
			var peak atomic.Uint64
			stop := sampleHeap(&peak)
			start := time.Now()
			var gotSize int64
			var gotHash string
			mustRegister(t, s, func(tx *Tx) (err error) {
				gotSize, gotHash, err = tx.PutContent(ctx, "2.25.20mb", newPatternReader(42, size))
				return err
			})
			written := time.Since(start)
			if gotSize != size || gotHash != want {
				t.Fatalf("PutContent = %d %s, want %d %s", gotSize, gotHash, size, want)
			}
			start = time.Now()
			rc, err := s.OpenContent(ctx, "2.25.20mb")
			if err != nil {
				t.Fatal(err)
			}
			h := sha1.New()
			n, err := io.Copy(h, rc)
			_ = rc.Close()
			read := time.Since(start)
			stop()
			if err != nil || n != size || hex.EncodeToString(h.Sum(nil)) != want {
				t.Fatalf("read back %d bytes, err %v, hash match %v", n, err, hex.EncodeToString(h.Sum(nil)) == want)
			}
			t.Logf("%s: 20 MiB written in %v, read in %v; heap in use peaked at %.1f MiB",
				b.name, written.Round(time.Millisecond), read.Round(time.Millisecond), float64(peak.Load())/(1<<20))
		})
	}
}

// sampleHeap records the peak HeapInuse until the returned stop is called.
func sampleHeap(peak *atomic.Uint64) (stop func()) {
	runtime.GC()
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		var ms runtime.MemStats
		for {
			runtime.ReadMemStats(&ms)
			if ms.HeapInuse > peak.Load() {
				peak.Store(ms.HeapInuse)
			}
			select {
			case <-done:
				return
			case <-time.After(5 * time.Millisecond):
			}
		}
	})
	return func() { close(done); wg.Wait() }
}
