package redistest

import (
	"context"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

func TestStartServesRedis(t *testing.T) {
	addr, stop := Start(t)
	defer stop()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c := redis.NewClient(&redis.Options{Addr: addr})
	defer c.Close()
	if err := c.Set(ctx, "k", "v", 0).Err(); err != nil {
		t.Fatalf("SET: %v", err)
	}
	got, err := c.Get(ctx, "k").Result()
	if err != nil || got != "v" {
		t.Fatalf("GET = %q, %v; want v", got, err)
	}
	stop()
	if Ping(addr) == nil {
		t.Fatal("server still answers after stop")
	}
}

func TestOutageAndRestart(t *testing.T) {
	s := New(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c := redis.NewClient(&redis.Options{Addr: s.Addr(), MaxRetries: -1, DialTimeout: 200 * time.Millisecond})
	defer c.Close()
	steps := []struct {
		name    string
		act     func()
		wantErr bool
		wantKey bool
	}{
		{name: "up", act: func() {
			if err := c.Set(ctx, "k", "v", 0).Err(); err != nil {
				t.Fatalf("SET: %v", err)
			}
		}, wantKey: true},
		{name: "stopped", act: s.Stop, wantErr: true},
		{name: "restarted empty on the same port", act: s.Restart},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			st.act()
			err := c.Get(ctx, "k").Err()
			switch {
			case st.wantErr && err == nil:
				t.Fatal("GET succeeded during outage")
			case !st.wantErr && st.wantKey && err != nil:
				t.Fatalf("GET: %v", err)
			case !st.wantErr && !st.wantKey && err != redis.Nil:
				t.Fatalf("GET after restart = %v, want redis.Nil (no persistence)", err)
			}
			if s.Running() == st.wantErr {
				t.Fatalf("Running() = %v", s.Running())
			}
		})
	}
}
