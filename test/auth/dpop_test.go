package auth

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"kjdd/helseid/helseidtest"
	"kjdd/test/internal/harness"
	"kjdd/test/internal/redistest"
)

// TestDPoPProofRefused sends a valid practitioner token with each broken
// proof to the registry (ITI-18); each is refused before anything is
// read.
func TestDPoPProofRefused(t *testing.T) {
	srv := start(t, nil, nil)
	iss := srv.Identity().Issuer
	path := harness.PathRegistry
	url := srv.URL + path
	tests := map[string]struct {
		header func(token string) http.Header
		reason string
	}{
		"proof missing": {reason: "want exactly one DPoP header",
			header: func(tok string) http.Header { return http.Header{"Authorization": {"DPoP " + tok}} }},
		"two proofs": {reason: "want exactly one DPoP header",
			header: func(tok string) http.Header {
				h := dpopHeader(srv, path, tok)
				h["Dpop"] = append(h["Dpop"], iss.DPoPProof(http.MethodPost, url, tok))
				return h
			}},
		"wrong htm": {reason: "htm differs",
			header: func(tok string) http.Header {
				return dpopHeader(srv, path, tok, helseidtest.ProofClaim("htm", http.MethodGet))
			}},
		"wrong htu path": {reason: "htu differs",
			header: func(tok string) http.Header {
				return dpopHeader(srv, path, tok, helseidtest.ProofClaim("htu", srv.URL+harness.PathRepository))
			}},
		"wrong htu host": {reason: "htu differs",
			header: func(tok string) http.Header {
				return dpopHeader(srv, path, tok, helseidtest.ProofClaim("htu", "https://kjdd.example.org"+path))
			}},
		"wrong ath": {reason: "ath does not match",
			header: func(tok string) http.Header {
				return dpopHeader(srv, path, tok, helseidtest.ProofClaim("ath", helseidtest.AccessTokenHash(tok+"x")))
			}},
		"no ath": {reason: "ath does not match",
			header: func(tok string) http.Header { return dpopHeader(srv, path, tok, helseidtest.ProofClaim("ath", nil)) }},
		"key other than cnf.jkt": {reason: "not the key the token is bound to",
			header: func(tok string) http.Header {
				return dpopHeader(srv, path, tok, helseidtest.ProofKey(helseidtest.NewECKey()))
			}},
		"stale iat": {reason: "iat outside the accepted window",
			header: func(tok string) http.Header {
				return dpopHeader(srv, path, tok, helseidtest.ProofIssuedAt(time.Now().Add(-5*time.Minute)))
			}},
		"iat in the future": {reason: "iat outside the accepted window",
			header: func(tok string) http.Header {
				return dpopHeader(srv, path, tok, helseidtest.ProofIssuedAt(time.Now().Add(5*time.Minute)))
			}},
		"private key in jwk": {reason: "private key material",
			header: func(tok string) http.Header { return dpopHeader(srv, path, tok, helseidtest.ProofWithPrivateJWK()) }},
		"typ not dpop+jwt": {reason: "typ is not dpop+jwt",
			header: func(tok string) http.Header { return dpopHeader(srv, path, tok, helseidtest.ProofHeader("typ", "JWT")) }},
		"bound token as bearer": {reason: "bearer scheme used where DPoP is required",
			header: func(tok string) http.Header { return http.Header{"Authorization": {"Bearer " + tok}} }},
	}
	var patients []string
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			patient := harness.CX(newFNR(t))
			patients = append(patients, patient)
			defer wantLogged(t, srv, tc.reason)()
			tok := iss.Token()
			resp := bareView(srv, tc.header(tok)).SOAP(t, path, harness.Envelope(harness.ActionStoredQuery, findDocuments(patient)), harness.ContentTypeSOAP)
			wantRefused(t, resp, "FailedAuthentication", patient[:11])
		})
	}
	t.Run("control: the same token with a valid proof", func(t *testing.T) {
		tok := iss.Token()
		resp := bareView(srv, dpopHeader(srv, path, tok)).SOAP(t, path, harness.Envelope(harness.ActionStoredQuery, findDocuments(harness.CX(newFNR(t)))), harness.ContentTypeSOAP)
		if f := resp.Fault(); f != nil {
			t.Fatalf("valid proof refused: %s", f)
		}
	})
	wantNoNationalIDs(t, srv, patients...)
}

