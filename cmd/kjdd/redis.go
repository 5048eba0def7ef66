package main

import (
	"context"
	"log/slog"
	"time"

	"github.com/redis/go-redis/v9"

	"kjdd/adapter/config"
)

// newRedis connects to KJDD_REDIS_URL, shared by the DPoP replay cache and
// the sperring cache. Without it kjdd uses in-process caches and must run
// as a single instance, which it says at start.
func newRedis(cfg config.Config, log *slog.Logger) (redis.UniversalClient, error) {
	if cfg.RedisURL == "" {
		log.Warn("KJDD_REDIS_URL is not set: caches are in-process, so run exactly one instance")
		return nil, nil
	}
	opt, err := redis.ParseURL(cfg.RedisURL)
	if err != nil {
		return nil, err
	}
	// A dead Redis must cost one quick failure, not a retry storm: the
	// callers fall back to the store (sperring) or refuse (DPoP replay).
	opt.MaxRetries = -1
	opt.DialTimeout = 500 * time.Millisecond
	opt.ReadTimeout = 500 * time.Millisecond
	opt.WriteTimeout = 500 * time.Millisecond
	rdb := redis.NewClient(opt)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := rdb.Ping(ctx).Err(); err != nil {
		// Not fatal: sperring reads the store while Redis is down, and
		// readiness reports it.
		log.Warn("redis not reachable at start", "err", err)
	}
	return rdb, nil
}
