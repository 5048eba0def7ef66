package access

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"kjdd/helseid"
	"kjdd/helseid/helseidtest"
	"kjdd/xds/soap"
)

const (
	testScopeRead     = "nhn:kjdd/read"
	testScopeRegister = "nhn:kjdd/register"
	testScopeAudit    = "nhn:kjdd/audit"
	testURL           = "https://kjdd.test/xds/registry"
	testPublicURL     = "https://kjdd.test"
)

// newTestHelseID wires real validators to a fake issuer on loopback.
func newTestHelseID(t *testing.T, iss *helseidtest.Issuer) *HelseID {
	t.Helper()
	keys, err := helseid.NewHTTPKeySource(helseid.HTTPKeySourceConfig{Issuer: iss.URL})
	if err != nil {
		t.Fatal(err)
	}
	h, err := NewHelseID(HelseIDConfig{
		Issuer: iss.URL, Audience: helseidtest.DefaultAudience, DPoP: helseid.DPoPRequired, PublicURL: testPublicURL,
		ScopeRead: testScopeRead, ScopeRegister: testScopeRegister, ScopeAudit: testScopeAudit,
		SAMLIssuer: helseidtest.DefaultSAMLIssuer, SAMLAudience: helseidtest.DefaultSAMLAudience,
		HospitalOrgNumber: helseidtest.DefaultOrgNrParent,
		Keys:              keys, SAMLTrust: keys, Replay: helseid.NewMemoryReplayCache(0),
	})
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// security reads an ITI-38 envelope as the SOAP endpoint does and returns
// the XUA credential it offers.
func security(t *testing.T, env []byte) helseid.SecurityHeader {
	t.Helper()
	m, err := soap.ReadMessage(bytes.NewReader(env), soap.ContentTypeSOAP, soap.DefaultLimits())
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	if !m.SecurityHeader().Present {
		t.Fatal("no Security in envelope")
	}
	return XUAFrom(m.SecurityHeader())
}

// dpopRequest is a POST to testURL with a DPoP-bound token and its proof.
func dpopRequest(iss *helseidtest.Issuer, token string) *http.Request {
	r := httptest.NewRequest(http.MethodPost, testURL, nil)
	r.Header.Set("Authorization", "DPoP "+token)
	r.Header.Set("DPoP", iss.DPoPProof(http.MethodPost, testURL, token))
	return r
}

func TestHelseIDAuthenticate(t *testing.T) {
	iss := helseidtest.NewIssuer(t)
	h := newTestHelseID(t, iss)
	signer := iss.SAML
	client := func(opts ...helseidtest.TokenOption) string {
		return iss.Token(append([]helseidtest.TokenOption{helseidtest.ClientCredentials()}, opts...)...)
	}
	tests := map[string]struct {
		cred     func() Credentials
		wantKind helseid.ErrorKind // 0: accepted
		wantWho  helseid.TokenKind
	}{
		"xca query for the assertion's patient": {
			cred: func() Credentials {
				return Credentials{Transaction: ITI38, XUA: security(t, signer.Envelope()), PatientID: "'" + helseidtest.DefaultPatient + "'"}
			},
			wantWho: helseid.TokenSAML,
		},
		"xca retrieve names no patient": {
			cred:    func() Credentials { return Credentials{Transaction: ITI39, XUA: security(t, signer.Envelope())} },
			wantWho: helseid.TokenSAML,
		},
		"xca query for another patient": {
			cred: func() Credentials {
				return Credentials{Transaction: ITI38, XUA: security(t, signer.Envelope()), PatientID: helseidtest.EvilPatient}
			},
			wantKind: helseid.Forbidden,
		},
		"xca without wsse:Security": {
			cred:     func() Credentials { return Credentials{Transaction: ITI38, PatientID: helseidtest.DefaultPatient} },
			wantKind: helseid.InvalidSecurity,
		},
		"xca at security level 3": {
			cred: func() Credentials {
				return Credentials{Transaction: ITI38, XUA: security(t, signer.Envelope(helseidtest.XUASecurityLevel("3")))}
			},
			wantKind: helseid.Forbidden,
		},
		"xca without purpose of use": {
			cred: func() Credentials {
				return Credentials{Transaction: ITI39, XUA: security(t, signer.Envelope(helseidtest.XUAPurpose("")))}
			},
			wantKind: helseid.Forbidden,
		},
		"xca with a bearer token instead of an assertion": {
			cred:     func() Credentials { return Credentials{Transaction: ITI38, HTTP: dpopRequest(iss, iss.Token())} },
			wantKind: helseid.InvalidSecurity,
		},
		"registry query with a practitioner token": {
			cred:    func() Credentials { return Credentials{Transaction: ITI18, HTTP: dpopRequest(iss, iss.Token())} },
			wantWho: helseid.TokenJWTUser,
		},
		"repository retrieve with a practitioner token": {
			cred:    func() Credentials { return Credentials{Transaction: ITI43, HTTP: dpopRequest(iss, iss.Token())} },
			wantWho: helseid.TokenJWTUser,
		},
		"registry query with a client token": {
			cred:     func() Credentials { return Credentials{Transaction: ITI18, HTTP: dpopRequest(iss, client())} },
			wantKind: helseid.Forbidden,
		},
		"registry query without the read scope": {
			cred: func() Credentials {
				return Credentials{Transaction: ITI18, HTTP: dpopRequest(iss, iss.Token(helseidtest.Claim("scope", []string{testScopeAudit})))}
			},
			wantKind: helseid.InsufficientScope,
		},
		"registry query without an attest": {
			cred: func() Credentials {
				return Credentials{Transaction: ITI18, HTTP: dpopRequest(iss, iss.Token(helseidtest.Claim("nhn:tillitsrammeverk:parameters", nil)))}
			},
			wantKind: helseid.Forbidden,
		},
		"registry query with an assertion instead of a token": {
			cred:     func() Credentials { return Credentials{Transaction: ITI18, XUA: security(t, signer.Envelope())} },
			wantKind: helseid.MissingCredentials,
		},
		"register with the hospital's client token": {
			cred:    func() Credentials { return Credentials{Transaction: ITI41, HTTP: dpopRequest(iss, client())} },
			wantWho: helseid.TokenJWTClient,
		},
		"register metadata with the hospital's client token": {
			cred:    func() Credentials { return Credentials{Transaction: ITI42, HTTP: dpopRequest(iss, client())} },
			wantWho: helseid.TokenJWTClient,
		},
		"register with another organisation's client token": {
			cred: func() Credentials {
				return Credentials{Transaction: ITI41, HTTP: dpopRequest(iss, client(helseidtest.Claim(helseid.ClaimOrgNrParent, "974633574")))}
			},
			wantKind: helseid.Forbidden,
		},
		"register without the register scope": {
			cred: func() Credentials {
				return Credentials{Transaction: ITI42, HTTP: dpopRequest(iss, client(helseidtest.Claim("scope", testScopeRead)))}
			},
			wantKind: helseid.InsufficientScope,
		},
		"register with a practitioner token": {
			cred:     func() Credentials { return Credentials{Transaction: ITI41, HTTP: dpopRequest(iss, iss.Token())} },
			wantKind: helseid.Forbidden,
		},
		"sperring api with the hospital's client token": {
			cred:    func() Credentials { return Credentials{Transaction: SperringAPI, HTTP: dpopRequest(iss, client())} },
			wantWho: helseid.TokenJWTClient,
		},
		"sperring api without organisation numbers": {
			cred: func() Credentials {
				return Credentials{Transaction: SperringAPI, HTTP: dpopRequest(iss, client(helseidtest.Claim(helseid.ClaimOrgNrParent, nil)))}
			},
			wantKind: helseid.Forbidden,
		},
		"audit api with the audit scope": {
			cred:    func() Credentials { return Credentials{Transaction: AuditAPI, HTTP: dpopRequest(iss, iss.Token())} },
			wantWho: helseid.TokenJWTUser,
		},
		"audit api without the audit scope": {
			cred: func() Credentials {
				return Credentials{Transaction: AuditAPI, HTTP: dpopRequest(iss, iss.Token(helseidtest.Claim("scope", testScopeRead)))}
			},
			wantKind: helseid.InsufficientScope,
		},
		"unknown transaction": {
			cred:     func() Credentials { return Credentials{Transaction: "ITI-99", HTTP: dpopRequest(iss, iss.Token())} },
			wantKind: helseid.Forbidden,
		},
		"no transaction": {
			cred:     func() Credentials { return Credentials{XUA: security(t, signer.Envelope())} },
			wantKind: helseid.Forbidden,
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			cred := tc.cred()
			c, err := h.Authenticate(context.Background(), cred)
			if tc.wantKind != 0 {
				ae, ok := helseid.AsAuthError(err)
				if !ok || ae.Kind != tc.wantKind {
					t.Fatalf("err = %v, want an AuthError of kind %v", err, tc.wantKind)
				}
				if c != nil {
					t.Fatal("a refusal returned a caller")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if c.Transaction != cred.Transaction || c.Principal == nil || c.Principal.Kind != tc.wantWho {
				t.Fatalf("caller %+v, want transaction %s and a %s principal", c, cred.Transaction, tc.wantWho)
			}
		})
	}
}

// TestHelseIDUnwiredRefuses: a HelseID missing a validator refuses the
// transactions that need it instead of letting them through.
func TestHelseIDUnwiredRefuses(t *testing.T) {
	r := httptest.NewRequest(http.MethodPost, testURL, nil)
	for _, tx := range []Transaction{ITI18, ITI38, ITI39, ITI41, ITI42, ITI43, SperringAPI, AuditAPI} {
		t.Run(string(tx), func(t *testing.T) {
			_, err := (&HelseID{HospitalOrgNumber: "983974880"}).Authenticate(context.Background(), Credentials{Transaction: tx, HTTP: r})
			ae, ok := helseid.AsAuthError(err)
			if !ok || ae.Kind != helseid.Unavailable {
				t.Fatalf("err = %v, want Unavailable", err)
			}
		})
	}
}

func TestNewHelseIDRefusesIncompleteConfig(t *testing.T) {
	iss := helseidtest.NewIssuer(t)
	keys, err := helseid.NewHTTPKeySource(helseid.HTTPKeySourceConfig{Issuer: iss.URL})
	if err != nil {
		t.Fatal(err)
	}
	good := HelseIDConfig{
		Issuer: iss.URL, Audience: helseidtest.DefaultAudience, PublicURL: testPublicURL,
		ScopeRead: testScopeRead, ScopeRegister: testScopeRegister, ScopeAudit: testScopeAudit,
		SAMLIssuer: helseidtest.DefaultSAMLIssuer, SAMLAudience: helseidtest.DefaultSAMLAudience,
		HospitalOrgNumber: helseidtest.DefaultOrgNrParent,
		Keys:              keys, SAMLTrust: keys, Replay: helseid.NewMemoryReplayCache(0),
	}
	tests := map[string]struct {
		edit    func(*HelseIDConfig)
		wantErr string
	}{
		"no organisation number": {edit: func(c *HelseIDConfig) { c.HospitalOrgNumber = "" }, wantErr: "organisation"},
		"no read scope":          {edit: func(c *HelseIDConfig) { c.ScopeRead = "" }, wantErr: "read scope"},
		"no audit scope":         {edit: func(c *HelseIDConfig) { c.ScopeAudit = "" }, wantErr: "audit scope"},
		"no audience":            {edit: func(c *HelseIDConfig) { c.Audience = "" }, wantErr: "AUDIENCE"},
		"no replay cache":        {edit: func(c *HelseIDConfig) { c.Replay = nil }, wantErr: "replay"},
		"no SAML trust":          {edit: func(c *HelseIDConfig) { c.SAMLTrust = nil }, wantErr: "SAML_CERTS"},
		"no SAML audience":       {edit: func(c *HelseIDConfig) { c.SAMLAudience = "" }, wantErr: "SAML_AUDIENCE"},
		"plain http issuer":      {edit: func(c *HelseIDConfig) { c.Issuer = "http://helseid.example.org" }, wantErr: "ISSUER"},
		"no public URL":          {edit: func(c *HelseIDConfig) { c.PublicURL = "" }, wantErr: "PUBLIC_URL"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			cfg := good
			tc.edit(&cfg)
			_, err := NewHelseID(cfg)
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("err = %v, want one mentioning %q", err, tc.wantErr)
			}
		})
	}
}

