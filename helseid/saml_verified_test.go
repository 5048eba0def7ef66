package helseid

import (
	"context"
	"crypto/x509"
	"sync"
	"testing"
	"time"

	"kjdd/helseid/helseidtest"
)

// switchableTrust is a trust set a test can change between requests.
type switchableTrust struct {
	mu    sync.Mutex
	certs []*x509.Certificate
}

func (s *switchableTrust) Certificates(context.Context) ([]*x509.Certificate, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.certs, nil
}

func (s *switchableTrust) set(c []*x509.Certificate) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.certs = c
}

// TestSAMLVerifiedAssertionReuse: an assertion is verified once and then
// reused, but every rule that can change between requests is applied
// again: its lifetime, the trust set it verified under, and a single
// changed byte.
func TestSAMLVerifiedAssertionReuse(t *testing.T) {
	signer := helseidtest.NewSAMLSigner(t)
	other := helseidtest.NewSAMLSigner(t)
	start := time.Now().UTC().Truncate(time.Second)
	clock := start
	trust := &switchableTrust{certs: trusting(t, signer)}
	v := newSAMLValidator(t, trust, func(c *SAMLConfig) { c.Now = func() time.Time { return clock } })
	msg := signer.Security(helseidtest.XUAValidity(start.Add(-time.Minute), start.Add(10*time.Minute)))

	first, err := v.Authenticate(testCtx, securityOf(t, msg))
	if err != nil {
		t.Fatalf("first use: %v", err)
	}
	if n := len(v.verified.entries); n != 1 {
		t.Fatalf("%d verified assertions cached, want 1", n)
	}
	second, err := v.Authenticate(testCtx, securityOf(t, msg))
	if err != nil {
		t.Fatalf("reuse: %v", err)
	}
	if second == first || second.TokenID != first.TokenID || second.HPRNumber != first.HPRNumber {
		t.Fatalf("reuse gave %+v, want an equal copy of %+v", second, first)
	}
	second.Scopes = append(second.Scopes, "injected")
	if third, _ := v.Authenticate(testCtx, securityOf(t, msg)); third == nil || third.HasScope("injected") {
		t.Fatal("a caller's change to its Principal reached the cache")
	}

	t.Run("changed byte is verified afresh", func(t *testing.T) {
		wantKind(t, func() error {
			_, err := v.Authenticate(testCtx, securityOf(t, signer.Security(helseidtest.Tampered())))
			return err
		}(), FailedAuthentication, "")
	})
	t.Run("trust set without the signer", func(t *testing.T) {
		trust.set(trusting(t, other))
		defer trust.set(trusting(t, signer))
		_, err := v.Authenticate(testCtx, securityOf(t, msg))
		wantKind(t, err, FailedAuthentication, "signature does not verify")
	})
	t.Run("lifetime is checked on reuse", func(t *testing.T) {
		clock = start.Add(16 * time.Minute) // past NotOnOrAfter plus the 5 min skew
		defer func() { clock = start }()
		_, err := v.Authenticate(testCtx, securityOf(t, msg))
		wantKind(t, err, FailedAuthentication, "expired")
	})
	t.Run("reuse ends with the assertion", func(t *testing.T) {
		for _, e := range v.verified.entries {
			if want := start.Add(15 * time.Minute); e.until.After(want) {
				t.Fatalf("reused until %v, past the assertion's end plus skew %v", e.until, want)
			}
		}
	})
}

// TestVerifiedCacheBounded: distinct assertions never grow the cache past
// its bound.
func TestVerifiedCacheBounded(t *testing.T) {
	c := newVerifiedCache(3)
	until := time.Now().Add(time.Hour)
	for i := range 10 {
		c.put(verifiedKey([]byte{byte(i)}, nil), verifiedAssertion{principal: &Principal{}, until: until})
		if len(c.entries) > 3 {
			t.Fatalf("cache holds %d entries, bound 3", len(c.entries))
		}
	}
	k := verifiedKey([]byte("expired"), nil)
	c.put(k, verifiedAssertion{principal: &Principal{}, until: time.Now().Add(-time.Second)})
	if _, ok := c.get(k, time.Now()); ok {
		t.Fatal("an expired verification was reused")
	}
}
