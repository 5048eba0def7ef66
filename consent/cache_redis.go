package consent

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
)

// Redis names. A key is the prefix and the keyed hash of the patient's
// identity number (never the number itself: keys show up in monitoring,
// slow logs and KEYS output); the channel carries the same hash.
const (
	RedisKeyPrefix = "kjdd:sperring:"
	RedisChannel   = "kjdd:sperring:changed"
)

// Defaults of RedisSettings.
const (
	DefaultRedisTTL       = 10 * time.Minute
	DefaultLocalSize      = 10000
	DefaultLocalTTL       = 30 * time.Second
	DefaultHealthInterval = 3 * time.Second
	DefaultRetryAfter     = time.Second
)

// RedisSettings configure a RedisCache.
type RedisSettings struct {
	// KeySecret keys the hash that names a patient in Redis; at least
	// MinKeyLength bytes, the same on every instance.
	KeySecret []byte
	// TTL is how long Redis keeps a patient's inputs. It bounds how long
	// a change whose write-through failed can go unseen.
	TTL time.Duration
	// LocalSize is the number of patients of the in-process layer in
	// front of Redis; negative disables the layer.
	LocalSize int
	// LocalTTL is how long the in-process layer keeps an entry. Entries
	// are dropped at once on notification; the TTL bounds the damage of a
	// notification lost without the subscription noticing.
	LocalTTL time.Duration
	// HealthInterval is how often a silent subscription is pinged; a ping
	// unanswered for another interval counts as a broken subscription.
	HealthInterval time.Duration
	// RetryAfter is how long reads skip Redis after it failed, so that
	// an outage costs each request a store read, not a Redis timeout too.
	RetryAfter time.Duration
	// Logger receives subscription warnings; nil discards them.
	Logger *slog.Logger
}

// RedisCache is the Cache shared by all instances. Each patient's inputs are
// a Redis hash (field v: the zero-padded version, field d: the JSON inputs)
// under kjdd:sperring:<HMAC-SHA256(secret, patient) hex>, written only if
// not older than what is there, with a TTL.
//
// Every write that changes a key's version, and every invalidation,
// publishes the keyed hash on kjdd:sperring:changed in the same Lua script,
// so the notification cannot be lost between write and publish. Every
// instance subscribes and drops its in-process copy of that patient at once.
//
// The in-process layer (an LRU with a short TTL) is used only while the
// subscription is confirmed. When the subscription breaks (connection lost,
// ping unanswered, Redis restarted) the instance cannot know what changed
// meanwhile, so it drops the whole layer, bypasses it, and re-subscribes
// with back-off; after the new subscription is confirmed it drops the layer
// once more and uses it again. Redis itself is still read while the
// subscription is down.
//
// A value in Redis carries no identity number and no free text: only the
// record ids, kinds, uniqueIds and HPR numbers the decision needs.
type RedisCache struct {
	client redis.UniversalClient
	secret []byte
	ttl    time.Duration
	health time.Duration
	retry  time.Duration
	log    *slog.Logger

	local      *lru // nil when disabled
	subscribed atomic.Bool
	confirmed  atomic.Int64 // subscriptions confirmed so far
	downUntil  atomic.Int64 // unix nanos; reads skip Redis before it

	cancel context.CancelFunc
	done   chan struct{}
	psMu   sync.Mutex
	ps     *redis.PubSub
	closed bool
}

// errRedisSkipped is returned by Get while Redis is considered down.
var errRedisSkipped = errors.New("redis recently failed; skipped")

// NewRedisCache returns a RedisCache on client and starts its subscription.
// The client stays the caller's; Close stops the subscription only.
func NewRedisCache(client redis.UniversalClient, s RedisSettings) (*RedisCache, error) {
	if client == nil {
		return nil, errors.New("redis client is required")
	}
	if len(s.KeySecret) < MinKeyLength {
		return nil, fmt.Errorf("redis key secret must be at least %d bytes", MinKeyLength)
	}
	c := &RedisCache{
		client: client,
		secret: append([]byte(nil), s.KeySecret...),
		ttl:    orDefault(s.TTL, DefaultRedisTTL),
		health: orDefault(s.HealthInterval, DefaultHealthInterval),
		retry:  orDefault(s.RetryAfter, DefaultRetryAfter),
		log:    s.Logger,
		done:   make(chan struct{}),
	}
	if c.log == nil {
		c.log = slog.New(slog.DiscardHandler)
	}
	if s.LocalSize >= 0 {
		size := s.LocalSize
		if size == 0 {
			size = DefaultLocalSize
		}
		c.local = newLRU(size, orDefault(s.LocalTTL, DefaultLocalTTL), nil)
	}
	ctx, cancel := context.WithCancel(context.Background())
	c.cancel = cancel
	go c.watch(ctx)
	return c, nil
}

func orDefault(d, def time.Duration) time.Duration {
	if d <= 0 {
		return def
	}
	return d
}

