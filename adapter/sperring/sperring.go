// Package sperring is the sperring use case of the application: the
// store's records as the source of truth, Redis (KJDD_REDIS_URL) or an
// in-process cache in front of them, consent's Resolver and Policy, the
// access Policy every read path goes through, and the sperring API's back
// end, which writes each change through to the caches before it answers.
package sperring

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"

	"kjdd/adapter/access"
	"kjdd/adapter/keys"
	"kjdd/adapter/store"
	"kjdd/adapter/telemetry"
	"kjdd/consent"
)

// Settings configure New.
type Settings struct {
	// Keys are derived from KJDD_AUDIT_KEY (keys.Root.Sperring).
	Keys keys.Sperring
	// OverridePurposes override document-level sperring
	// (KJDD_OVERRIDE_PURPOSES); Visibility is KJDD_BLOCKED_VISIBILITY.
	OverridePurposes []string
	Visibility       consent.Visibility
	// Redis is the shared cache; nil means an in-process one (a single
	// instance only).
	Redis  redis.UniversalClient
	Logger *slog.Logger
}

// Sperring is what serve wires of the sperring decision.
type Sperring struct {
	// Policy decides every read, bound to the caller's patient first.
	Policy access.Policy
	// Service is the sperring API's back end.
	Service *Service
	// Ready fails only when neither the store nor Redis can serve.
	Ready func(context.Context) error
	// OnRegistered is the registration hook: a registration's patients
	// are written through to the caches.
	OnRegistered func(ctx context.Context, patientIDs []string)
	// Collectors are the sperring cache's metrics.
	Collectors []prometheus.Collector

	// stop ends what the cache runs in the background (the Redis change
	// subscription); nil when nothing does.
	stop func() error
}

// Close stops the cache's background work. Call it before closing the
// Redis client.
func (s *Sperring) Close() error {
	if s.stop == nil {
		return nil
	}
	return s.stop()
}

// New opens the store's sperring records under the keys (refusing a
// database written under another key) and wires the decision.
func New(ctx context.Context, st *store.Store, s Settings) (*Sperring, error) {
	log := s.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	log = slog.New(telemetry.RedactingHandler(log.Handler()))
	records, err := st.SperringRecords(ctx, store.SperringKeys{Index: s.Keys.Index, Seal: s.Keys.Seal})
	if err != nil {
		return nil, err
	}
	policy := consent.Policy{OverridePurposes: s.OverridePurposes, Visibility: s.Visibility, ObfuscationKey: s.Keys.Masked}
	if err := policy.Validate(); err != nil {
		return nil, err
	}

	events := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "kjdd_sperring_cache_events_total",
		Help: "Sperring input reads and write-throughs by event: hit, miss (store read), cache_error (store read), fill_error, store_error (denied), write_through_error.",
	}, []string{"event"})
	for _, e := range []consent.Event{consent.EventHit, consent.EventMiss, consent.EventCacheError, consent.EventFillError, consent.EventStoreError, consent.EventWriteThroughError} {
		events.WithLabelValues(string(e))
	}
	collectors := []prometheus.Collector{events}

	var (
		cache consent.Cache
		stop  func() error
	)
	if s.Redis != nil {
		rc, err := consent.NewRedisCache(s.Redis, consent.RedisSettings{KeySecret: s.Keys.Redis, Logger: log})
		if err != nil {
			return nil, err
		}
		cache = rc
		stop = rc.Close
		collectors = append(collectors, prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "kjdd_sperring_cache_subscribed",
			Help: "1 while the sperring change subscription is confirmed (the in-process layer in front of Redis is in use).",
		}, func() float64 {
			if rc.Subscribed() {
				return 1
			}
			return 0
		}))
	} else {
		cache = consent.NewMemoryCache(0, 0)
	}
	resolver := consent.NewResolver(records, cache, consent.ResolverSettings{
		Logger: log,
		Count:  func(e consent.Event) { events.WithLabelValues(string(e)).Inc() },
	})
	svc := &Service{records: records, resolver: resolver, log: log}
	log.Info("sperring enforced", "override_purposes", strings.Join(s.OverridePurposes, ","), "blocked_visibility", s.Visibility.String(),
		"cache", map[bool]string{true: "redis", false: "in-process"}[s.Redis != nil])
	return &Sperring{
		Policy:       access.PatientBound{Next: access.Sperring{Resolver: resolver, Policy: policy, Lineage: access.SourceLineage{Source: st}}},
		Service:      svc,
		Ready:        ready(records, s.Redis),
		OnRegistered: svc.Registered,
		Collectors:   collectors,
		stop:         stop,
	}, nil
}

