package helseid

import (
	"context"
	"errors"
	"time"

	"github.com/redis/go-redis/v9"
)

// RedisReplayCache is a ReplayCache in Redis, shared by every kjdd instance:
// a proof accepted by one instance is refused by all others.
type RedisReplayCache struct {
	client redis.UniversalClient
	prefix string
}

// NewRedisReplayCache returns a cache storing keys under prefix (default
// "kjdd:replay:") in client, which may be a single node, Sentinel or
// Cluster client.
func NewRedisReplayCache(client redis.UniversalClient, prefix string) *RedisReplayCache {
	if prefix == "" {
		prefix = "kjdd:replay:"
	}
	return &RedisReplayCache{client: client, prefix: prefix}
}

// Seen implements ReplayCache with one SET key 1 NX PX ttl: the write
// succeeds only for the first caller, atomically across instances. Any
// Redis error is returned, and the caller refuses the request.
func (c *RedisReplayCache) Seen(ctx context.Context, key string, ttl time.Duration) (bool, error) {
	if ttl <= 0 {
		return false, errors.New("helseid: replay ttl must be positive")
	}
	err := c.client.SetArgs(ctx, c.prefix+key, 1, redis.SetArgs{Mode: "NX", TTL: ttl}).Err()
	switch {
	case err == nil:
		return false, nil
	case errors.Is(err, redis.Nil):
		// NX did not set: the key exists.
		return true, nil
	default:
		return false, err
	}
}

var _ ReplayCache = (*RedisReplayCache)(nil)
