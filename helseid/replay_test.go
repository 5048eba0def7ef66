package helseid

import (
	"errors"
	"testing"
	"time"
)

// replayContract is what every ReplayCache must do.
func replayContract(t *testing.T, c ReplayCache, advance func(time.Duration)) {
	t.Helper()
	steps := []struct {
		name    string
		key     string
		advance time.Duration
		seen    bool
	}{
		{"first use of a key", "a", 0, false},
		{"second use of the same key", "a", 0, true},
		{"another key", "b", 0, false},
		{"same key within its ttl", "a", 500 * time.Millisecond, true},
		{"same key after its ttl", "a", 2 * time.Second, false},
		{"and once more right after", "a", 0, true},
	}
	for _, s := range steps {
		advance(s.advance)
		seen, err := c.Seen(testCtx, s.key, time.Second)
		if err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
		if seen != s.seen {
			t.Fatalf("%s: seen = %v, want %v", s.name, seen, s.seen)
		}
	}
	if _, err := c.Seen(testCtx, "c", 0); err == nil {
		t.Fatal("a zero ttl was accepted")
	}
}

func TestMemoryReplayCache(t *testing.T) {
	clk := newClock(time.Now())
	c := NewMemoryReplayCache(0)
	c.now = clk.Now
	replayContract(t, c, clk.Advance)
}

func TestMemoryReplayCacheFullFailsClosed(t *testing.T) {
	clk := newClock(time.Now())
	c := NewMemoryReplayCache(2)
	c.now = clk.Now
	for _, k := range []string{"a", "b"} {
		if _, err := c.Seen(testCtx, k, time.Minute); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := c.Seen(testCtx, "c", time.Minute); !errors.Is(err, ErrReplayCacheFull) {
		t.Fatalf("full cache: err = %v", err)
	}
	if seen, err := c.Seen(testCtx, "a", time.Minute); err != nil || !seen {
		t.Fatalf("full cache forgot a live key: %v %v", seen, err)
	}
	clk.Advance(2 * time.Minute)
	if _, err := c.Seen(testCtx, "c", time.Minute); err != nil {
		t.Fatalf("expired keys were not swept: %v", err)
	}
}

func TestRedisReplayCache(t *testing.T) {
	rc := startRedis(t)
	c := NewRedisReplayCache(rc, "test:")
	// Redis expires keys on its own clock: advance by sleeping.
	replayContract(t, c, time.Sleep)
	ttl, err := rc.PTTL(testCtx, "test:a").Result()
	if err != nil || ttl <= 0 {
		t.Fatalf("key stored without expiry: %v %v", ttl, err)
	}
}

func TestRedisReplayCacheDown(t *testing.T) {
	down := newRedisClient(closedPort(t))
	t.Cleanup(func() { _ = down.Close() })
	seen, err := NewRedisReplayCache(down, "").Seen(testCtx, "k", time.Second)
	if err == nil || seen {
		t.Fatalf("Redis down: seen=%v err=%v; want an error", seen, err)
	}
}
