package consent

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"
)

// Event is something the Resolver counts, for metrics.
type Event string

// Resolver events.
const (
	// EventHit: the cache answered.
	EventHit Event = "hit"
	// EventMiss: the cache did not have the patient; the store answered.
	EventMiss Event = "miss"
	// EventCacheError: the cache failed (or answered with unusable
	// inputs); the store was read instead.
	EventCacheError Event = "cache_error"
	// EventFillError: storing inputs read from the store in the cache
	// failed; the request was still answered.
	EventFillError Event = "fill_error"
	// EventStoreError: the store failed; the request is denied with
	// ErrUnavailable.
	EventStoreError Event = "store_error"
	// EventWriteThroughError: a change could not be written to the
	// cache; the store's version tells every instance that its copies
	// are stale (EventStale).
	EventWriteThroughError Event = "write_through_error"
	// EventStale: the cache answered with inputs older than the store's
	// version (a change it did not hear of); the store was read instead
	// and the cache repaired.
	EventStale Event = "stale"
)

// ResolverSettings are the optional parts of a Resolver.
type ResolverSettings struct {
	// Logger receives warnings (cache failures, at most one line per
	// LogInterval). Nil discards them.
	Logger *slog.Logger
	// Count is called once per Event; nil counts nothing.
	Count func(Event)
	// LogInterval is the least time between two cache-failure warnings;
	// zero means 10 s. Failures in between are counted, not logged.
	LogInterval time.Duration
}

// Resolver is the read path of sperring inputs: cache first, then the
// store, never failing open. Its zero value is not usable; use NewResolver.
type Resolver struct {
	store RecordStore
	cache Cache
	log   *slog.Logger
	count func(Event)

	logEvery time.Duration
	mu       sync.Mutex
	lastLog  time.Time
	dropped  int
}

// NewResolver returns a Resolver reading through cache (nil: the store
// only) into store.
func NewResolver(store RecordStore, cache Cache, s ResolverSettings) *Resolver {
	r := &Resolver{store: store, cache: cache, log: s.Logger, count: s.Count, logEvery: s.LogInterval}
	if r.log == nil {
		r.log = slog.New(slog.DiscardHandler)
	}
	if r.count == nil {
		r.count = func(Event) {}
	}
	if r.logEvery <= 0 {
		r.logEvery = 10 * time.Second
	}
	return r
}

// Inputs returns the patient's sperring inputs. The store is the truth and
// the cache only makes it fast: a cache hit is used when its version is the
// store's version now (one primary-key read), so that a change acknowledged
// to the EPJ holds on every instance at once whatever the cache missed (a
// write-through that failed, an announcement that never came). Older inputs,
// a miss or a cache failure read the store, and the first two repair the
// cache. When the store fails, the error wraps ErrUnavailable and the caller
// must deny, cache hit or not. Inputs never returns usable-looking inputs
// with an error.
func (r *Resolver) Inputs(ctx context.Context, patient string) (Inputs, error) {
	if !validPatient(patient) {
		return Inputs{}, invalid("patient must be an 11-digit fødselsnummer or D-number")
	}
	cacheOK := false
	if r.cache != nil {
		in, ok, err := r.cache.Get(ctx, patient)
		switch {
		case err != nil:
			r.count(EventCacheError)
			r.warn("sperring cache failed, reading the store", err)
		case ok && in.Patient != patient:
			r.count(EventCacheError)
			r.warn("sperring cache answered for another key, reading the store", errors.New("patient mismatch"))
		case ok:
			current, err := r.store.Version(ctx, patient)
			if err != nil {
				r.count(EventStoreError)
				return Inputs{}, fmt.Errorf("%w: store: %w", ErrUnavailable, err)
			}
			if current == in.Version {
				r.count(EventHit)
				return in, nil
			}
			r.count(EventStale)
			r.warn("sperring cache held older inputs than the store, reading the store", errors.New("stale version"))
			cacheOK = true
		default:
			r.count(EventMiss)
			cacheOK = true
		}
	}
	in, err := r.fromStore(ctx, patient)
	if err != nil {
		r.count(EventStoreError)
		return Inputs{}, err
	}
	// Only fill after a clean miss: after a failure the cache is most
	// likely still down, and waiting for it again would slow every request.
	if cacheOK {
		if err := r.cache.Put(ctx, in); err != nil {
			r.count(EventFillError)
			r.warn("sperring cache fill failed", err)
		}
	}
	return in, nil
}

func (r *Resolver) fromStore(ctx context.Context, patient string) (Inputs, error) {
	in, err := r.store.Inputs(ctx, patient)
	if err != nil {
		return Inputs{}, fmt.Errorf("%w: store: %w", ErrUnavailable, err)
	}
	if in.Patient == "" {
		in.Patient = patient
	}
	if err := checkInputs(in, patient); err != nil {
		return Inputs{}, fmt.Errorf("%w: store: %w", ErrUnavailable, err)
	}
	return in, nil
}

// writeThroughAttempts and writeThroughPause bound how long Changed keeps
// trying to reach the cache: long enough to ride out a blip, short enough
// for the API call that made the change.
const (
	writeThroughAttempts = 3
	writeThroughPause    = 50 * time.Millisecond
)

// Changed writes the patient's records through to the cache after a change
// was committed to the store: it reads the new inputs from the store and
// puts them (which tells every instance to drop its copy). If that cannot
// be done it invalidates the patient's entry instead, so that readers go to
// the store. When neither works the error says so: other instances may then
// use the old inputs until their copies expire, and the caller should log
// it as a failed write-through.
func (r *Resolver) Changed(ctx context.Context, patient string) error {
	if !validPatient(patient) {
		return invalid("patient must be an 11-digit fødselsnummer or D-number")
	}
	if r.cache == nil {
		return nil
	}
	var err error
	for attempt := range writeThroughAttempts {
		if attempt > 0 {
			select {
			case <-ctx.Done():
				return errors.Join(err, ctx.Err())
			case <-time.After(writeThroughPause << (attempt - 1)):
			}
		}
		var in Inputs
		in, err = r.fromStore(ctx, patient)
		if err == nil {
			if err = r.cache.Put(ctx, in); err == nil {
				return nil
			}
		}
		if ierr := r.cache.Invalidate(ctx, patient); ierr == nil {
			return nil
		} else {
			err = errors.Join(err, ierr)
		}
	}
	r.count(EventWriteThroughError)
	return fmt.Errorf("sperring write-through failed: %w", err)
}

// warn logs a cache problem, at most once per logEvery; the rest are only
// counted, so that a Redis outage does not flood the log.
func (r *Resolver) warn(msg string, err error) {
	r.mu.Lock()
	now := time.Now()
	if now.Sub(r.lastLog) < r.logEvery {
		r.dropped++
		r.mu.Unlock()
		return
	}
	suppressed := r.dropped
	r.lastLog, r.dropped = now, 0
	r.mu.Unlock()
	r.log.Warn(msg, "err", err, "suppressed", suppressed)
}