// Subscribed reports whether the change subscription is confirmed, i.e.
// whether the in-process layer is in use. Readiness checks may report it.
func (c *RedisCache) Subscribed() bool { return c.subscribed.Load() }

// Close stops the subscription. It does not close the client.
func (c *RedisCache) Close() error {
	c.psMu.Lock()
	if c.closed {
		c.psMu.Unlock()
		return nil
	}
	c.closed = true
	c.cancel()
	if c.ps != nil {
		_ = c.ps.Close() // unblocks the receive in watch
	}
	c.psMu.Unlock()
	<-c.done
	return nil
}

// hash is the keyed hash naming the patient in Redis.
func (c *RedisCache) hash(patient string) string {
	h := hmac.New(sha256.New, c.secret)
	h.Write([]byte(patient))
	return hex.EncodeToString(h.Sum(nil))
}

// Get returns the patient's inputs from the in-process layer (while
// subscribed) or from Redis.
func (c *RedisCache) Get(ctx context.Context, patient string) (Inputs, bool, error) {
	if !validPatient(patient) {
		return Inputs{}, false, invalid("patient must be an 11-digit fødselsnummer or D-number")
	}
	h := c.hash(patient)
	if c.local != nil && c.subscribed.Load() {
		if in, ok := c.local.get(h); ok {
			return cloneInputs(in), true, nil
		}
	}
	if time.Now().UnixNano() < c.downUntil.Load() {
		return Inputs{}, false, errRedisSkipped
	}
	var gen uint64
	if c.local != nil {
		gen = c.local.generation()
	}
	data, err := c.client.HGet(ctx, RedisKeyPrefix+h, "d").Result()
	if errors.Is(err, redis.Nil) {
		c.up()
		return Inputs{}, false, nil
	}
	if err != nil {
		c.down()
		return Inputs{}, false, fmt.Errorf("redis get: %w", err)
	}
	c.up()
	in, err := decodeCached([]byte(data), h, patient)
	if err != nil {
		// Remove what cannot be used, so that the next read refills it
		// from the store instead of failing over and over. Best effort:
		// the caller reads the store anyway.
		_ = invalidateScript.Run(ctx, c.client, []string{RedisKeyPrefix + h}, RedisChannel, h).Err()
		return Inputs{}, false, err
	}
	if c.local != nil {
		// Refused if a notification or a subscription change came in
		// since gen was read: what was read may already be stale.
		c.local.putIfGen(h, in, gen)
	}
	return cloneInputs(in), true, nil
}

// putScript writes inputs unless Redis holds a newer version, and
// publishes the key's hash when the version changed. Versions are
// zero-padded to 19 digits so that string order is numeric order (Lua
// numbers are doubles and would round large versions).
var putScript = redis.NewScript(`
local cur = redis.call('HGET', KEYS[1], 'v')
if cur and cur > ARGV[1] then return 0 end
redis.call('HSET', KEYS[1], 'v', ARGV[1], 'd', ARGV[2])
redis.call('PEXPIRE', KEYS[1], ARGV[3])
if cur ~= ARGV[1] then
  redis.call('PUBLISH', ARGV[4], ARGV[5])
  return 2
end
return 1
`)

// invalidateScript deletes the key and publishes its hash.
var invalidateScript = redis.NewScript(`
redis.call('DEL', KEYS[1])
redis.call('PUBLISH', ARGV[1], ARGV[2])
return 1
`)

// Put writes in to Redis unless Redis holds a newer version; every
// instance drops its copy when the version changed.
func (c *RedisCache) Put(ctx context.Context, in Inputs) error {
	if !validPatient(in.Patient) {
		return invalid("patient must be an 11-digit fødselsnummer or D-number")
	}
	if in.Version < 0 {
		return invalid("version must not be negative")
	}
	h := c.hash(in.Patient)
	data, err := encodeCached(in, h)
	if err != nil {
		return err
	}
	args := []any{fmt.Sprintf("%019d", in.Version), data, c.ttl.Milliseconds(), RedisChannel, h}
	if err := putScript.Run(ctx, c.client, []string{RedisKeyPrefix + h}, args...).Err(); err != nil {
		return fmt.Errorf("redis put: %w", err)
	}
	if c.local != nil {
		c.local.remove(h)
	}
	return nil
}

// Invalidate deletes the patient's inputs from Redis and tells every
// instance to drop its copy.
func (c *RedisCache) Invalidate(ctx context.Context, patient string) error {
	if !validPatient(patient) {
		return invalid("patient must be an 11-digit fødselsnummer or D-number")
	}
	h := c.hash(patient)
	if c.local != nil {
		c.local.remove(h)
	}
	if err := invalidateScript.Run(ctx, c.client, []string{RedisKeyPrefix + h}, RedisChannel, h).Err(); err != nil {
		return fmt.Errorf("redis invalidate: %w", err)
	}
	return nil
}

func (c *RedisCache) down() { c.downUntil.Store(time.Now().Add(c.retry).UnixNano()) }
func (c *RedisCache) up()   { c.downUntil.Store(0) }

