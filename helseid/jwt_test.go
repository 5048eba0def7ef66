package helseid

import (
	"slices"
	"strconv"
	"testing"
	"time"

	"kjdd/helseid/helseidtest"
)

func TestJWTAcceptsPractitionerTokenWithDPoP(t *testing.T) {
	iss := helseidtest.NewIssuer(t)
	v := newJWTValidator(t, iss, nil)
	tok := iss.Token()
	// The request URL has a query; the proof's htu has none, as RFC 9449
	// wants, and they must still match.
	r := dpopRequest("GET", testURL+"?patient=x", tok, iss.DPoPProof("GET", testURL, tok))

	p, err := v.Authenticate(testCtx, r)
	if err != nil {
		t.Fatal(err)
	}
	checks := map[string]struct{ got, want any }{
		"kind":           {p.Kind, TokenJWTUser},
		"issuer":         {p.Issuer, iss.URL},
		"client":         {p.ClientID, helseidtest.DefaultClientID},
		"pid":            {p.PID, helseidtest.DefaultPractitionerID},
		"name":           {p.Name, helseidtest.DefaultPractitioner},
		"hpr":            {p.HPRNumber, helseidtest.DefaultHPRNumber},
		"level":          {p.SecurityLevel, 4},
		"authorization":  {p.Authorization, Code{Code: "LE", System: "urn:oid:2.16.578.1.12.4.1.1.9060", Display: "Lege"}},
		"legal entity":   {p.LegalEntity, Organization{ID: helseidtest.DefaultOrgNrParent, System: "urn:oid:2.16.578.1.12.4.1.4.101", Name: "VOSS HERAD"}},
		"point of care":  {p.PointOfCare.ID, helseidtest.DefaultOrgNrChild},
		"department":     {p.Department.System, "urn:oid:2.16.578.1.12.4.1.4.102"},
		"org parent":     {p.OrgNumbers.Parent, helseidtest.DefaultOrgNrParent},
		"org child":      {p.OrgNumbers.Child, helseidtest.DefaultOrgNrChild},
		"purpose":        {p.Purpose.Code, "TREAT"},
		"details":        {p.PurposeDetails.Code, "BEHANDLER"},
		"service":        {p.HealthcareService, Code{Code: "KP01", System: "urn:oid:2.16.578.1.12.4.1.1.8663", Display: "Legetjeneste ved sykehjem mv."}},
		"decision ref":   {p.DecisionRef.ID, helseidtest.DefaultDecisionRef},
		"user selected":  {p.DecisionRef.UserSelected != nil && *p.DecisionRef.UserSelected, true},
		"patient poc":    {p.PatientPointOfCare.ID, helseidtest.DefaultOrgNrChild},
		"attest":         {p.HasAttest, true},
		"thumbprint":     {p.KeyThumbprint, helseidtest.Thumbprint(&iss.ClientKey.PublicKey)},
		"scopes":         {slices.Equal(p.Scopes, helseidtest.DefaultScopes), true},
		"client name":    {p.ClientName, "kjdd test EPJ"},
		"expiry is set":  {p.ExpiresAt.After(time.Now()), true},
		"no patient":     {p.PatientID, ""},
		"issued at set":  {p.IssuedAt.IsZero(), false},
		"token id set":   {p.TokenID != "", true},
		"subject is set": {p.Subject != "", true},
	}
	for name, c := range checks {
		if c.got != c.want {
			t.Errorf("%s: got %v, want %v", name, c.got, c.want)
		}
	}
}