// TestNewHelseIDCredentialLifetimes: the configured maximum lifetimes reach
// the validators of every surface; zero keeps helseid's defaults.
func TestNewHelseIDCredentialLifetimes(t *testing.T) {
	iss := helseidtest.NewIssuer(t)
	keys, err := helseid.NewHTTPKeySource(helseid.HTTPKeySourceConfig{Issuer: iss.URL})
	if err != nil {
		t.Fatal(err)
	}
	build := func(samlMax, tokenMax time.Duration) *HelseID {
		h, err := NewHelseID(HelseIDConfig{
			Issuer: iss.URL, Audience: helseidtest.DefaultAudience, PublicURL: testPublicURL,
			ScopeRead: testScopeRead, ScopeRegister: testScopeRegister, ScopeAudit: testScopeAudit,
			SAMLIssuer: helseidtest.DefaultSAMLIssuer, SAMLAudience: helseidtest.DefaultSAMLAudience,
			SAMLMaxLifetime: samlMax, TokenMaxLifetime: tokenMax,
			HospitalOrgNumber: helseidtest.DefaultOrgNrParent,
			Keys:              keys, SAMLTrust: keys, Replay: helseid.NewMemoryReplayCache(0),
		})
		if err != nil {
			t.Fatal(err)
		}
		return h
	}
	now := time.Now()
	hourToken := func() Credentials {
		tok := iss.Token(helseidtest.ClientCredentials(), helseidtest.Lifetime(time.Hour))
		return Credentials{Transaction: ITI41, HTTP: dpopRequest(iss, tok)}
	}
	hourAssertion := func() Credentials {
		env := iss.SAML.Envelope(helseidtest.XUAValidity(now.Add(-time.Minute), now.Add(time.Hour)))
		return Credentials{Transaction: ITI39, XUA: security(t, env)}
	}
	defaults, short := build(0, 0), build(30*time.Minute, 30*time.Minute)
	for name, cred := range map[string]func() Credentials{"token": hourToken, "assertion": hourAssertion} {
		t.Run(name, func(t *testing.T) {
			if _, err := defaults.Authenticate(context.Background(), cred()); err != nil {
				t.Fatalf("one-hour %s refused under the defaults: %v", name, err)
			}
			_, err := short.Authenticate(context.Background(), cred())
			ae, ok := helseid.AsAuthError(err)
			if !ok || !strings.Contains(ae.Reason, "exceeds the maximum 30m0s") {
				t.Fatalf("one-hour %s under a 30 min maximum: %v", name, err)
			}
		})
	}
}
