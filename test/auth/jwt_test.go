package auth

import (
	"net/http"
	"strconv"
	"testing"
	"time"

	"kjdd/helseid/helseidtest"
	"kjdd/test/internal/harness"
)

// Claim names of HelseID access tokens the cases change.
const (
	claimSecurityLevel = "helseid://claims/identity/security_level"
	claimOrgNrParent   = "helseid://claims/client/claims/orgnr_parent"
)

// surface is where a token case is sent: a practitioner's query (ITI-18)
// or the EPJ's registration (ITI-41).
type surface int

const (
	query surface = iota
	registration
)

// TestAccessTokenRefused sends each unacceptable access token, with a
// valid DPoP proof for it, to the surface it targets. Every one is refused
// with a WS-Security fault; a refused registration stores nothing, which a
// follow-up authorised query shows (and a control registration with a
// valid token shows that query can see one).
func TestAccessTokenRefused(t *testing.T) {
	srv := start(t, nil, nil)
	id := srv.Identity()
	client := func(opts ...helseidtest.TokenOption) string {
		return id.ClientToken(append([]helseidtest.TokenOption{helseidtest.Claim(claimOrgNrParent, harness.HospitalOrgNumber)}, opts...)...)
	}
	user := id.UserToken
	anyToken := func(s surface, opts ...helseidtest.TokenOption) string {
		if s == registration {
			return client(opts...)
		}
		return user(opts...)
	}
	now := time.Now()
	generic := map[string]struct {
		opts    []helseidtest.TokenOption
		subcode string
		reason  string // what the log says
	}{
		"alg none":                         {opts: []helseidtest.TokenOption{helseidtest.AlgNone()}, subcode: "FailedAuthentication", reason: "not allowed"},
		"HS256 signed with the public key": {opts: []helseidtest.TokenOption{helseidtest.HS256WithPublicKey()}, subcode: "FailedAuthentication", reason: "not allowed"},
		"unknown kid":                      {opts: []helseidtest.TokenOption{helseidtest.Header("kid", "no-such-key")}, subcode: "FailedAuthentication", reason: "unknown kid"},
		"expired":                          {opts: []helseidtest.TokenOption{helseidtest.At(now.Add(-time.Hour))}, subcode: "FailedAuthentication", reason: "access token expired"},
		"nbf in the future":                {opts: []helseidtest.TokenOption{helseidtest.Claim("nbf", now.Add(time.Hour).Unix())}, subcode: "FailedAuthentication", reason: "not yet valid"},
		"wrong iss":                        {opts: []helseidtest.TokenOption{helseidtest.Claim("iss", "https://helseid-sts.nhn.no")}, subcode: "FailedAuthentication", reason: "issuer mismatch"},
		"wrong aud":                        {opts: []helseidtest.TokenOption{helseidtest.Claim("aud", "nhn:someone-else")}, subcode: "FailedAuthentication", reason: "audience is not exactly ours"},
		"extra aud":                        {opts: []helseidtest.TokenOption{helseidtest.Claim("aud", []string{helseidtest.DefaultAudience, "nhn:someone-else"})}, subcode: "FailedAuthentication", reason: "audience is not exactly ours"},
		"typ of an id token":               {opts: []helseidtest.TokenOption{helseidtest.Header("typ", "id+jwt")}, subcode: "FailedAuthentication", reason: "typ is neither"},
		"exp as a string":                  {opts: []helseidtest.TokenOption{helseidtest.Claim("exp", strconv.FormatInt(now.Add(5*time.Minute).Unix(), 10))}, subcode: "FailedAuthentication", reason: "exp is not a NumericDate"},
		"iat as an object":                 {opts: []helseidtest.TokenOption{helseidtest.Claim("iat", map[string]any{"t": now.Unix()})}, subcode: "FailedAuthentication", reason: "iat is not a NumericDate"},
		"ten-year lifetime":                {opts: []helseidtest.TokenOption{helseidtest.Lifetime(10 * 365 * 24 * time.Hour)}, subcode: "FailedAuthentication", reason: "exceeds the maximum 2h0m0s"},
		"nbf after exp within the leeway":  {opts: []helseidtest.TokenOption{helseidtest.Validity(4*time.Second, 3*time.Second)}, subcode: "FailedAuthentication", reason: "validity is inverted"},
	}
	type tokenCase struct {
		surface surface
		token   func() string
		subcode string
		reason  string
	}
	cases := map[string]tokenCase{}
	for name, g := range generic {
		for _, s := range []surface{query, registration} {
			label := "query/" + name
			if s == registration {
				label = "register/" + name
			}
			cases[label] = tokenCase{surface: s, token: func() string { return anyToken(s, g.opts...) }, subcode: g.subcode, reason: g.reason}
		}
	}
	specific := map[string]tokenCase{
		"query/missing read scope": {surface: query, subcode: "FailedAuthentication", reason: "missing scope",
			token: func() string { return user(helseidtest.Claim("scope", []string{harness.ScopeAudit})) }},
		"query/security level 3": {surface: query, subcode: "FailedAuthentication", reason: "security level 3 below 4",
			token: func() string { return user(helseidtest.Claim(claimSecurityLevel, "3")) }},
		"query/attest pid is not the token pid": {surface: query, subcode: "FailedAuthentication", reason: "attest practitioner is not the authenticated user",
			token: func() string { return user(helseidtest.AttestPractitioner("13116900216")) }},
		"query/no attest": {surface: query, subcode: "FailedAuthentication", reason: "no attest with a purpose of use",
			token: func() string { return user(helseidtest.Claim("nhn:tillitsrammeverk:parameters", nil)) }},
		"query/client token": {surface: query, subcode: "FailedAuthentication", reason: "a user token is required",
			token: func() string { return client() }},
		"query/token of another issuer": {surface: query, subcode: "FailedAuthentication", reason: "unknown kid",
			token: func() string { return helseidtest.NewIssuer(t).Token() }},
		"register/missing register scope": {surface: registration, subcode: "FailedAuthentication", reason: "missing scope",
			token: func() string { return client(helseidtest.Claim("scope", []string{harness.ScopeRead})) }},
		"register/another hospital's client": {surface: registration, subcode: "FailedAuthentication", reason: "not the expected legal entity",
			token: func() string { return client(helseidtest.Claim(claimOrgNrParent, "974633574")) }},
		"register/practitioner token": {surface: registration, subcode: "FailedAuthentication", reason: "a client-credentials token is required",
			token: func() string { return user() }},
	}
	for k, v := range specific {
		cases[k] = v
	}

	var refusedPatients []string
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			patient := harness.CX(newFNR(t))
			token := tc.token()
			defer wantLogged(t, srv, tc.reason)()
			if tc.surface == query {
				path := harness.PathRegistry
				resp := bareView(srv, dpopHeader(srv, path, token)).SOAP(t, path, harness.Envelope(harness.ActionStoredQuery, findDocuments(patient)), harness.ContentTypeSOAP)
				wantRefused(t, resp, tc.subcode, patient[:11])
				return
			}
			path := harness.PathRepository
			body, ct := provideAndRegister(t, patient, newDocUID(t))
			resp := bareView(srv, dpopHeader(srv, path, token)).SOAP(t, path, body, ct)
			wantRefused(t, resp, tc.subcode, patient[:11])
			if n := documentsOf(t, srv, patient); n != 0 {
				t.Fatalf("the refused registration stored %d documents", n)
			}
			refusedPatients = append(refusedPatients, patient)
		})
	}

	t.Run("no credentials at all", func(t *testing.T) {
		patient := harness.CX(newFNR(t))
		for _, path := range []string{harness.PathRegistry, harness.PathRepository} {
			var resp *harness.Response
			if path == harness.PathRegistry {
				resp = bareView(srv, nil).SOAP(t, path, harness.Envelope(harness.ActionStoredQuery, findDocuments(patient)), harness.ContentTypeSOAP)
			} else {
				body, ct := provideAndRegister(t, patient, newDocUID(t))
				resp = bareView(srv, nil).SOAP(t, path, body, ct)
			}
			wantRefused(t, resp, "InvalidSecurity", patient[:11])
		}
		if n := documentsOf(t, srv, patient); n != 0 {
			t.Fatalf("the refused registration stored %d documents", n)
		}
	})
	t.Run("bearer scheme where DPoP is required", func(t *testing.T) {
		path := harness.PathRegistry
		resp := bareView(srv, http.Header{"Authorization": {"Bearer " + user(helseidtest.Unbound())}}).
			SOAP(t, path, harness.Envelope(harness.ActionStoredQuery, findDocuments(harness.CX(newFNR(t)))), harness.ContentTypeSOAP)
		wantRefused(t, resp, "FailedAuthentication")
	})

	// Control: the same request with a valid token is accepted and seen.
	t.Run("control: a valid registration is stored and seen", func(t *testing.T) {
		patient := harness.CX(newFNR(t))
		path := harness.PathRepository
		body, ct := provideAndRegister(t, patient, newDocUID(t))
		resp := bareView(srv, dpopHeader(srv, path, client())).SOAP(t, path, body, ct)
		if f := resp.Fault(); f != nil || resp.Status() != "urn:oasis:names:tc:ebxml-regrep:ResponseStatusType:Success" {
			t.Fatalf("valid registration: fault %v status %s %v", f, resp.Status(), resp.RegistryErrors())
		}
		if n := documentsOf(t, srv, patient); n != 1 {
			t.Fatalf("patient has %d documents after a valid registration, want 1", n)
		}
	})
	if len(refusedPatients) == 0 && !t.Failed() {
		t.Fatal("no registration case ran")
	}
	wantNoNationalIDs(t, srv, refusedPatients...)
}
