package helseid

import (
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"kjdd/helseid/helseidtest"
)

// TestDPoPRefused is the table of refused DPoP uses. Tokens are
// valid; only the proof or the scheme is wrong.
func TestDPoPRefused(t *testing.T) {
	iss := helseidtest.NewIssuer(t)
	now := time.Now()
	type req struct {
		method, url, token string
		proofs             []string
		bearer             bool
	}
	tests := map[string]struct {
		build  func() req
		mode   DPoPMode
		kind   ErrorKind
		reason string
	}{
		"missing proof": {
			build: func() req { tok := iss.Token(); return req{"GET", testURL, tok, nil, false} },
			kind:  InvalidDPoPProof, reason: "exactly one DPoP header",
		},
		"two proofs": {
			build: func() req {
				tok := iss.Token()
				return req{"GET", testURL, tok, []string{iss.DPoPProof("GET", testURL, tok), iss.DPoPProof("GET", testURL, tok)}, false}
			},
			kind: InvalidDPoPProof, reason: "exactly one DPoP header",
		},
		"bearer scheme when DPoP is required": {
			build: func() req { tok := iss.Token(helseidtest.Unbound()); return req{"GET", testURL, tok, nil, true} },
			kind:  InvalidToken, reason: "bearer scheme",
		},
		"bound token sent as bearer when DPoP is optional": {
			build: func() req { tok := iss.Token(); return req{"GET", testURL, tok, nil, true} },
			mode:  DPoPOptional,
			kind:  InvalidToken, reason: "DPoP-bound token presented as bearer",
		},
		"unbound token with the DPoP scheme": {
			build: func() req {
				tok := iss.Token(helseidtest.Unbound())
				return req{"GET", testURL, tok, []string{iss.DPoPProof("GET", testURL, tok)}, false}
			},
			kind: InvalidToken, reason: "not DPoP-bound",
		},
		"wrong htm": {
			build: func() req {
				tok := iss.Token()
				return req{"GET", testURL, tok, []string{iss.DPoPProof("POST", testURL, tok)}, false}
			},
			kind: InvalidDPoPProof, reason: "htm",
		},
		"wrong htu path": {
			build: func() req {
				tok := iss.Token()
				return req{"GET", testURL, tok, []string{iss.DPoPProof("GET", "https://kjdd.test/api/v1/audit/events", tok)}, false}
			},
			kind: InvalidDPoPProof, reason: "htu",
		},
		"wrong htu host": {
			build: func() req {
				tok := iss.Token()
				return req{"GET", testURL, tok, []string{iss.DPoPProof("GET", "https://other.test/xds/registry", tok)}, false}
			},
			kind: InvalidDPoPProof, reason: "htu",
		},
		"htu over plain http for an https request": {
			build: func() req {
				tok := iss.Token()
				return req{"GET", testURL, tok, []string{iss.DPoPProof("GET", "http://kjdd.test/xds/registry", tok)}, false}
			},
			kind: InvalidDPoPProof, reason: "htu",
		},
		"wrong ath": {
			build: func() req {
				tok := iss.Token()
				return req{"GET", testURL, tok, []string{iss.DPoPProofWith("GET", testURL, tok, helseidtest.ProofClaim("ath", helseidtest.AccessTokenHash("another token")))}, false}
			},
			kind: InvalidDPoPProof, reason: "ath",
		},
		"no ath": {
			build: func() req {
				tok := iss.Token()
				return req{"GET", testURL, tok, []string{iss.DPoPProofWith("GET", testURL, tok, helseidtest.ProofClaim("ath", nil))}, false}
			},
			kind: InvalidDPoPProof, reason: "ath",
		},
		"proof key is not the token's cnf.jkt": {
			build: func() req {
				tok := iss.Token()
				return req{"GET", testURL, tok, []string{iss.DPoPProofWith("GET", testURL, tok, helseidtest.ProofKey(helseidtest.NewECKey()))}, false}
			},
			kind: InvalidDPoPProof, reason: "not the key the token is bound to",
		},
		"stale iat": {
			build: func() req {
				tok := iss.Token()
				return req{"GET", testURL, tok, []string{iss.DPoPProofWith("GET", testURL, tok, helseidtest.ProofIssuedAt(now.Add(-2*time.Minute)))}, false}
			},
			kind: InvalidDPoPProof, reason: "iat",
		},
		"iat in the future": {
			build: func() req {
				tok := iss.Token()
				return req{"GET", testURL, tok, []string{iss.DPoPProofWith("GET", testURL, tok, helseidtest.ProofIssuedAt(now.Add(time.Minute)))}, false}
			},
			kind: InvalidDPoPProof, reason: "iat",
		},
		"private key in jwk": {
			build: func() req {
				tok := iss.Token()
				return req{"GET", testURL, tok, []string{iss.DPoPProofWith("GET", testURL, tok, helseidtest.ProofWithPrivateJWK())}, false}
			},
			kind: InvalidDPoPProof, reason: "private key material",
		},
		"no jwk": {
			build: func() req {
				tok := iss.Token()
				return req{"GET", testURL, tok, []string{iss.DPoPProofWith("GET", testURL, tok, helseidtest.ProofHeader("jwk", map[string]any{}))}, false}
			},
			kind: InvalidDPoPProof, reason: "jwk",
		},
		"typ is not dpop+jwt": {
			build: func() req {
				tok := iss.Token()
				return req{"GET", testURL, tok, []string{iss.DPoPProofWith("GET", testURL, tok, helseidtest.ProofHeader("typ", "JWT"))}, false}
			},
			kind: InvalidDPoPProof, reason: "typ",
		},
		"HMAC alg in the proof": {
			build: func() req {
				tok := iss.Token()
				return req{"GET", testURL, tok, []string{iss.DPoPProofWith("GET", testURL, tok, helseidtest.ProofHeader("alg", "HS256"))}, false}
			},
			kind: InvalidDPoPProof, reason: "alg",
		},
		"no jti": {
			build: func() req {
				tok := iss.Token()
				return req{"GET", testURL, tok, []string{iss.DPoPProofWith("GET", testURL, tok, helseidtest.ProofClaim("jti", nil))}, false}
			},
			kind: InvalidDPoPProof, reason: "jti",
		},
		"iat as a string": {
			build: func() req {
				tok := iss.Token()
				return req{"GET", testURL, tok, []string{iss.DPoPProofWith("GET", testURL, tok, helseidtest.ProofClaim("iat", strconv.FormatInt(now.Unix(), 10)))}, false}
			},
			kind: InvalidDPoPProof, reason: "iat is not a NumericDate",
		},
		"the access token given as proof": {
			build: func() req { tok := iss.Token(); return req{"GET", testURL, tok, []string{tok}, false} },
			kind:  InvalidDPoPProof, reason: "typ",
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			v := newJWTValidator(t, iss, func(c *JWTConfig) {
				if tc.mode != "" {
					c.DPoP = tc.mode
				}
			})
			rq := tc.build()
			var r *http.Request
			if rq.bearer {
				r = bearerRequest(rq.method, rq.url, rq.token)
			} else {
				r = dpopRequest(rq.method, rq.url, rq.token, rq.proofs...)
			}
			_, err := v.Authenticate(testCtx, r)
			wantKind(t, err, tc.kind, tc.reason)
			ae, _ := AsAuthError(err)
			if !strings.HasPrefix(ae.WWWAuthenticate(), "DPoP ") || !strings.Contains(ae.WWWAuthenticate(), `algs="`) {
				t.Errorf("challenge %q lacks the DPoP scheme and algs", ae.WWWAuthenticate())
			}
		})
	}
}