// watch keeps the change subscription alive until Close.
func (c *RedisCache) watch(ctx context.Context) {
	defer close(c.done)
	const maxBackoff = 5 * time.Second
	backoff := 50 * time.Millisecond
	for ctx.Err() == nil {
		confirmed, err := c.listen(ctx)
		c.unsubscribed()
		if ctx.Err() != nil {
			return
		}
		if confirmed {
			backoff = 50 * time.Millisecond
		}
		c.log.Warn("sperring change subscription broken; in-process layer dropped and bypassed until re-subscribed",
			"err", err, "retry_in", backoff)
		select {
		case <-ctx.Done():
			return
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, maxBackoff)
	}
}

// listen subscribes and handles notifications until the subscription
// breaks. confirmed reports whether the subscription was ever confirmed.
func (c *RedisCache) listen(ctx context.Context) (confirmed bool, err error) {
	c.psMu.Lock()
	if c.closed {
		c.psMu.Unlock()
		return false, context.Canceled
	}
	ps := c.client.Subscribe(ctx, RedisChannel)
	c.ps = ps
	c.psMu.Unlock()
	defer func() { _ = ps.Close() }()

	pinged := false
	for {
		msg, err := ps.ReceiveTimeout(ctx, c.health)
		if err != nil {
			if !isTimeout(err) || pinged {
				return confirmed, err
			}
			// Silence may be a dead connection nobody told us about.
			if err := ps.Ping(ctx); err != nil {
				return confirmed, err
			}
			pinged = true
			continue
		}
		pinged = false
		switch m := msg.(type) {
		case *redis.Subscription:
			if m.Kind == "subscribe" && m.Channel == RedisChannel {
				c.resubscribed()
				confirmed = true
			}
		case *redis.Message:
			c.notified(m.Payload)
		}
	}
}

// notified drops the local copy named by a notification. A payload that is
// not a key hash drops everything: better a few store reads than a stale
// entry.
func (c *RedisCache) notified(payload string) {
	if c.local == nil {
		return
	}
	if len(payload) != sha256.Size*2 {
		c.local.purge()
		return
	}
	if _, err := hex.DecodeString(payload); err != nil {
		c.local.purge()
		return
	}
	c.local.remove(payload)
}

// unsubscribed stops using the local layer, then empties it.
func (c *RedisCache) unsubscribed() {
	c.subscribed.Store(false)
	if c.local != nil {
		c.local.purge()
	}
}

// resubscribed empties the local layer (notifications may have been missed
// before the subscription was confirmed), then uses it again.
func (c *RedisCache) resubscribed() {
	if c.local != nil {
		c.local.purge()
	}
	c.subscribed.Store(true)
	c.confirmed.Add(1)
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// cachedValue is the JSON stored in Redis: the key hash (checked on read,
// so a value can never be served for another patient), the version, and
// the records reduced to what the decision reads.
type cachedValue struct {
	Key     string         `json:"k"`
	Version int64          `json:"v"`
	Records []cachedRecord `json:"r,omitempty"`
}

type cachedRecord struct {
	ID       string `json:"id,omitempty"`
	Kind     Kind   `json:"kind"`
	UniqueID string `json:"doc,omitempty"`
	HPR      string `json:"hpr,omitempty"`
}

func encodeCached(in Inputs, key string) (string, error) {
	v := cachedValue{Key: key, Version: in.Version}
	for _, r := range in.Records {
		if r.Patient != in.Patient {
			return "", invalid("record is of another patient")
		}
		v.Records = append(v.Records, cachedRecord{ID: r.ID, Kind: r.Kind, UniqueID: r.DocumentUniqueID, HPR: r.HPRNumber})
	}
	b, err := json.Marshal(v)
	if err != nil {
		return "", fmt.Errorf("encode cached inputs: %w", err)
	}
	return string(b), nil
}

// decodeCached parses a Redis value for the patient whose key hash is key.
// A value that does not parse, is for another key, or holds an invalid
// record is an error, never partial inputs.
func decodeCached(data []byte, key, patient string) (Inputs, error) {
	var v cachedValue
	if err := json.Unmarshal(data, &v); err != nil {
		return Inputs{}, fmt.Errorf("decode cached inputs: %w", err)
	}
	if v.Key != key {
		return Inputs{}, errors.New("cached inputs are for another key")
	}
	in := Inputs{Patient: patient, Version: v.Version}
	if len(v.Records) > 0 {
		in.Records = make([]Sperring, 0, len(v.Records))
	}
	for _, r := range v.Records {
		in.Records = append(in.Records, Sperring{ID: r.ID, Patient: patient, Kind: r.Kind, DocumentUniqueID: r.UniqueID, HPRNumber: r.HPR})
	}
	if err := checkInputs(in, patient); err != nil {
		return Inputs{}, fmt.Errorf("cached inputs: %w", err)
	}
	return in, nil
}

// Interface guards.
var _ Cache = (*RedisCache)(nil)