// ready fails only when neither the store's sperring tables nor Redis can
// serve: with one of them a request can still be decided (or denied)
// correctly.
func ready(records *store.SperringRecords, rdb redis.UniversalClient) func(context.Context) error {
	return func(ctx context.Context) error {
		storeErr := records.Ready(ctx)
		if storeErr == nil {
			return nil
		}
		if rdb == nil {
			return fmt.Errorf("sperring: %w", storeErr)
		}
		if err := rdb.Ping(ctx).Err(); err != nil {
			return fmt.Errorf("sperring: neither the store nor redis answers: %w", errors.Join(storeErr, err))
		}
		return nil
	}
}

// Service is the sperring API's back end: the store's records, each
// change written through to the caches (and so announced to every
// instance) before the API answers.
type Service struct {
	records  *store.SperringRecords
	resolver *consent.Resolver
	log      *slog.Logger
}

// Create stores a record (its document uniqueId canonical) and writes the
// change through, and says what the record blocks. A record naming a
// document registered for another patient gives
// consent.ErrOtherPatientsDocument; one naming a document not registered
// yet is stored (the EPJ may block before it registers) and says so.
func (s *Service) Create(ctx context.Context, rec consent.Sperring) (consent.Sperring, consent.Blocks, error) {
	created, err := s.records.Create(ctx, rec)
	if err != nil {
		return consent.Sperring{}, consent.Blocks{}, err
	}
	s.changed(ctx, created.Patient)
	blocks, err := s.records.Blocks(ctx, created)
	if err != nil {
		// The record stands and is enforced; only the description failed.
		return consent.Sperring{}, consent.Blocks{}, fmt.Errorf("sperring: record %s created, but what it blocks could not be read: %w", created.ID, err)
	}
	return created, blocks, nil
}

// Search returns the patient's records.
func (s *Service) Search(ctx context.Context, patient string) ([]consent.Sperring, error) {
	return s.records.Search(ctx, patient)
}

// Delete removes a record and writes the change through; an unknown id
// gives store.ErrNotFound.
func (s *Service) Delete(ctx context.Context, id string) error {
	patient, err := s.records.Delete(ctx, id)
	if err != nil {
		return err
	}
	s.changed(ctx, patient)
	return nil
}

// Registered takes a registration's patients to the caches: a new or
// replaced document may have changed what they may see. The documents'
// own codes (NORS) are read at every decision, so nothing waits for this:
// it is bounded to a second, so that a Redis outage does not hold up the
// EPJ's registrations.
func (s *Service) Registered(ctx context.Context, patientIDs []string) {
	ctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	for _, id := range patientIDs {
		patient, err := consent.NormalizePatient(id)
		if err != nil {
			continue // not a national id: sperring cannot be keyed by it
		}
		s.changed(ctx, patient)
	}
}

// changed writes a committed change through. The change stands when that
// fails (the store is the truth); the failure is logged and counted, and
// other instances may use their copies until these expire.
func (s *Service) changed(ctx context.Context, patient string) {
	if err := s.resolver.Changed(ctx, patient); err != nil {
		s.log.Error("sperring change not written through to the cache; other instances may use the old records until their copies expire", "err", err)
	}
}