func TestDPoPReplayRefusedInProcess(t *testing.T) {
	iss := helseidtest.NewIssuer(t)
	v := newJWTValidator(t, iss, nil)
	tok := iss.Token()
	proof := iss.DPoPProof("GET", testURL, tok)
	if _, err := v.Authenticate(testCtx, dpopRequest("GET", testURL, tok, proof)); err != nil {
		t.Fatal(err)
	}
	_, err := v.Authenticate(testCtx, dpopRequest("GET", testURL, tok, proof))
	wantKind(t, err, InvalidDPoPProof, "replayed")
	// A fresh proof for the same token is fine.
	if _, err := v.Authenticate(testCtx, dpopRequest("GET", testURL, tok, iss.DPoPProof("GET", testURL, tok))); err != nil {
		t.Fatal(err)
	}
}

// TestDPoPReplayToAnotherInstance shows the point of Redis: two kjdd
// instances, each with its own connection to a shared real Redis; a proof
// accepted by one is refused by the other.
func TestDPoPReplayToAnotherInstance(t *testing.T) {
	rc := startRedis(t)
	iss := helseidtest.NewIssuer(t)
	instanceA := newJWTValidator(t, iss, func(c *JWTConfig) { c.Replay = NewRedisReplayCache(rc, "") })
	instanceB := newJWTValidator(t, iss, func(c *JWTConfig) {
		c.Replay = NewRedisReplayCache(newRedisClientAddr(t, rc.Options().Addr), "")
	})
	tok := iss.Token()
	proof := iss.DPoPProof("POST", testURL, tok)
	if _, err := instanceA.Authenticate(testCtx, dpopRequest("POST", testURL, tok, proof)); err != nil {
		t.Fatal(err)
	}
	_, err := instanceB.Authenticate(testCtx, dpopRequest("POST", testURL, tok, proof))
	wantKind(t, err, InvalidDPoPProof, "replayed")
}