func TestJWTAcceptsVariants(t *testing.T) {
	iss := helseidtest.NewIssuer(t)
	specAttest := helseidtest.DefaultAttest()
	specAttest["care_relation"] = specAttest["care_relationship"]
	delete(specAttest, "care_relationship")
	kebab := map[string]any{
		"practitioner": map[string]any{
			"identifier":   map[string]any{"id": helseidtest.DefaultPractitionerID, "system": "urn:oid:2.16.578.1.12.4.1.4.1"},
			"legal-entity": map[string]any{"id": "999999999", "system": "urn:oid:2.16.578.1.12.4.1.4.101"},
		},
		"care-relationship": map[string]any{"purpose-of-use": map[string]any{"code": "ETREAT", "system": "urn:oid:2.16.840.1.113883.1.11.20448"}},
	}
	tests := map[string]struct {
		opts   []helseidtest.TokenOption
		edit   func(*JWTConfig)
		bearer bool
		check  func(*Principal) bool
	}{
		"scope as a space-separated string": {
			opts:  []helseidtest.TokenOption{helseidtest.Claim("scope", "openid nhn:kjdd/read")},
			check: func(p *Principal) bool { return slices.Equal(p.Scopes, []string{"openid", "nhn:kjdd/read"}) },
		},
		"attest under the spec's care_relation": {
			opts:  []helseidtest.TokenOption{helseidtest.Claim(ClaimAttest, specAttest)},
			check: func(p *Principal) bool { return p.Purpose.Code == "TREAT" },
		},
		"attest with kebab-case names": {
			opts:  []helseidtest.TokenOption{helseidtest.Claim(ClaimAttest, kebab)},
			check: func(p *Principal) bool { return p.Purpose.Code == "ETREAT" && p.LegalEntity.ID == "999999999" },
		},
		"attest as a JSON string": {
			opts:  []helseidtest.TokenOption{helseidtest.Claim(ClaimAttest, `{"practitioner":{"identifier":{"id":"`+helseidtest.DefaultPractitionerID+`"}},"care_relationship":{"purpose_of_use":{"code":"COC"}}}`)},
			check: func(p *Principal) bool { return p.Purpose.Code == "COC" },
		},
		"security level as a number": {
			opts:  []helseidtest.TokenOption{helseidtest.Claim(ClaimSecurityLevel, 4)},
			check: func(p *Principal) bool { return p.SecurityLevel == 4 },
		},
		"typ JWT": {
			opts:  []helseidtest.TokenOption{helseidtest.Header("typ", "JWT")},
			check: func(p *Principal) bool { return p.Kind == TokenJWTUser },
		},
		"client credentials as bearer when DPoP is optional": {
			opts:   []helseidtest.TokenOption{helseidtest.ClientCredentials(), helseidtest.Unbound()},
			edit:   func(c *JWTConfig) { c.DPoP = DPoPOptional; c.Caller = ClientCaller },
			bearer: true,
			check: func(p *Principal) bool {
				return p.Kind == TokenJWTClient && p.PID == "" && p.OrgNumbers.Parent == helseidtest.DefaultOrgNrParent && p.KeyThumbprint == ""
			},
		},
		"several HPR numbers, attest picks one": {
			opts:  []helseidtest.TokenOption{helseidtest.Claim(ClaimHPRNumber, []string{"111111111", helseidtest.DefaultHPRNumber})},
			check: func(p *Principal) bool { return p.HPRNumber == helseidtest.DefaultHPRNumber },
		},
		"nbf within the leeway": {
			opts:  []helseidtest.TokenOption{helseidtest.Claim("nbf", time.Now().Add(3*time.Second).Unix())},
			check: func(p *Principal) bool { return true },
		},
		"HelseID's one-hour lifetime": {
			opts:  []helseidtest.TokenOption{helseidtest.Claim("exp", time.Now().Add(time.Hour).Unix())},
			check: func(p *Principal) bool { return true },
		},
		"lifetime just under the maximum": {
			opts:  []helseidtest.TokenOption{helseidtest.Claim("exp", time.Now().Add(DefaultTokenMaxLifetime-time.Minute).Unix())},
			check: func(p *Principal) bool { return true },
		},
		"fractional NumericDates": {
			opts: []helseidtest.TokenOption{helseidtest.Claim("iat", float64(time.Now().Unix())+0.25),
				helseidtest.Claim("exp", float64(time.Now().Add(5*time.Minute).Unix())+0.5)},
			check: func(p *Principal) bool { return p.ExpiresAt.After(time.Now()) },
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			v := newJWTValidator(t, iss, tc.edit)
			tok := iss.Token(tc.opts...)
			r := dpopRequest("GET", testURL, tok, iss.DPoPProof("GET", testURL, tok))
			if tc.bearer {
				r = bearerRequest("GET", testURL, tok)
			}
			p, err := v.Authenticate(testCtx, r)
			if err != nil {
				t.Fatal(err)
			}
			if !tc.check(p) {
				t.Errorf("unexpected principal %+v", *p)
			}
		})
	}
}

