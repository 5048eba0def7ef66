package helseid

import (
	"context"
	"crypto"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/lestrrat-go/jwx/v3/cert"
	"github.com/lestrrat-go/jwx/v3/jwk"
)

// maxMetadataBytes bounds discovery and JWKS documents; HelseID's are a few
// kilobytes, so anything near this is not a key set.
const maxMetadataBytes = 1 << 20

// HTTPKeySourceConfig configures an HTTPKeySource. Zero durations take the
// defaults documented on each field.
type HTTPKeySourceConfig struct {
	// Issuer is the OpenID issuer, e.g. https://helseid-sts.test.nhn.no.
	// Discovery is read from Issuer + "/.well-known/openid-configuration"
	// and its "issuer" must equal Issuer exactly.
	Issuer string
	// Client makes the requests; default: a client with a 10 s timeout.
	Client *http.Client
	// MinRefreshInterval limits refetching on an unknown key id (or after a
	// failed fetch) to once per interval, so that tokens with made-up key
	// ids cannot make kjdd hammer the issuer. Default 30 s.
	MinRefreshInterval time.Duration
	// RefreshInterval is how old the key set may get before it is fetched
	// again on use, so removed (rotated-out) keys stop being trusted.
	// Default 1 h.
	RefreshInterval time.Duration
	// MaxStale is how long an old key set is still used while the issuer
	// cannot be reached; after that, validation fails closed. Default 24 h.
	MaxStale time.Duration
	// Now is the clock; default time.Now.
	Now func() time.Time
}

// HTTPKeySource is a KeySource that reads an issuer's JWKS through OpenID
// discovery, caches it, refetches it when a token names an unknown key id
// (rate-limited) and when it gets old. It is safe for concurrent use.
type HTTPKeySource struct {
	cfg HTTPKeySourceConfig

	fetchMu sync.Mutex // one fetch at a time

	mu          sync.RWMutex
	keys        jwk.Set
	certs       []*x509.Certificate
	fetchedAt   time.Time
	lastAttempt time.Time
	lastErr     error
}