// TestDPoPReplayAcrossInstances: two kjdd instances share one Redis (a
// real redis-server) as their DPoP replay cache. A proof accepted by one is
// refused by the other, and by the first again; a refused replay of a
// registration stores nothing.
func TestDPoPReplayAcrossInstances(t *testing.T) {
	redis := redistest.New(t)
	id := harness.NewIdentity(t)
	env := map[string]string{"KJDD_REDIS_URL": redis.URL()}
	a := start(t, id, env)
	b := start(t, id, env)
	iss := id.Issuer

	t.Run("query", func(t *testing.T) {
		patient := harness.CX(newFNR(t))
		tok := iss.Token()
		path := harness.PathRegistry
		body := harness.Envelope(harness.ActionStoredQuery, findDocuments(patient))
		// The same proof twice at one instance.
		proof := iss.DPoPProof(http.MethodPost, a.URL+path, tok)
		h := http.Header{"Authorization": {"DPoP " + tok}, "Dpop": {proof}}
		if f := bareView(a, h).SOAP(t, path, body, harness.ContentTypeSOAP).Fault(); f != nil {
			t.Fatalf("first use refused: %s", f)
		}
		defer wantLogged(t, a, "DPoP proof replayed")()
		wantRefused(t, bareView(a, h).SOAP(t, path, body, harness.ContentTypeSOAP), "FailedAuthentication", patient[:11])

		// A proof id used at the first instance, in a proof for the second
		// one's URL: a replay to another instance.
		jti := "replayed-" + newDocUID(t)
		first := iss.DPoPProofWith(http.MethodPost, a.URL+path, tok, helseidtest.ProofClaim("jti", jti))
		second := iss.DPoPProofWith(http.MethodPost, b.URL+path, tok, helseidtest.ProofClaim("jti", jti))
		if f := bareView(a, http.Header{"Authorization": {"DPoP " + tok}, "Dpop": {first}}).SOAP(t, path, body, harness.ContentTypeSOAP).Fault(); f != nil {
			t.Fatalf("first use refused: %s", f)
		}
		defer wantLogged(t, b, "DPoP proof replayed")()
		wantRefused(t, bareView(b, http.Header{"Authorization": {"DPoP " + tok}, "Dpop": {second}}).SOAP(t, path, body, harness.ContentTypeSOAP),
			"FailedAuthentication", patient[:11])
	})

	t.Run("registration replayed to the other instance stores nothing", func(t *testing.T) {
		patient := harness.CX(newFNR(t))
		tok := id.ClientToken()
		path := harness.PathRepository
		jti := "replayed-" + newDocUID(t)
		body, ct := provideAndRegister(t, patient, newDocUID(t))
		h := func(srv *harness.Server) http.Header {
			return http.Header{"Authorization": {"DPoP " + tok},
				"Dpop": {iss.DPoPProofWith(http.MethodPost, srv.URL+path, tok, helseidtest.ProofClaim("jti", jti))}}
		}
		resp := bareView(a, h(a)).SOAP(t, path, body, ct)
		if f := resp.Fault(); f != nil || resp.Status() != "urn:oasis:names:tc:ebxml-regrep:ResponseStatusType:Success" {
			t.Fatalf("first registration: fault %v status %s %v", f, resp.Status(), resp.RegistryErrors())
		}
		// Another document for the same patient, with the used proof id.
		body2, ct2 := provideAndRegister(t, patient, newDocUID(t))
		wantRefused(t, bareView(b, h(b)).SOAP(t, path, body2, ct2), "FailedAuthentication", patient[:11])
		// Each test instance has its own SQLite store (a deployment shares
		// PostgreSQL): the first holds the first registration, the second
		// nothing.
		if n := documentsOf(t, a, patient); n != 1 {
			t.Errorf("first instance: patient has %d documents, want 1", n)
		}
		if n := documentsOf(t, b, patient); n != 0 {
			t.Errorf("second instance: the refused replay stored %d documents", n)
		}
	})

	t.Run("control: without the shared cache the same proof id passes elsewhere", func(t *testing.T) {
		// A third instance with its own in-process cache does not know the
		// id: the refusal above came from the shared Redis.
		c := start(t, id, nil)
		tok := iss.Token()
		path := harness.PathRegistry
		jti := "replayed-" + newDocUID(t)
		body := harness.Envelope(harness.ActionStoredQuery, findDocuments(harness.CX(newFNR(t))))
		for _, srv := range []*harness.Server{a, c} {
			p := iss.DPoPProofWith(http.MethodPost, srv.URL+path, tok, helseidtest.ProofClaim("jti", jti))
			if f := bareView(srv, http.Header{"Authorization": {"DPoP " + tok}, "Dpop": {p}}).SOAP(t, path, body, harness.ContentTypeSOAP).Fault(); f != nil {
				t.Fatalf("%s refused a proof id it had not seen: %s", srv.URL, f)
			}
		}
	})
}

