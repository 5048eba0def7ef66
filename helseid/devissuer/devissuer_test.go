package devissuer

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/beevik/etree"

	"kjdd/helseid"
)

const (
	testAudience     = "nhn:kjdd"
	testSAMLIssuer   = "https://helseid-xdssaml.test.nhn.no"
	testSAMLAudience = "nhn:dokumentdeling-saml"
	testOrgNumber    = "999999999"
	scopeRead        = "nhn:kjdd/read"
	scopeRegister    = "nhn:kjdd/register"
	scopeAudit       = "nhn:kjdd/audit"
)

// keysOnce shares one key directory between tests: RSA key generation is
// the slow part, and what is tested on it does not change the keys.
var (
	keysOnce sync.Once
	keysDir  string
	keysErr  error
)

func sharedKeys(t *testing.T) *Keys {
	t.Helper()
	keysOnce.Do(func() {
		keysDir, keysErr = os.MkdirTemp("", "kjdd-devissuer-")
		if keysErr == nil {
			_, keysErr = LoadOrCreate(keysDir)
		}
	})
	if keysErr != nil {
		t.Fatal(keysErr)
	}
	k, err := Load(keysDir)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func TestMain(m *testing.M) {
	code := m.Run()
	if keysDir != "" {
		_ = os.RemoveAll(keysDir)
	}
	os.Exit(code)
}

// serveIssuer mounts the issuer's handler under /dev/helseid of a loopback
// server, as serve --dev does, and returns the issuer.
func serveIssuer(t *testing.T) *Issuer {
	t.Helper()
	k := sharedKeys(t)
	mux := http.NewServeMux()
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	s := Settings{
		Issuer: srv.URL + "/dev/helseid", Audience: testAudience,
		SAMLIssuer: testSAMLIssuer, SAMLAudience: testSAMLAudience,
		Scopes: []string{scopeRead, scopeRegister, scopeAudit}, HospitalOrgNumber: testOrgNumber,
	}
	iss, err := New(k, s)
	if err != nil {
		t.Fatal(err)
	}
	mux.Handle("/dev/helseid/", http.StripPrefix("/dev/helseid", iss.Handler()))
	return iss
}

func keySource(t *testing.T, iss *Issuer) *helseid.HTTPKeySource {
	t.Helper()
	ks, err := helseid.NewHTTPKeySource(helseid.HTTPKeySourceConfig{Issuer: iss.Settings().Issuer})
	if err != nil {
		t.Fatal(err)
	}
	return ks
}

func TestLoadOrCreate(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "dev")
	if _, err := Load(dir); !errors.Is(err, ErrNoKeys) {
		t.Fatalf("Load before creation: %v, want ErrNoKeys", err)
	}
	first, err := LoadOrCreate(dir)
	if err != nil {
		t.Fatal(err)
	}
	again, err := LoadOrCreate(dir)
	if err != nil {
		t.Fatal(err)
	}
	if !first.TokenKey.Equal(again.TokenKey) || !first.SAMLKey.Equal(again.SAMLKey) || !first.SAMLCertificate.Equal(again.SAMLCertificate) {
		t.Fatal("second LoadOrCreate made new keys instead of reading the first ones")
	}
	if first.TokenKey.Equal(first.SAMLKey) {
		t.Fatal("token and SAML keys are the same key")
	}
	if fi, err := os.Stat(dir); err != nil || fi.Mode().Perm() != 0o700 {
		t.Errorf("directory mode %v (%v), want 0700", fi.Mode().Perm(), err)
	}
	for _, f := range []string{tokenKeyFile, samlFile} {
		fi, err := os.Stat(filepath.Join(dir, f))
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != 0o600 {
			t.Errorf("%s mode %v, want 0600", f, fi.Mode().Perm())
		}
	}
	if _, err := first.Settings(); !errors.Is(err, ErrNoKeys) {
		t.Errorf("Settings before the server wrote them: %v, want ErrNoKeys", err)
	}
	if _, err := Open(dir); !errors.Is(err, ErrNoKeys) {
		t.Errorf("Open before the server wrote its settings: %v, want ErrNoKeys", err)
	}
}

