package auth

import (
	"testing"
	"time"

	"kjdd/helseid/helseidtest"
	"kjdd/test/internal/harness"
)

// minRefresh is kjdd's limit on refetching the JWKS for an unknown key id
// (helseid.HTTPKeySourceConfig.MinRefreshInterval's default), plus margin.
const minRefresh = 31 * time.Second

// TestKeyRotation rotates the issuer's signing key mid-test, dropping the
// old one, as HelseID does when a key is withdrawn. A token signed with the
// new key is accepted once kjdd may refetch the key set (an unknown kid
// triggers it, at most once per interval); from then on a token signed
// with the withdrawn key is refused. Made-up key ids do not make kjdd
// hammer the issuer.
func TestKeyRotation(t *testing.T) {
	t.Parallel() // mostly waiting out the refetch interval
	srv := start(t, nil, nil)
	started := time.Now()
	id := srv.Identity()
	iss := id.Issuer
	path := harness.PathRegistry
	ask := func(t *testing.T, token string) *harness.Response {
		t.Helper()
		return bareView(srv, dpopHeader(srv, path, token)).SOAP(t, path, harness.Envelope(harness.ActionStoredQuery, findDocuments(harness.CX(newFNR(t)))), harness.ContentTypeSOAP)
	}

	oldKid := iss.KeyID()
	old := iss.Token()
	if f := ask(t, old).Fault(); f != nil {
		t.Fatalf("token of the current key refused: %s", f)
	}

	newKid := iss.Rotate(false)
	if newKid == oldKid {
		t.Fatal("rotation kept the key id")
	}
	fresh := iss.Token()
	if h := jwtHeader(t, fresh); h != newKid {
		t.Fatalf("new token names kid %q, want %q", h, newKid)
	}

	t.Run("made-up key ids are refused without refetching", func(t *testing.T) {
		fetched := iss.JWKSRequests()
		for range 5 {
			wantRefused(t, ask(t, iss.Token(helseidtest.Header("kid", "made-up-"+newDocUID(t)))), "FailedAuthentication")
		}
		// The start's fetch is younger than the interval: at most one more.
		if n := iss.JWKSRequests() - fetched; n > 1 {
			t.Errorf("%d JWKS fetches for 5 unknown key ids, want at most 1", n)
		}
	})

	// Wait out the refetch interval since the last fetch (at start, or the
	// one the made-up ids may have caused just after).
	time.Sleep(time.Until(started.Add(minRefresh + 5*time.Second)))

	t.Run("token of the new key is accepted after a refetch", func(t *testing.T) {
		fetched := iss.JWKSRequests()
		if f := ask(t, fresh).Fault(); f != nil {
			t.Fatalf("token of the rotated-in key refused: %s", f)
		}
		if iss.JWKSRequests() <= fetched {
			t.Error("accepted without refetching the key set")
		}
	})
	t.Run("token of the withdrawn key is refused", func(t *testing.T) {
		defer wantLogged(t, srv, "unknown kid")()
		wantRefused(t, ask(t, old), "FailedAuthentication")
	})
	t.Run("assertions still verify: SAML trust followed the refetch", func(t *testing.T) {
		patient := harness.CX(newFNR(t))
		resp := srv.With(harness.AuthNone).SOAP(t, harness.PathXCA, harness.Envelope(harness.ActionCrossGatewayQuery, findDocuments(patient),
			harness.WithHeader(id.Security(patient))), harness.ContentTypeSOAP)
		if f := resp.Fault(); f != nil {
			t.Fatalf("assertion refused after the rotation: %s", f)
		}
	})
}

// jwtHeader returns the kid of a compact JWS's header.
func jwtHeader(t *testing.T, token string) string {
	t.Helper()
	h := decodeSegment(t, token, 0)
	kid, _ := h["kid"].(string)
	return kid
}