// TestDPoPBehindTLSProxy runs kjdd as it runs behind a TLS-terminating
// proxy: its clients call https://kjdd.sykehus.no (KJDD_PUBLIC_URL), the
// proxy reaches kjdd over plain http on loopback. A proof for the public
// https URL is accepted; a proof for the URL the request arrived at (the
// Host header's host) is refused, and so is a proof for whatever host the
// caller writes into Host.
func TestDPoPBehindTLSProxy(t *testing.T) {
	const public = "https://kjdd.sykehus.no"
	srv := start(t, nil, map[string]string{"KJDD_PUBLIC_URL": public})
	id := srv.Identity()
	path := pathSperringSearch
	send := func(t *testing.T, host, htu string) int {
		t.Helper()
		tok := id.ClientToken()
		body := strings.NewReader(`{"patient": "` + newFNR(t) + `"}`)
		req, err := http.NewRequest(http.MethodPost, srv.URL+path, body)
		if err != nil {
			t.Fatal(err)
		}
		if host != "" {
			req.Host = host
		}
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "DPoP "+tok)
		req.Header.Set("DPoP", id.Issuer.DPoPProof(http.MethodPost, htu, tok))
		resp, err := srv.Client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		_ = resp.Body.Close()
		return resp.StatusCode
	}
	t.Run("proof for the public https URL", func(t *testing.T) {
		if got := send(t, "", public+path); got != http.StatusOK {
			t.Fatalf("HTTP %d, want 200", got)
		}
	})
	t.Run("proof for the public URL, the proxy's Host passed on", func(t *testing.T) {
		if got := send(t, "kjdd.sykehus.no", public+path); got != http.StatusOK {
			t.Fatalf("HTTP %d, want 200", got)
		}
	})
	refused := map[string]struct{ host, htu string }{
		"proof for the Host header's URL":         {"", srv.URL + path},
		"Host spoofed to the proof's host":        {"evil.example", "http://evil.example" + path},
		"Host spoofed to the proof's host, https": {"evil.example", "https://evil.example" + path},
		"public host over plain http":             {"kjdd.sykehus.no", "http://kjdd.sykehus.no" + path},
		"public host in Host, proof for loopback": {"kjdd.sykehus.no", srv.URL + path},
	}
	const reason = "DPoP htu differs from the request URL"
	for name, tc := range refused {
		t.Run(name, func(t *testing.T) {
			before := strings.Count(srv.Logs(), reason)
			if got := send(t, tc.host, tc.htu); got != http.StatusUnauthorized {
				t.Fatalf("HTTP %d, want 401", got)
			}
			// The refusal is logged as the handler returns, which may be
			// just after the answer reached the client.
			for deadline := time.Now().Add(5 * time.Second); strings.Count(srv.Logs(), reason) <= before; time.Sleep(10 * time.Millisecond) {
				if time.Now().After(deadline) {
					t.Fatalf("kjdd did not log the refusal reason %q", reason)
				}
			}
		})
	}
	wantNoNationalIDs(t, srv)
}