func TestLoadRefusesDamagedFiles(t *testing.T) {
	tests := map[string]struct {
		file, content string
	}{
		"token key not PEM":       {file: tokenKeyFile, content: "hello"},
		"token key a certificate": {file: tokenKeyFile, content: "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"},
		"saml signer without key": {file: samlFile, content: ""},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			src := sharedKeys(t).Dir
			for _, f := range []string{tokenKeyFile, samlFile} {
				b, err := os.ReadFile(filepath.Join(src, f))
				if err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(filepath.Join(dir, f), b, 0o600); err != nil {
					t.Fatal(err)
				}
			}
			if err := os.WriteFile(filepath.Join(dir, tc.file), []byte(tc.content), 0o600); err != nil {
				t.Fatal(err)
			}
			if _, err := Load(dir); err == nil {
				t.Fatal("damaged keys loaded")
			}
		})
	}
}

func TestSettingsRoundTrip(t *testing.T) {
	k := sharedKeys(t)
	dir := t.TempDir()
	k2 := *k
	k2.Dir = dir
	s := Settings{Issuer: "http://127.0.0.1:8080/dev/helseid", Audience: testAudience, SAMLIssuer: testSAMLIssuer,
		SAMLAudience: testSAMLAudience, Scopes: []string{scopeRead}, HospitalOrgNumber: testOrgNumber}
	if err := k2.SaveSettings(s); err != nil {
		t.Fatal(err)
	}
	got, err := k2.Settings()
	if err != nil {
		t.Fatal(err)
	}
	if got.Issuer != s.Issuer || got.Audience != s.Audience || len(got.Scopes) != 1 || got.HospitalOrgNumber != s.HospitalOrgNumber {
		t.Fatalf("read back %+v, want %+v", got, s)
	}
	if fi, err := os.Stat(filepath.Join(dir, settingsFile)); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("settings file mode %v (%v), want 0600", fi.Mode().Perm(), err)
	}
}

func TestSettingsValidate(t *testing.T) {
	good := Settings{Issuer: "http://127.0.0.1:8080/dev/helseid", Audience: testAudience, SAMLIssuer: testSAMLIssuer,
		SAMLAudience: testSAMLAudience, Scopes: []string{scopeRead}, HospitalOrgNumber: testOrgNumber}
	tests := map[string]struct {
		edit    func(*Settings)
		wantErr string
	}{
		"ok":                         {edit: func(*Settings) {}},
		"http issuer off loopback":   {edit: func(s *Settings) { s.Issuer = "http://example.org/dev/helseid" }, wantErr: "issuer"},
		"no audience":                {edit: func(s *Settings) { s.Audience = "" }, wantErr: "audience"},
		"no saml audience":           {edit: func(s *Settings) { s.SAMLAudience = "" }, wantErr: "SAML"},
		"no scopes":                  {edit: func(s *Settings) { s.Scopes = nil }, wantErr: "scope"},
		"scope with a space":         {edit: func(s *Settings) { s.Scopes = []string{"a b"} }, wantErr: "scope"},
		"organisation number length": {edit: func(s *Settings) { s.HospitalOrgNumber = "12345" }, wantErr: "organisation"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			s := good
			tc.edit(&s)
			err := s.Validate()
			if tc.wantErr == "" && err != nil {
				t.Fatal(err)
			}
			if tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)) {
				t.Fatalf("err = %v, want one mentioning %q", err, tc.wantErr)
			}
		})
	}
}