// TestJWTRefusesTokens is the table of refused access tokens. Each
// case sends a valid DPoP proof, so that only the token's defect decides.
func TestJWTRefusesTokens(t *testing.T) {
	iss := helseidtest.NewIssuer(t)
	stranger := helseidtest.NewIssuer(t)
	now := time.Now()
	tests := map[string]struct {
		token  func() string
		edit   func(*JWTConfig)
		kind   ErrorKind
		reason string
	}{
		"alg none": {
			token: func() string { return iss.Token(helseidtest.AlgNone()) },
			kind:  InvalidToken, reason: `alg "none" not allowed`,
		},
		"HS256 signed with the public key": {
			token: func() string { return iss.Token(helseidtest.HS256WithPublicKey()) },
			kind:  InvalidToken, reason: `alg "HS256" not allowed`,
		},
		"RS256 header over an HMAC signature": {
			token: func() string {
				return iss.Token(helseidtest.HS256WithPublicKey(), helseidtest.Header("alg", "RS256"))
			},
			kind: InvalidToken, reason: "signature or format invalid",
		},
		"unknown kid": {
			token: func() string { return iss.Token(helseidtest.Header("kid", "no-such-key")) },
			kind:  InvalidToken, reason: "unknown kid",
		},
		"no kid": {
			token: func() string { return iss.Token(helseidtest.Header("kid", nil)) },
			kind:  InvalidToken, reason: "no kid",
		},
		"signed by another key under our kid": {
			token: func() string { return stranger.Token(helseidtest.Header("kid", iss.KeyID())) },
			kind:  InvalidToken, reason: "signature or format invalid",
		},
		"expired": {
			token: func() string { return iss.Token(helseidtest.At(now.Add(-10 * time.Minute))) },
			kind:  InvalidToken, reason: "expired",
		},
		"nbf in the future": {
			token: func() string { return iss.Token(helseidtest.Claim("nbf", now.Add(10*time.Minute).Unix())) },
			kind:  InvalidToken, reason: "not yet valid",
		},
		"no exp": {
			token: func() string { return iss.Token(helseidtest.Claim("exp", nil)) },
			kind:  InvalidToken, reason: "required claim",
		},
		"wrong iss": {
			token: func() string { return iss.Token(helseidtest.Claim("iss", "https://helseid-sts.example")) },
			kind:  InvalidToken, reason: "issuer mismatch",
		},
		"wrong aud": {
			token: func() string { return iss.Token(helseidtest.Claim("aud", "nhn:someone-else")) },
			kind:  InvalidToken, reason: "audience",
		},
		"extra aud": {
			token: func() string {
				return iss.Token(helseidtest.Claim("aud", []string{helseidtest.DefaultAudience, "nhn:other"}))
			},
			kind: InvalidToken, reason: "audience",
		},
		"no aud": {
			token: func() string { return iss.Token(helseidtest.Claim("aud", nil)) },
			kind:  InvalidToken, reason: "audience",
		},
		"typ of a DPoP proof": {
			token: func() string { return iss.Token(helseidtest.Header("typ", "dpop+jwt")) },
			kind:  InvalidToken, reason: "typ",
		},
		"missing scope": {
			token: func() string { return iss.Token(helseidtest.Claim("scope", "nhn:kjdd/register")) },
			kind:  InsufficientScope, reason: "nhn:kjdd/read",
		},
		"no scope at all": {
			token: func() string { return iss.Token(helseidtest.Claim("scope", nil)) },
			kind:  InsufficientScope, reason: "nhn:kjdd/read",
		},
		"security level 3": {
			token: func() string { return iss.Token(helseidtest.Claim(ClaimSecurityLevel, "3")) },
			kind:  Forbidden, reason: "security level 3",
		},
		"user token without pid": {
			token: func() string { return iss.Token(helseidtest.Claim(ClaimPID, nil)) },
			kind:  InvalidToken, reason: "without pid",
		},
		"user token without HPR number": {
			token: func() string { return iss.Token(helseidtest.Claim(ClaimHPRNumber, nil)) },
			kind:  Forbidden, reason: "HPR",
		},
		"attest pid is not the token pid": {
			token: func() string { return iss.Token(helseidtest.AttestPractitioner("13116900216")) },
			kind:  Forbidden, reason: "not the authenticated user",
		},
		"attest HPR number is not the token's": {
			token: func() string { return iss.Token(helseidtest.Claim(ClaimHPRNumber, "111111111")) },
			kind:  Forbidden, reason: "HPR number",
		},
		"attest in a client token": {
			token: func() string {
				return iss.Token(helseidtest.ClientCredentials(), helseidtest.Claim(ClaimAttest, helseidtest.DefaultAttest()))
			},
			kind: Forbidden, reason: "without an authenticated person",
		},
		"malformed attest": {
			token: func() string { return iss.Token(helseidtest.Claim(ClaimAttest, []int{1, 2})) },
			kind:  InvalidToken, reason: "attest",
		},
		"pid of the wrong type": {
			token: func() string { return iss.Token(helseidtest.Claim(ClaimPID, 12345678901)) },
			kind:  InvalidToken, reason: "wrong types",
		},
		"no attest where one is required": {
			token: func() string { return iss.Token(helseidtest.Claim(ClaimAttest, nil)) },
			edit:  func(c *JWTConfig) { c.RequireAttest = true },
			kind:  Forbidden, reason: "purpose of use",
		},
		"attest without purpose where one is required": {
			token: func() string { return iss.Token(helseidtest.Purpose("")) },
			edit:  func(c *JWTConfig) { c.RequireAttest = true },
			kind:  Forbidden, reason: "purpose of use",
		},
		"client token where a user is required": {
			token: func() string { return iss.Token(helseidtest.ClientCredentials()) },
			edit:  func(c *JWTConfig) { c.Caller = UserCaller },
			kind:  Forbidden, reason: "user token is required",
		},
		"user token where a client is required": {
			token: func() string { return iss.Token() },
			edit:  func(c *JWTConfig) { c.Caller = ClientCaller },
			kind:  Forbidden, reason: "client-credentials token is required",
		},
		"exp as a string of digits": {
			token: func() string {
				return iss.Token(helseidtest.Claim("exp", strconv.FormatInt(now.Add(5*time.Minute).Unix(), 10)))
			},
			kind: InvalidToken, reason: "exp is not a NumericDate",
		},
		"exp as a boolean": {
			token: func() string { return iss.Token(helseidtest.Claim("exp", true)) },
			kind:  InvalidToken, reason: "exp is not a NumericDate",
		},
		"exp as an object": {
			token: func() string {
				return iss.Token(helseidtest.Claim("exp", map[string]any{"$date": now.Add(5 * time.Minute).Unix()}))
			},
			kind: InvalidToken, reason: "exp is not a NumericDate",
		},
		"nbf as a string": {
			token: func() string { return iss.Token(helseidtest.Claim("nbf", strconv.FormatInt(now.Unix(), 10))) },
			kind:  InvalidToken, reason: "nbf is not a NumericDate",
		},
		"iat as a string": {
			token: func() string { return iss.Token(helseidtest.Claim("iat", strconv.FormatInt(now.Unix(), 10))) },
			kind:  InvalidToken, reason: "iat is not a NumericDate",
		},
		"iat as an RFC 3339 time": {
			token: func() string { return iss.Token(helseidtest.Claim("iat", now.UTC().Format(time.RFC3339))) },
			kind:  InvalidToken, reason: "iat is not a NumericDate",
		},
		"nbf after exp, both within the leeway": {
			token: func() string { return iss.Token(helseidtest.Validity(3*time.Second, 2*time.Second)) },
			kind:  InvalidToken, reason: "validity is inverted",
		},
		"iat after exp": {
			token: func() string {
				return iss.Token(helseidtest.Claim("iat", now.Add(3*time.Second).Unix()), helseidtest.Claim("nbf", nil), helseidtest.Claim("exp", now.Add(2*time.Second).Unix()))
			},
			kind: InvalidToken, reason: "issued at or after it expires",
		},
		"ten-year lifetime": {
			token: func() string { return iss.Token(helseidtest.Lifetime(10 * 365 * 24 * time.Hour)) },
			kind:  InvalidToken, reason: "lifetime",
		},
		"lifetime just over the maximum": {
			token: func() string {
				return iss.Token(helseidtest.Claim("exp", now.Add(DefaultTokenMaxLifetime+time.Minute).Unix()))
			},
			kind: InvalidToken, reason: "exceeds the maximum 2h0m0s",
		},
		"long lifetime without iat and nbf": {
			token: func() string {
				return iss.Token(helseidtest.Claim("iat", nil), helseidtest.Claim("nbf", nil), helseidtest.Claim("exp", now.Add(3*time.Hour).Unix()))
			},
			kind: InvalidToken, reason: "lifetime",
		},
		"lifetime over a configured maximum": {
			token: func() string { return iss.Token(helseidtest.Claim("exp", now.Add(20*time.Minute).Unix())) },
			edit:  func(c *JWTConfig) { c.MaxTokenLifetime = 15 * time.Minute },
			kind:  InvalidToken, reason: "exceeds the maximum 15m0s",
		},
		"token larger than any HelseID token": {
			token: func() string { return iss.Token(helseidtest.Claim("padding", string(make([]byte, 20000)))) },
			kind:  InvalidToken, reason: "too large",
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			v := newJWTValidator(t, iss, tc.edit)
			tok := tc.token()
			_, err := v.Authenticate(testCtx, dpopRequest("GET", testURL, tok, iss.DPoPProof("GET", testURL, tok)))
			wantKind(t, err, tc.kind, tc.reason)
			ae, _ := AsAuthError(err)
			if ae.Scheme != SchemeDPoP || ae.WWWAuthenticate() == "" && ae.Kind != Forbidden {
				t.Errorf("challenge %q for scheme %q", ae.WWWAuthenticate(), ae.Scheme)
			}
		})
	}
}