func TestDPoPRedisDownFailsClosed(t *testing.T) {
	iss := helseidtest.NewIssuer(t)
	down := newRedisClient(closedPort(t))
	t.Cleanup(func() { _ = down.Close() })
	v := newJWTValidator(t, iss, func(c *JWTConfig) { c.Replay = NewRedisReplayCache(down, "") })
	tok := iss.Token()
	_, err := v.Authenticate(testCtx, dpopRequest("GET", testURL, tok, iss.DPoPProof("GET", testURL, tok)))
	wantKind(t, err, Unavailable, "replay cache")
}

func TestDPoPHTUBehindProxy(t *testing.T) {
	iss := helseidtest.NewIssuer(t)
	v := newJWTValidator(t, iss, func(c *JWTConfig) { c.PublicURL = "https://kjdd.example.no/gw/" })
	tok := iss.Token()
	// The proxy forwards http://10.0.0.5/xds/registry; the client signed
	// the public URL.
	r := dpopRequest("GET", "http://10.0.0.5/xds/registry", tok, iss.DPoPProof("GET", "https://KJDD.example.no:443/gw/xds/registry", tok))
	if _, err := v.Authenticate(testCtx, r); err != nil {
		t.Fatal(err)
	}
}

func TestNormalizeHTU(t *testing.T) {
	tests := map[string]struct{ in, want string }{
		"query and fragment dropped": {"https://kjdd.test/xds?a=b#frag", "https://kjdd.test/xds"},
		"case of scheme and host":    {"HTTPS://KJDD.Test/Xds", "https://kjdd.test/Xds"},
		"default https port":         {"https://kjdd.test:443/x", "https://kjdd.test/x"},
		"default http port":          {"http://kjdd.test:80/x", "http://kjdd.test/x"},
		"other port kept":            {"https://kjdd.test:8443/x", "https://kjdd.test:8443/x"},
		"empty path":                 {"https://kjdd.test", "https://kjdd.test/"},
		"ipv6 host":                  {"http://[::1]:8080/x", "http://[::1]:8080/x"},
		"percent-encoded unreserved": {"https://kjdd.test/%7Ex", "https://kjdd.test/~x"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got, err := normalizeHTU(tc.in)
			if err != nil || got != tc.want {
				t.Fatalf("normalizeHTU(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
			}
		})
	}
	for _, bad := range []string{"ftp://kjdd.test/x", "/relative", "https://", ":"} {
		if _, err := normalizeHTU(bad); err == nil {
			t.Errorf("normalizeHTU(%q) accepted", bad)
		}
	}
}