// TestTokensVerify checks minted tokens with kjdd's own validator, reading
// the keys through the served discovery document and JWKS.
func TestTokensVerify(t *testing.T) {
	iss := serveIssuer(t)
	ks := keySource(t, iss)
	tests := map[string]struct {
		opts    TokenOptions
		caller  helseid.CallerKind
		scopes  []string
		attest  bool
		check   func(t *testing.T, p *helseid.Principal)
		wantErr helseid.ErrorKind
	}{
		"practitioner token reads": {
			caller: helseid.UserCaller, scopes: []string{scopeRead}, attest: true,
			check: func(t *testing.T, p *helseid.Principal) {
				if p.Kind != helseid.TokenJWTUser || p.PID != DefaultPractitionerPID || p.HPRNumber != DefaultHPRNumber ||
					p.SecurityLevel != 4 || p.Purpose.Code != DefaultPurpose || !p.HasAttest || p.LegalEntity.ID != testOrgNumber {
					t.Errorf("principal %v purpose %q level %d", p, p.Purpose.Code, p.SecurityLevel)
				}
			},
		},
		"practitioner with options": {
			opts:   TokenOptions{PID: "13116900216", HPRNumber: "123456", Purpose: "BTG"},
			caller: helseid.UserCaller, scopes: []string{scopeRead}, attest: true,
			check: func(t *testing.T, p *helseid.Principal) {
				if p.PID != "13116900216" || p.HPRNumber != "123456" || p.Purpose.Code != "BTG" {
					t.Errorf("principal %v purpose %q", p, p.Purpose.Code)
				}
			},
		},
		"client token registers": {
			opts: TokenOptions{Client: true}, caller: helseid.ClientCaller, scopes: []string{scopeRegister},
			check: func(t *testing.T, p *helseid.Principal) {
				if p.Kind != helseid.TokenJWTClient || p.PID != "" || p.RequireOrgNumber(testOrgNumber) != nil {
					t.Errorf("principal %v org %+v", p, p.OrgNumbers)
				}
			},
		},
		"practitioner token refused where a client is required": {
			caller: helseid.ClientCaller, scopes: []string{scopeRegister}, wantErr: helseid.Forbidden,
		},
		"scope not granted": {
			opts:   TokenOptions{Scopes: []string{scopeAudit}},
			caller: helseid.UserCaller, scopes: []string{scopeRead}, wantErr: helseid.InsufficientScope,
		},
		"bound token without its proof": {
			opts:   TokenOptions{JKT: "0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I"},
			caller: helseid.UserCaller, scopes: []string{scopeRead}, wantErr: helseid.InvalidToken,
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			v, err := helseid.NewJWTValidator(helseid.JWTConfig{
				Issuer: iss.Settings().Issuer, Audience: testAudience, RequiredScopes: tc.scopes,
				Caller: tc.caller, DPoP: helseid.DPoPOptional, RequireAttest: tc.attest,
				Keys: ks, Replay: helseid.NewMemoryReplayCache(0),
			})
			if err != nil {
				t.Fatal(err)
			}
			tok, err := iss.Token(tc.opts)
			if err != nil {
				t.Fatal(err)
			}
			r := httptest.NewRequest(http.MethodPost, "http://127.0.0.1/xds/registry", nil)
			r.Header.Set("Authorization", "Bearer "+tok)
			p, err := v.Authenticate(context.Background(), r)
			if tc.wantErr != 0 {
				ae, ok := helseid.AsAuthError(err)
				if !ok || ae.Kind != tc.wantErr {
					t.Fatalf("err = %v, want kind %v", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			tc.check(t, p)
		})
	}
}

func TestTokenOptionsRefused(t *testing.T) {
	iss := serveIssuer(t)
	tests := map[string]TokenOptions{
		"pid too short":      {PID: "1234"},
		"pid with letters":   {PID: "1311690021x"},
		"hpr not digits":     {HPRNumber: "12ab"},
		"unknown purpose":    {Purpose: "RESEARCH"},
		"lifetime of a week": {Lifetime: 7 * 24 * time.Hour},
	}
	for name, o := range tests {
		t.Run(name, func(t *testing.T) {
			if _, err := iss.Token(o); err == nil {
				t.Fatal("token minted")
			}
		})
	}
}

// securityOf parses an assertion into a wsse:Security element of its own
// document, as the SOAP reader would hand it over.
func securityOf(t *testing.T, assertion []byte) *etree.Element {
	t.Helper()
	doc := etree.NewDocument()
	env := `<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope"><s:Header>` +
		`<wsse:Security xmlns:wsse="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd">` +
		string(assertion) + `</wsse:Security></s:Header><s:Body/></s:Envelope>`
	if err := doc.ReadFromString(env); err != nil {
		t.Fatal(err)
	}
	return doc.FindElement("//Security")
}

// TestAssertionsVerify checks minted assertions with kjdd's own validator,
// trusting the certificate either as x5c of the served JWKS or directly.
func TestAssertionsVerify(t *testing.T) {
	iss := serveIssuer(t)
	trusts := map[string]helseid.CertificateSource{
		"x5c of the served JWKS": keySource(t, iss),
		"the certificate itself": helseid.StaticCertificates{sharedKeys(t).SAMLCertificate},
	}
	tests := map[string]struct {
		opts        AssertionOptions
		wantPatient string
		wantPurpose string
		wantPID     string
	}{
		"fnr": {opts: AssertionOptions{Patient: "13116900216"}, wantPatient: "13116900216^^^&2.16.578.1.12.4.1.4.1&ISO",
			wantPurpose: DefaultPurpose, wantPID: DefaultPractitionerPID},
		"d-number": {opts: AssertionOptions{Patient: "41018012345"}, wantPatient: "41018012345^^^&2.16.578.1.12.4.1.4.2&ISO",
			wantPurpose: DefaultPurpose, wantPID: DefaultPractitionerPID},
		"cx with options": {opts: AssertionOptions{Patient: "12119000465^^^&2.16.578.1.12.4.1.4.1&ISO", PID: "08077000292", Purpose: "ETREAT"},
			wantPatient: "12119000465^^^&2.16.578.1.12.4.1.4.1&ISO", wantPurpose: "ETREAT", wantPID: "08077000292"},
	}
	for trustName, trust := range trusts {
		v, err := helseid.NewSAMLValidator(helseid.SAMLConfig{Issuer: testSAMLIssuer, Audience: testSAMLAudience, Trust: trust})
		if err != nil {
			t.Fatal(err)
		}
		for name, tc := range tests {
			t.Run(trustName+"/"+name, func(t *testing.T) {
				a, err := iss.Assertion(tc.opts)
				if err != nil {
					t.Fatal(err)
				}
				if strings.HasPrefix(string(a), "<?xml") || !strings.HasPrefix(string(a), "<saml:Assertion") {
					t.Fatalf("not the assertion element alone: %.60s", a)
				}
				p, err := v.Authenticate(context.Background(), securityOf(t, a))
				if err != nil {
					t.Fatal(err)
				}
				if p.PatientID != tc.wantPatient || p.Purpose.Code != tc.wantPurpose || p.PID != tc.wantPID ||
					p.SecurityLevel != 4 || p.HPRNumber != DefaultHPRNumber {
					t.Fatalf("principal %v purpose %q level %d", p, p.Purpose.Code, p.SecurityLevel)
				}
				if err := p.CheckPatient("'" + tc.wantPatient + "'"); err != nil {
					t.Fatalf("CheckPatient of its own patient: %v", err)
				}
			})
		}
	}
}

func TestAssertionExpires(t *testing.T) {
	iss := serveIssuer(t)
	a, err := iss.Assertion(AssertionOptions{Patient: "13116900216", Lifetime: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	later := func() time.Time { return time.Now().Add(10 * time.Minute) }
	v, err := helseid.NewSAMLValidator(helseid.SAMLConfig{Issuer: testSAMLIssuer, Audience: testSAMLAudience,
		Trust: helseid.StaticCertificates{sharedKeys(t).SAMLCertificate}, Now: later})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := v.Authenticate(context.Background(), securityOf(t, a)); err == nil {
		t.Fatal("an assertion past its lifetime and the skew was accepted")
	}
}

func TestPatientCX(t *testing.T) {
	tests := map[string]struct {
		in, want string
	}{
		"fnr":             {in: "13116900216", want: "13116900216^^^&2.16.578.1.12.4.1.4.1&ISO"},
		"d-number":        {in: "41018012345", want: "41018012345^^^&2.16.578.1.12.4.1.4.2&ISO"},
		"cx kept":         {in: "abc^^^&1.2.3&ISO", want: "abc^^^&1.2.3&ISO"},
		"ten digits":      {in: "1311690021"},
		"empty":           {in: ""},
		"cx without type": {in: "abc^^^&1.2.3"},
		"markup":          {in: "<x>^^^&1.2&ISO"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got, err := PatientCX(tc.in)
			if tc.want == "" {
				if err == nil {
					t.Fatalf("accepted as %q", got)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("got %q, %v; want %q", got, err, tc.want)
			}
		})
	}
}
