package helseid

import (
	"strings"
	"testing"
	"time"

	"github.com/beevik/etree"

	"kjdd/helseid/helseidtest"
)

func newSAMLValidator(t testing.TB, trust CertificateSource, edit func(*SAMLConfig)) *SAMLValidator {
	t.Helper()
	cfg := SAMLConfig{Issuer: helseidtest.DefaultSAMLIssuer, Audience: helseidtest.DefaultSAMLAudience, Trust: trust}
	if edit != nil {
		edit(&cfg)
	}
	v, err := NewSAMLValidator(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func trusting(t testing.TB, s *helseidtest.SAMLSigner) StaticCertificates {
	t.Helper()
	certs, err := ParsePEMCertificates(s.CertificatePEM)
	if err != nil {
		t.Fatal(err)
	}
	return certs
}

func TestSAMLAccepts(t *testing.T) {
	signer := helseidtest.NewSAMLSigner(t)
	v := newSAMLValidator(t, trusting(t, signer), nil)
	tests := map[string][]helseidtest.SAMLOption{
		"current attribute names": nil,
		"old attribute names":     {helseidtest.XUAOldAttributeNames()},
		// Exclusive C14N drops comments, so a comment inside NameID does not
		// break the signature; the whole id must still be read.
		"comment splitting NameID":           {helseidtest.CommentInNameID()},
		"lifetime ended within the skew":     {helseidtest.XUAValidity(time.Now().Add(-time.Hour), time.Now().Add(-4*time.Minute))},
		"lifetime starting within the skew":  {helseidtest.XUAValidity(time.Now().Add(4*time.Minute), time.Now().Add(time.Hour))},
		"lifetime of exactly the maximum":    {helseidtest.XUAValidity(time.Now().Add(-time.Minute), time.Now().Add(DefaultSAMLMaxLifetime-time.Minute))},
		"subject confirmation with a window": {helseidtest.XUASubjectConfirmationWindow(time.Now().Add(-time.Minute), time.Now().Add(10*time.Minute))},
		"bounded authentication session":     {helseidtest.XUAAuthnSession(time.Now().Add(-time.Minute), time.Now().Add(8*time.Hour))},
	}
	for name, opts := range tests {
		t.Run(name, func(t *testing.T) {
			env := signer.Envelope(opts...)
			p, err := v.Authenticate(testCtx, securityOf(t, env))
			if err != nil {
				t.Fatal(err)
			}
			checks := map[string]struct{ got, want any }{
				"kind":          {p.Kind, TokenSAML},
				"issuer":        {p.Issuer, helseidtest.DefaultSAMLIssuer},
				"pid":           {p.PID, helseidtest.DefaultPractitionerID},
				"name":          {p.Name, helseidtest.DefaultPractitioner},
				"hpr":           {p.HPRNumber, helseidtest.DefaultHPRNumber},
				"role":          {p.Authorization, Code{Code: "LE", System: "urn:oid:2.16.578.1.12.4.1.1.9060", Display: "Lege"}},
				"purpose":       {p.Purpose, Code{Code: "TREAT", System: "urn:oid:2.16.840.1.113883.1.11.20448", Display: "Treatment"}},
				"service":       {p.HealthcareService.Code, "KP01"},
				"legal entity":  {p.LegalEntity, Organization{ID: helseidtest.DefaultOrgNrParent, System: "urn:oid:2.16.578.1.12.4.1.4.101", Name: "VOSS HERAD"}},
				"point of care": {p.PointOfCare, Organization{ID: helseidtest.DefaultOrgNrChild, System: "urn:oid:2.16.578.1.12.4.1.4.101", Name: "VOSS SJUKEHEIM"}},
				"org numbers":   {p.OrgNumbers, OrgNumbers{Parent: helseidtest.DefaultOrgNrParent, Child: helseidtest.DefaultOrgNrChild}},
				"patient":       {p.PatientID, helseidtest.DefaultPatient},
				"level":         {p.SecurityLevel, 4},
				"client":        {p.ClientID, helseidtest.DefaultClientID},
				"community":     {p.HomeCommunityID, "2.16.578.1.12.4.1.7.1.1"},
				"scope":         {strings.Join(p.Scopes, ","), "journaldokumenter_helsepersonell"},
				"attest":        {p.HasAttest, true},
			}
			for what, c := range checks {
				if c.got != c.want {
					t.Errorf("%s: got %v, want %v", what, c.got, c.want)
				}
			}
			if err := p.CheckPatient(queryPatient(t, env)); err != nil {
				t.Errorf("patient of the query refused: %v", err)
			}
		})
	}
}

func TestSAMLTrustFromJWKS(t *testing.T) {
	iss := helseidtest.NewIssuer(t)
	v := newSAMLValidator(t, newKeySource(t, iss, nil), nil)
	if _, err := v.Authenticate(testCtx, securityOf(t, iss.SAML.Envelope())); err != nil {
		t.Fatal(err)
	}
	// A signer HelseID does not publish is not trusted.
	_, err := v.Authenticate(testCtx, securityOf(t, helseidtest.NewSAMLSigner(t).Envelope()))
	wantKind(t, err, FailedAuthentication, "trusted certificate")
}

// TestSAMLRefused is the table of refused assertions, including the
// signature-wrapping variants.
func TestSAMLRefused(t *testing.T) {
	signer := helseidtest.NewSAMLSigner(t)
	stranger := helseidtest.NewSAMLSigner(t)
	trust := trusting(t, signer)
	now := time.Now()
	tests := map[string]struct {
		msg    func() []byte
		edit   func(*SAMLConfig)
		kind   ErrorKind
		reason string
	}{
		"unsigned": {
			msg:  func() []byte { return signer.Envelope(helseidtest.Unsigned()) },
			kind: FailedAuthentication, reason: "not signed",
		},
		"expired": {
			msg: func() []byte {
				return signer.Envelope(helseidtest.XUAValidity(now.Add(-2*time.Hour), now.Add(-time.Hour)))
			},
			kind: FailedAuthentication, reason: "expired",
		},
		"not yet valid": {
			msg: func() []byte {
				return signer.Envelope(helseidtest.XUAValidity(now.Add(time.Hour), now.Add(2*time.Hour)))
			},
			kind: FailedAuthentication, reason: "",
		},
		"window inverted, both bounds within the skew": {
			msg: func() []byte {
				return signer.Envelope(helseidtest.XUAValidity(now.Add(2*time.Minute), now.Add(-2*time.Minute)))
			},
			kind: FailedAuthentication, reason: "lifetime window is inverted",
		},
		"empty window": {
			msg:  func() []byte { return signer.Envelope(helseidtest.XUAValidity(now, now)) },
			kind: FailedAuthentication, reason: "lifetime window is inverted or empty",
		},
		"ten-year lifetime": {
			msg: func() []byte {
				return signer.Envelope(helseidtest.XUAValidity(now.Add(-time.Minute), now.AddDate(10, 0, 0)))
			},
			kind: FailedAuthentication, reason: "exceeds the maximum 8h0m0s",
		},
		"lifetime just over the maximum": {
			msg: func() []byte {
				return signer.Envelope(helseidtest.XUAValidity(now.Add(-time.Minute), now.Add(DefaultSAMLMaxLifetime)))
			},
			kind: FailedAuthentication, reason: "lifetime 8h1m0s exceeds",
		},
		"lifetime over a configured maximum": {
			msg: func() []byte {
				return signer.Envelope(helseidtest.XUAValidity(now.Add(-time.Minute), now.Add(time.Hour)))
			},
			edit: func(c *SAMLConfig) { c.MaxLifetime = 30 * time.Minute },
			kind: FailedAuthentication, reason: "exceeds the maximum 30m0s",
		},
		"subject confirmation window inverted": {
			msg: func() []byte {
				return signer.Envelope(helseidtest.XUASubjectConfirmationWindow(now.Add(2*time.Minute), now.Add(time.Minute)))
			},
			kind: FailedAuthentication, reason: "subject confirmation window is inverted",
		},
		"authentication session ends before it began": {
			msg: func() []byte {
				return signer.Envelope(helseidtest.XUAAuthnSession(now, now.Add(-time.Minute)))
			},
			kind: FailedAuthentication, reason: "authentication session window is inverted",
		},
		"wrong audience": {
			msg:  func() []byte { return signer.Envelope(helseidtest.XUAAudience("https://xds-web.test.nhn.no/")) },
			kind: FailedAuthentication, reason: "audience",
		},
		"wrong issuer": {
			msg:  func() []byte { return signer.Envelope(helseidtest.XUAIssuer("sikkerhet.helsenorge.no")) },
			kind: FailedAuthentication, reason: "issuer",
		},
		"untrusted certificate": {
			msg:  func() []byte { return stranger.Envelope() },
			kind: FailedAuthentication, reason: "trusted certificate",
		},
		"no trusted certificate configured": {
			msg:  func() []byte { return signer.Envelope() },
			edit: func(c *SAMLConfig) { c.Trust = StaticCertificates{} },
			kind: FailedAuthentication, reason: "no trusted SAML certificate",
		},
		"content altered after signing": {
			msg:  func() []byte { return signer.Envelope(helseidtest.Tampered()) },
			kind: FailedAuthentication, reason: "signature does not verify",
		},
		"second unsigned assertion": {
			msg:  func() []byte { return signer.Envelope(helseidtest.SecondUnsignedAssertion()) },
			kind: InvalidSecurity, reason: "2 assertions",
		},
		"signed assertion wrapped in an evil one": {
			msg:  func() []byte { return signer.Envelope(helseidtest.WrappedInEvilAssertion()) },
			kind: InvalidSecurity, reason: "2 assertions",
		},
		"signed assertion moved under another element": {
			msg:  func() []byte { return signer.Envelope(helseidtest.SignedMovedUnderWrapper()) },
			kind: InvalidSecurity, reason: "not a direct child",
		},
		"signed assertion moved to the body": {
			msg:  func() []byte { return signer.Envelope(helseidtest.SignedMovedToBody()) },
			kind: InvalidSecurity, reason: "2 assertions",
		},
		"security level 3": {
			msg:  func() []byte { return signer.Envelope(helseidtest.XUASecurityLevel("3")) },
			kind: Forbidden, reason: "security level 3",
		},
		"no purpose of use": {
			msg:  func() []byte { return signer.Envelope(helseidtest.XUAPurpose("")) },
			kind: Forbidden, reason: "purpose",
		},
		"no assertion": {
			msg: func() []byte {
				return []byte(`<wsse:Security xmlns:wsse="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"/>`)
			},
			kind: InvalidSecurity, reason: "no SAML assertion",
		},
		"security header in the wrong namespace": {
			msg: func() []byte {
				return []byte(`<Security xmlns="urn:not-wsse">` + string(signer.Assertion()) + `</Security>`)
			},
			kind: InvalidSecurity, reason: "not wsse:Security",
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			v := newSAMLValidator(t, trust, tc.edit)
			_, err := v.Authenticate(testCtx, securityOf(t, tc.msg()))
			wantKind(t, err, tc.kind, tc.reason)
			ae, _ := AsAuthError(err)
			if ae.SOAPSubcode() == "" {
				t.Errorf("no SOAP subcode for %s", ae.Kind)
			}
		})
	}
}

func TestSAMLRefusesNilHeader(t *testing.T) {
	v := newSAMLValidator(t, StaticCertificates{helseidtest.NewSAMLSigner(t).Certificate}, nil)
	_, err := v.Authenticate(testCtx, nil)
	wantKind(t, err, InvalidSecurity, "no wsse:Security")
}

// TestSAMLPatientMismatch: on /xca the assertion's resource-id must equal
// the patient queried.
func TestSAMLPatientMismatch(t *testing.T) {
	signer := helseidtest.NewSAMLSigner(t)
	v := newSAMLValidator(t, trusting(t, signer), nil)
	env := signer.Envelope(helseidtest.XUAQueryPatient(helseidtest.EvilPatient))
	p, err := v.Authenticate(testCtx, securityOf(t, env))
	if err != nil {
		t.Fatal(err)
	}
	wantKind(t, p.CheckPatient(queryPatient(t, env)), Forbidden, "differs")
}

// TestSAMLReadsOnlySignedContent checks that values come from the signed
// element: an attacker who adds an attribute statement outside the
// signature (here: a second, unsigned statement appended to the assertion
// after signing) breaks the signature rather than adding a patient.
func TestSAMLReadsOnlySignedContent(t *testing.T) {
	signer := helseidtest.NewSAMLSigner(t)
	v := newSAMLValidator(t, trusting(t, signer), nil)
	doc := etree.NewDocument()
	if err := doc.ReadFromBytes(signer.Security()); err != nil {
		t.Fatal(err)
	}
	a := doc.FindElement("//Assertion")
	st := a.CreateElement("saml:AttributeStatement")
	at := st.CreateElement("saml:Attribute")
	at.CreateAttr("Name", "urn:oasis:names:tc:xacml:1.0:resource:resource-id")
	at.CreateElement("saml:AttributeValue").SetText(helseidtest.EvilPatient)
	b, _ := doc.WriteToBytes()
	_, err := v.Authenticate(testCtx, securityOf(t, b))
	wantKind(t, err, FailedAuthentication, "signature does not verify")
}

func TestSAMLConfigValidate(t *testing.T) {
	trust := StaticCertificates{helseidtest.NewSAMLSigner(t).Certificate}
	tests := map[string]struct {
		cfg SAMLConfig
		ok  bool
	}{
		"complete":                {SAMLConfig{Issuer: "i", Audience: "a", Trust: trust}, true},
		"no issuer":               {SAMLConfig{Audience: "a", Trust: trust}, false},
		"no audience":             {SAMLConfig{Issuer: "i", Trust: trust}, false},
		"no trust":                {SAMLConfig{Issuer: "i", Audience: "a"}, false},
		"huge skew":               {SAMLConfig{Issuer: "i", Audience: "a", Trust: trust, Skew: time.Hour}, false},
		"max lifetime of an hour": {SAMLConfig{Issuer: "i", Audience: "a", Trust: trust, MaxLifetime: time.Hour}, true},
		"max lifetime over a day": {SAMLConfig{Issuer: "i", Audience: "a", Trust: trust, MaxLifetime: 25 * time.Hour}, false},
		"negative max lifetime":   {SAMLConfig{Issuer: "i", Audience: "a", Trust: trust, MaxLifetime: -time.Hour}, false},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			_, err := NewSAMLValidator(tc.cfg)
			if (err == nil) != tc.ok {
				t.Fatalf("err = %v, want ok=%v", err, tc.ok)
			}
		})
	}
}

// TestSAMLSignatureCheckAloneRefusesWrapping shows the layers are
// independent: handed the attacker's assertion directly, without the
// one-assertion rule, the signature check refuses it too.
func TestSAMLSignatureCheckAloneRefusesWrapping(t *testing.T) {
	signer := helseidtest.NewSAMLSigner(t)
	v := newSAMLValidator(t, trusting(t, signer), nil)
	tests := map[string]struct {
		opt    helseidtest.SAMLOption
		reason string
	}{
		"outer evil assertion carrying the copied signature": {helseidtest.WrappedInEvilAssertion(), "want one signature"},
		"unsigned assertion placed first":                    {helseidtest.SecondUnsignedAssertion(), "not signed"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			first := securityOf(t, signer.Security(tc.opt)).SelectElement("saml:Assertion")
			raw, err := v.serialise(first)
			if err != nil {
				t.Fatal(err)
			}
			certs, err := v.trusted(testCtx)
			if err != nil {
				t.Fatal(err)
			}
			_, err = v.verify(raw, certs)
			wantKind(t, err, FailedAuthentication, tc.reason)
		})
	}
}