func TestJWTConfigValidate(t *testing.T) {
	iss := helseidtest.NewIssuer(t)
	ks := newKeySource(t, iss, nil)
	base := func() JWTConfig {
		return JWTConfig{Issuer: iss.URL, Audience: "kjdd", PublicURL: testPublicURL, Keys: ks, Replay: NewMemoryReplayCache(0)}
	}
	tests := map[string]struct {
		edit func(*JWTConfig)
		ok   bool
	}{
		"defaults":                           {edit: func(*JWTConfig) {}, ok: true},
		"http issuer off loopback":           {edit: func(c *JWTConfig) { c.Issuer = "http://helseid.example" }},
		"no audience":                        {edit: func(c *JWTConfig) { c.Audience = "" }},
		"HS256 allowed":                      {edit: func(c *JWTConfig) { c.AllowedAlgs = []string{"RS256", "HS256"} }},
		"none allowed":                       {edit: func(c *JWTConfig) { c.AllowedAlgs = []string{"none"} }},
		"empty alg list":                     {edit: func(c *JWTConfig) { c.AllowedAlgs = []string{} }},
		"unknown DPoP mode":                  {edit: func(c *JWTConfig) { c.DPoP = "sometimes" }},
		"huge leeway":                        {edit: func(c *JWTConfig) { c.Leeway = time.Hour }},
		"no key source":                      {edit: func(c *JWTConfig) { c.Keys = nil }},
		"no replay cache":                    {edit: func(c *JWTConfig) { c.Replay = nil }},
		"relative public URL":                {edit: func(c *JWTConfig) { c.PublicURL = "/xds" }},
		"public URL behind proxy":            {edit: func(c *JWTConfig) { c.PublicURL = "https://kjdd.example.no/prefix" }, ok: true},
		"max token lifetime over a day":      {edit: func(c *JWTConfig) { c.MaxTokenLifetime = 25 * time.Hour }},
		"negative max token lifetime":        {edit: func(c *JWTConfig) { c.MaxTokenLifetime = -time.Minute }},
		"max token lifetime of ten minutes":  {edit: func(c *JWTConfig) { c.MaxTokenLifetime = 10 * time.Minute }, ok: true},
		"DPoP required without a public URL": {edit: func(c *JWTConfig) { c.PublicURL = "" }},
		"DPoP optional without a public URL": {edit: func(c *JWTConfig) { c.PublicURL, c.DPoP = "", DPoPOptional }, ok: true},
		"http public URL off loopback":       {edit: func(c *JWTConfig) { c.PublicURL = "http://kjdd.example.no" }},
		"http public URL on loopback":        {edit: func(c *JWTConfig) { c.PublicURL = "http://127.0.0.1:8080" }, ok: true},
		"public URL with a query":            {edit: func(c *JWTConfig) { c.PublicURL = "https://kjdd.example.no/?x=1" }},
		"public URL with a fragment":         {edit: func(c *JWTConfig) { c.PublicURL = "https://kjdd.example.no/#top" }},
		"public URL with user info":          {edit: func(c *JWTConfig) { c.PublicURL = "https://u:p@kjdd.example.no" }},
		"public URL of another scheme":       {edit: func(c *JWTConfig) { c.PublicURL = "ftp://kjdd.example.no" }},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			c := base()
			tc.edit(&c)
			_, err := NewJWTValidator(c)
			if (err == nil) != tc.ok {
				t.Fatalf("err = %v, want ok=%v", err, tc.ok)
			}
		})
	}
}
