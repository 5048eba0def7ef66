package main

import (
	"context"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"

	"kjdd/adapter/access"
	"kjdd/adapter/config"
	"kjdd/adapter/httpapi"
	"kjdd/adapter/store"
	"kjdd/consent"
)

// sperring is what serve needs of the sperring decision.
type sperring struct {
	policy       access.Policy
	service      httpapi.SperringService
	ready        func(context.Context) error
	onRegistered func(ctx context.Context, patientIDs []string)
	collectors   []prometheus.Collector
	// close stops what the sperring cache runs in the background (the
	// Redis change subscription); nil when nothing does.
	close func() error
}

// HKDF info strings of the keys derived from KJDD_AUDIT_KEY. Distinct per
// use, so that no key can stand in for another; never change them (the
// store's patient index and every masked id would change with them).
const (
	infoSperringIndex  = "kjdd sperring patient index v1"
	infoSperringSeal   = "kjdd sperring patient seal v1"
	infoSperringRedis  = "kjdd sperring redis key v1"
	infoSperringMasked = "kjdd sperring obfuscation v1"
)

// buildSperring wires the sperring decision: the store's records as source
// of truth, Redis (KJDD_REDIS_URL) or an in-process cache in front of them,
// consent's Resolver and Policy, and the access Policy every read path goes
// through, bound to the caller's patient first.
func buildSperring(ctx context.Context, cfg config.Config, st *store.Store, rdb redis.UniversalClient, log *slog.Logger) (*sperring, error) {
	root, err := auditRootKey(cfg, log)
	if err != nil {
		return nil, err
	}
	derive := func(info string) []byte {
		k, err := hkdf.Key(sha256.New, root, nil, info, 32)
		if err != nil {
			panic(err) // only for lengths hkdf cannot give; 32 it can
		}
		return k
	}
	records, err := st.SperringRecords(ctx, store.SperringKeys{Index: derive(infoSperringIndex), Seal: derive(infoSperringSeal)})
	if err != nil {
		return nil, err
	}
	overrides, err := consent.ParseOverridePurposes(cfg.OverridePurposes)
	if err != nil {
		return nil, fmt.Errorf("KJDD_OVERRIDE_PURPOSES: %w", err)
	}
	visibility, err := consent.ParseVisibility(cfg.BlockedVisibility)
	if err != nil {
		return nil, fmt.Errorf("KJDD_BLOCKED_VISIBILITY: %w", err)
	}
	policy := consent.Policy{OverridePurposes: overrides, Visibility: visibility, ObfuscationKey: derive(infoSperringMasked)}
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
	if rdb != nil {
		rc, err := consent.NewRedisCache(rdb, consent.RedisSettings{KeySecret: derive(infoSperringRedis), Logger: log})
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
	svc := &sperringService{records: records, resolver: resolver, log: log}
	log.Info("sperring enforced", "override_purposes", strings.Join(overrides, ","), "blocked_visibility", visibility.String(),
		"cache", map[bool]string{true: "redis", false: "in-process"}[rdb != nil])
	return &sperring{
		policy:       access.PatientBound{Next: access.Sperring{Resolver: resolver, Policy: policy}},
		service:      svc,
		ready:        sperringReady(records, rdb),
		onRegistered: svc.registered,
		collectors:   collectors,
		close:        stop,
	}, nil
}

// sperringReady fails only when neither the store's sperring tables nor
// Redis can serve: with one of them a request can still be decided (or
// denied) correctly.
func sperringReady(records *store.SperringRecords, rdb redis.UniversalClient) func(context.Context) error {
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

// sperringService is the sperring API's back end: the store's records,
// each change written through to the caches (and so announced to every
// instance) before the API answers.
type sperringService struct {
	records  *store.SperringRecords
	resolver *consent.Resolver
	log      *slog.Logger
}

// Create implements httpapi.SperringService.
func (s *sperringService) Create(ctx context.Context, rec consent.Sperring) (consent.Sperring, error) {
	created, err := s.records.Create(ctx, rec)
	if err != nil {
		return consent.Sperring{}, err
	}
	s.changed(ctx, created.Patient)
	return created, nil
}

// Search implements httpapi.SperringService.
func (s *sperringService) Search(ctx context.Context, patient string) ([]consent.Sperring, error) {
	return s.records.Search(ctx, patient)
}

// Delete implements httpapi.SperringService.
func (s *sperringService) Delete(ctx context.Context, id string) error {
	patient, err := s.records.Delete(ctx, id)
	if err != nil {
		return err
	}
	s.changed(ctx, patient)
	return nil
}

// registered takes a registration's patients to the caches: a new or
// replaced document may have changed what they may see. The documents'
// own codes (NORS) are read at every decision, so nothing waits for this:
// it is bounded to a second, so that a Redis outage does not hold up the
// EPJ's registrations.
func (s *sperringService) registered(ctx context.Context, patientIDs []string) {
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
func (s *sperringService) changed(ctx context.Context, patient string) {
	if err := s.resolver.Changed(ctx, patient); err != nil {
		s.log.Error("sperring change not written through to the cache; other instances may use the old records until their copies expire", "err", err)
	}
}

// auditRootKey returns KJDD_AUDIT_KEY, the root of kjdd's keyed hashes. In
// --dev without one, a key is created on first use in KJDD_DEV_KEYS and
// kept there (mode 0600), so that sperring records stay readable across
// restarts.
func auditRootKey(cfg config.Config, log *slog.Logger) ([]byte, error) {
	if cfg.AuditKey != "" {
		k, err := base64.StdEncoding.DecodeString(cfg.AuditKey)
		if err != nil || len(k) != 32 {
			return nil, errors.New("KJDD_AUDIT_KEY: must be base64 of exactly 32 bytes")
		}
		return k, nil
	}
	if !cfg.Dev {
		return nil, errors.New("KJDD_AUDIT_KEY: required")
	}
	path := filepath.Join(cfg.DevKeys, "audit-key")
	if b, err := os.ReadFile(path); err == nil {
		k, err := base64.StdEncoding.DecodeString(strings.TrimSpace(string(b)))
		if err != nil || len(k) != 32 {
			return nil, fmt.Errorf("development audit key %s: not base64 of 32 bytes", path)
		}
		return k, nil
	} else if !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("development audit key: %w", err)
	}
	k := make([]byte, 32)
	if _, err := rand.Read(k); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(cfg.DevKeys, 0o700); err != nil {
		return nil, fmt.Errorf("development keys: %w", err)
	}
	// Written whole to a temporary file, then linked into place, so that
	// a process starting at the same time never reads half a key.
	tmp, err := os.CreateTemp(cfg.DevKeys, ".audit-key-*")
	if err != nil {
		return nil, fmt.Errorf("development audit key: %w", err)
	}
	defer os.Remove(tmp.Name())
	_, werr := tmp.WriteString(base64.StdEncoding.EncodeToString(k) + "\n")
	if err := errors.Join(werr, tmp.Chmod(0o600), tmp.Close()); err != nil {
		return nil, fmt.Errorf("development audit key: %w", err)
	}
	if err := os.Link(tmp.Name(), path); errors.Is(err, os.ErrExist) {
		return auditRootKey(cfg, log) // another process was first: use its key
	} else if err != nil {
		return nil, fmt.Errorf("development audit key: %w", err)
	}
	log.Warn("created a development audit key; set KJDD_AUDIT_KEY outside --dev", "path", path)
	return k, nil
}