func TestParseDPoPMode(t *testing.T) {
	for in, want := range map[string]DPoPMode{"required": DPoPRequired, "Optional": DPoPOptional, " required ": DPoPRequired} {
		if got, err := ParseDPoPMode(in); err != nil || got != want {
			t.Errorf("ParseDPoPMode(%q) = %q, %v", in, got, err)
		}
	}
	for _, bad := range []string{"", "off", "yes"} {
		if _, err := ParseDPoPMode(bad); err == nil {
			t.Errorf("ParseDPoPMode(%q) accepted", bad)
		}
	}
}

// TestDPoPHTUIsThePublicURL: behind a TLS-terminating proxy the request
// reaches kjdd over plain http with the proxy's (or the caller's) Host;
// the proof is compared with the configured public URL alone. A proof for
// the public https URL is accepted whatever Host says; a proof naming the
// Host header's host, or a host the caller put in Host, is refused.
func TestDPoPHTUIsThePublicURL(t *testing.T) {
	iss := helseidtest.NewIssuer(t)
	const public = "https://kjdd.sykehus.no"
	v := newJWTValidator(t, iss, func(c *JWTConfig) { c.PublicURL = public })
	type tc struct {
		target, host, htu string
		ok                bool
	}
	cases := map[string]tc{
		"public https URL, request over http from the proxy": {"http://10.0.0.5:8080/xds/registry", "10.0.0.5:8080", public + "/xds/registry", true},
		"public URL, the proxy passes the public Host":       {"http://kjdd.sykehus.no/xds/registry", "kjdd.sykehus.no", public + "/xds/registry", true},
		"public URL with query, case and default port":       {"http://10.0.0.5/xds/registry?x=1", "10.0.0.5", "HTTPS://Kjdd.Sykehus.NO:443/xds/registry?x=2#f", true},
		"proof for the Host header's host":                   {"http://10.0.0.5:8080/xds/registry", "10.0.0.5:8080", "http://10.0.0.5:8080/xds/registry", false},
		"proof for the Host header's host over https":        {"https://10.0.0.5/xds/registry", "10.0.0.5", "https://10.0.0.5/xds/registry", false},
		"Host spoofed to the proof's host":                   {"http://10.0.0.5/xds/registry", "evil.example", "https://evil.example/xds/registry", false},
		"Host spoofed, plain http proof":                     {"http://10.0.0.5/xds/registry", "evil.example", "http://evil.example/xds/registry", false},
		"public host over http":                              {"http://10.0.0.5/xds/registry", "kjdd.sykehus.no", "http://kjdd.sykehus.no/xds/registry", false},
		"public host, another port":                          {"http://10.0.0.5/xds/registry", "kjdd.sykehus.no:8443", "https://kjdd.sykehus.no:8443/xds/registry", false},
		"public URL, another path":                           {"http://10.0.0.5/xds/registry", "10.0.0.5", public + "/xds/repository", false},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			tok := iss.Token()
			r := dpopRequest("POST", c.target, tok, iss.DPoPProof("POST", c.htu, tok))
			r.Host = c.host
			_, err := v.Authenticate(testCtx, r)
			if c.ok {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			wantKind(t, err, InvalidDPoPProof, "htu differs from the request URL")
		})
	}
}

// TestDPoPWithoutPublicURLRefused: with DPoP optional and no public URL
// there is nothing trustworthy to compare htu with, so every proof is
// refused (a bearer token still works); the request's own URL is not
// used in its place.
func TestDPoPWithoutPublicURLRefused(t *testing.T) {
	iss := helseidtest.NewIssuer(t)
	v := newJWTValidator(t, iss, func(c *JWTConfig) { c.PublicURL, c.DPoP = "", DPoPOptional })
	tok := iss.Token()
	_, err := v.Authenticate(testCtx, dpopRequest("GET", testURL, tok, iss.DPoPProof("GET", testURL, tok)))
	wantKind(t, err, InvalidDPoPProof, "no public URL is configured")
	if _, err := v.Authenticate(testCtx, bearerRequest("GET", testURL, iss.Token(helseidtest.Unbound()))); err != nil {
		t.Fatalf("bearer token refused: %v", err)
	}
}