// NewHTTPKeySource checks cfg and returns a key source. It does no I/O;
// call Refresh to load the keys at start.
func NewHTTPKeySource(cfg HTTPKeySourceConfig) (*HTTPKeySource, error) {
	if err := CheckIssuerURL(cfg.Issuer); err != nil {
		return nil, err
	}
	if cfg.Client == nil {
		cfg.Client = &http.Client{
			Timeout: 10 * time.Second,
			// A redirect must not lead from https to plain http.
			CheckRedirect: func(req *http.Request, via []*http.Request) error {
				if len(via) >= 5 {
					return errors.New("too many redirects")
				}
				return CheckIssuerURL(req.URL.String())
			},
		}
	}
	if cfg.MinRefreshInterval <= 0 {
		cfg.MinRefreshInterval = 30 * time.Second
	}
	if cfg.RefreshInterval <= 0 {
		cfg.RefreshInterval = time.Hour
	}
	if cfg.MaxStale <= 0 {
		cfg.MaxStale = 24 * time.Hour
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &HTTPKeySource{cfg: cfg}, nil
}

// Issuer returns the issuer this source reads keys for.
func (s *HTTPKeySource) Issuer() string { return s.cfg.Issuer }

// Key implements KeySource.
func (s *HTTPKeySource) Key(ctx context.Context, kid string) (jwk.Key, error) {
	if kid == "" {
		return nil, ErrUnknownKey
	}
	keys, _, err := s.current(ctx)
	if err != nil {
		return nil, err
	}
	if k, ok := keys.LookupKeyID(kid); ok {
		return k, nil
	}
	// An unknown kid is how a key rotation shows up: refetch, but at most
	// once per MinRefreshInterval.
	keys, err = s.refresh(ctx, false)
	if err != nil {
		return nil, err
	}
	if k, ok := keys.LookupKeyID(kid); ok {
		return k, nil
	}
	return nil, ErrUnknownKey
}

// Certificates implements CertificateSource: the x5c leaf certificates of
// the issuer's keys, each checked to carry the key it is listed with.
func (s *HTTPKeySource) Certificates(ctx context.Context) ([]*x509.Certificate, error) {
	_, certs, err := s.current(ctx)
	return certs, err
}

// Ready reports whether usable keys are at hand, fetching them if there
// are none or they are due; for readiness checks, which must not force a
// fetch on every probe.
func (s *HTTPKeySource) Ready(ctx context.Context) error {
	_, _, err := s.current(ctx)
	return err
}

// Refresh fetches discovery and keys now, regardless of the rate limit. Use
// it at start and from readiness checks.
func (s *HTTPKeySource) Refresh(ctx context.Context) error {
	_, err := s.refresh(ctx, true)
	return err
}

// current returns the cached keys, fetching them when there are none yet or
// they are older than RefreshInterval.
func (s *HTTPKeySource) current(ctx context.Context) (jwk.Set, []*x509.Certificate, error) {
	s.mu.RLock()
	keys, certs, fetchedAt := s.keys, s.certs, s.fetchedAt
	s.mu.RUnlock()
	if keys != nil && s.cfg.Now().Sub(fetchedAt) < s.cfg.RefreshInterval {
		return keys, certs, nil
	}
	if _, err := s.refresh(ctx, false); err != nil {
		return nil, nil, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.keys, s.certs, nil
}

// refresh fetches the key set unless one was fetched (or tried) less than
// MinRefreshInterval ago and force is false. A failed fetch keeps the old
// set while it is younger than MaxStale.
func (s *HTTPKeySource) refresh(ctx context.Context, force bool) (jwk.Set, error) {
	s.fetchMu.Lock()
	defer s.fetchMu.Unlock()

	now := s.cfg.Now()
	s.mu.RLock()
	keys, fetchedAt, lastAttempt, lastErr := s.keys, s.fetchedAt, s.lastAttempt, s.lastErr
	s.mu.RUnlock()

	if !force && !lastAttempt.IsZero() && now.Sub(lastAttempt) < s.cfg.MinRefreshInterval {
		return s.usable(keys, fetchedAt, now, lastErr)
	}

	newKeys, newCerts, err := s.fetch(ctx)
	s.mu.Lock()
	s.lastAttempt = now
	s.lastErr = err
	if err == nil {
		s.keys, s.certs, s.fetchedAt = newKeys, newCerts, now
	}
	s.mu.Unlock()
	if err == nil {
		return newKeys, nil
	}
	if force {
		return nil, err
	}
	return s.usable(keys, fetchedAt, now, err)
}

// usable returns keys if they are not too stale, else the fetch error.
func (s *HTTPKeySource) usable(keys jwk.Set, fetchedAt, now time.Time, fetchErr error) (jwk.Set, error) {
	if keys != nil && now.Sub(fetchedAt) < s.cfg.MaxStale {
		return keys, nil
	}
	if fetchErr == nil {
		fetchErr = errors.New("helseid: key set is stale")
	}
	return nil, fetchErr
}

type discoveryDocument struct {
	Issuer  string `json:"issuer"`
	JWKSURI string `json:"jwks_uri"`
}

func (s *HTTPKeySource) fetch(ctx context.Context) (jwk.Set, []*x509.Certificate, error) {
	discoveryURL := strings.TrimSuffix(s.cfg.Issuer, "/") + "/.well-known/openid-configuration"
	body, err := s.get(ctx, discoveryURL)
	if err != nil {
		return nil, nil, fmt.Errorf("helseid: discovery: %w", err)
	}
	var doc discoveryDocument
	if err := json.Unmarshal(body, &doc); err != nil {
		return nil, nil, fmt.Errorf("helseid: discovery document: %w", err)
	}
	if doc.Issuer != s.cfg.Issuer {
		return nil, nil, errors.New("helseid: discovery names another issuer")
	}
	if err := CheckIssuerURL(doc.JWKSURI); err != nil {
		return nil, nil, fmt.Errorf("helseid: jwks_uri: %w", err)
	}
	body, err = s.get(ctx, doc.JWKSURI)
	if err != nil {
		return nil, nil, fmt.Errorf("helseid: jwks: %w", err)
	}
	return parseJWKS(body)
}

func (s *HTTPKeySource) get(ctx context.Context, url string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "application/json")
	resp, err := s.cfg.Client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("status %d", resp.StatusCode)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxMetadataBytes+1))
	if err != nil {
		return nil, err
	}
	if len(body) > maxMetadataBytes {
		return nil, errors.New("document too large")
	}
	return body, nil
}

// parseJWKS keeps the public signing keys that have a key id, and the
// certificates of their x5c chains whose public key is the key itself. A
// private key in a JWKS is an issuer blunder that must not be trusted.
func parseJWKS(body []byte) (jwk.Set, []*x509.Certificate, error) {
	set, err := jwk.Parse(body)
	if err != nil {
		return nil, nil, fmt.Errorf("helseid: jwks: %w", err)
	}
	keys := jwk.NewSet()
	var certs []*x509.Certificate
	for i := range set.Len() {
		k, _ := set.Key(i)
		if use, ok := k.KeyUsage(); ok && use != "sig" {
			continue
		}
		if kid, ok := k.KeyID(); !ok || kid == "" {
			continue
		}
		if private, err := jwk.IsPrivateKey(k); err != nil || private {
			return nil, nil, errors.New("helseid: jwks holds a non-public key")
		}
		if err := keys.AddKey(k); err != nil {
			return nil, nil, err
		}
		if c := leafCertificate(k); c != nil {
			certs = append(certs, c)
		}
	}
	if keys.Len() == 0 {
		return nil, nil, errors.New("helseid: jwks has no usable signing key")
	}
	return keys, certs, nil
}

func leafCertificate(k jwk.Key) *x509.Certificate {
	chain, ok := k.X509CertChain()
	if !ok || chain.Len() == 0 {
		return nil
	}
	b64, _ := chain.Get(0)
	c, err := cert.Parse(b64)
	if err != nil {
		return nil
	}
	raw, err := jwk.PublicRawKeyOf(k)
	if err != nil {
		return nil
	}
	pub, ok := c.PublicKey.(interface{ Equal(crypto.PublicKey) bool })
	if !ok || !pub.Equal(raw) {
		return nil
	}
	return c
}

var _ KeySource = (*HTTPKeySource)(nil)
