package helseid

import (
	"fmt"
	"testing"
	"time"

	"github.com/beevik/etree"

	"kjdd/helseid/helseidtest"
)

// checkConditionsAtOnce is the check of an assertion's conditions as it
// was before it was split into readConditions and lifetime.check, every
// rule applied to now in one walk: the oracle the split is held to.
func (v *SAMLValidator) checkConditionsAtOnce(a *etree.Element, now time.Time) error {
	if a.SelectAttrValue("Version", "") != "2.0" {
		return authErr(FailedAuthentication, "assertion is not SAML 2.0")
	}
	issuers := samlChildren(a, "Issuer")
	if len(issuers) != 1 {
		return authErr(FailedAuthentication, "want exactly one issuer")
	}
	if iss, ok := textOf(issuers[0]); !ok || iss != v.cfg.Issuer {
		return authErr(FailedAuthentication, "issuer is not the configured one")
	}
	if ii, err := samlTime(a.SelectAttrValue("IssueInstant", "")); err != nil || ii.After(now.Add(v.cfg.Skew)) {
		return authErr(FailedAuthentication, "issue instant missing or in the future")
	}
	conds := samlChildren(a, "Conditions")
	if len(conds) != 1 {
		return authErr(FailedAuthentication, "want exactly one Conditions")
	}
	c := conds[0]
	nb, err1 := samlTime(c.SelectAttrValue("NotBefore", ""))
	na, err2 := samlTime(c.SelectAttrValue("NotOnOrAfter", ""))
	if err1 != nil || err2 != nil {
		return authErr(FailedAuthentication, "lifetime bounds missing or malformed")
	}
	if now.Add(v.cfg.Skew).Before(nb) {
		return authErr(FailedAuthentication, "assertion not yet valid")
	}
	if !now.Add(-v.cfg.Skew).Before(na) {
		return authErr(FailedAuthentication, "assertion expired")
	}
	restrictions := samlChildren(c, "AudienceRestriction")
	if len(restrictions) == 0 {
		return authErr(FailedAuthentication, "no audience restriction")
	}
	for _, r := range restrictions {
		ok := false
		for _, aud := range samlChildren(r, "Audience") {
			if t, _ := textOf(aud); t == v.cfg.Audience {
				ok = true
			}
		}
		if !ok {
			return authErr(FailedAuthentication, "assertion is not for our audience")
		}
	}
	subjects := samlChildren(a, "Subject")
	if len(subjects) != 1 {
		return authErr(FailedAuthentication, "want exactly one subject")
	}
	bearer := false
	for _, sc := range samlChildren(subjects[0], "SubjectConfirmation") {
		if sc.SelectAttrValue("Method", "") != bearerMethod {
			continue
		}
		if data := samlChildren(sc, "SubjectConfirmationData"); len(data) == 1 {
			if s := data[0].SelectAttrValue("NotOnOrAfter", ""); s != "" {
				t, err := samlTime(s)
				if err != nil || !now.Add(-v.cfg.Skew).Before(t) {
					continue
				}
			}
		}
		bearer = true
	}
	if !bearer {
		return authErr(FailedAuthentication, "no valid bearer subject confirmation")
	}
	return nil
}

// TestLifetimeAgreesWithConditions: reading an assertion's conditions once
// and checking its lifetime at any later time gives what checking them all
// at that time gives: the same acceptance and the same reason, over
// assertions of every shape of lifetime and bearer confirmation, at times
// before, inside and after each bound (the skew included).
func TestLifetimeAgreesWithConditions(t *testing.T) {
	v := newSAMLValidator(t, StaticCertificates{}, nil)
	skew := v.cfg.Skew
	t0 := time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)
	at := func(d time.Duration) string { return t0.Add(d).Format(time.RFC3339Nano) }
	confirmation := func(method, deadline string) string {
		data := `<saml:SubjectConfirmationData/>`
		if deadline != "" {
			data = `<saml:SubjectConfirmationData NotOnOrAfter="` + deadline + `"/>`
		}
		return `<saml:SubjectConfirmation Method="` + method + `">` + data + `</saml:SubjectConfirmation>`
	}
	bearer := func(deadline string) string { return confirmation(bearerMethod, deadline) }
	assertion := func(issued, notBefore, notOnOrAfter, audience string, confirmations ...string) *etree.Element {
		x := `<saml:Assertion xmlns:saml="` + nsSAML2 + `" Version="2.0" IssueInstant="` + issued + `">` +
			`<saml:Issuer>` + helseidtest.DefaultSAMLIssuer + `</saml:Issuer><saml:Subject><saml:NameID>n</saml:NameID>`
		for _, c := range confirmations {
			x += c
		}
		x += `</saml:Subject><saml:Conditions NotBefore="` + notBefore + `" NotOnOrAfter="` + notOnOrAfter + `">` +
			`<saml:AudienceRestriction><saml:Audience>` + audience + `</saml:Audience></saml:AudienceRestriction></saml:Conditions></saml:Assertion>`
		doc := etree.NewDocument()
		if err := doc.ReadFromString(x); err != nil {
			t.Fatal(err)
		}
		return doc.Root()
	}
	aud := helseidtest.DefaultSAMLAudience
	shapes := map[string]*etree.Element{
		"bearer without deadline":          assertion(at(0), at(0), at(time.Hour), aud, bearer("")),
		"bearer deadline before the end":   assertion(at(0), at(0), at(time.Hour), aud, bearer(at(10*time.Minute))),
		"two bearer deadlines":             assertion(at(0), at(0), at(time.Hour), aud, bearer(at(10*time.Minute)), bearer(at(20*time.Minute))),
		"malformed and valid deadline":     assertion(at(0), at(0), at(time.Hour), aud, bearer("soon"), bearer(at(30*time.Minute))),
		"only a malformed deadline":        assertion(at(0), at(0), at(time.Hour), aud, bearer("soon")),
		"holder-of-key only":               assertion(at(0), at(0), at(time.Hour), aud, confirmation("urn:oasis:names:tc:SAML:2.0:cm:holder-of-key", "")),
		"bearer after holder-of-key":       assertion(at(0), at(0), at(time.Hour), aud, confirmation("urn:oasis:names:tc:SAML:2.0:cm:holder-of-key", ""), bearer(at(5*time.Minute))),
		"issued before it is valid":        assertion(at(-time.Hour), at(0), at(time.Hour), aud, bearer("")),
		"issued after it is valid":         assertion(at(30*time.Minute), at(0), at(time.Hour), aud, bearer("")),
		"another audience":                 assertion(at(0), at(0), at(time.Hour), "urn:other", bearer("")),
		"malformed lifetime":               assertion(at(0), "now", at(time.Hour), aud, bearer("")),
		"deadline with fractional seconds": assertion(at(0), at(0), at(time.Hour), aud, bearer(at(10*time.Minute+500*time.Millisecond))),
	}
	var times []time.Duration
	for _, b := range []time.Duration{0, 5 * time.Minute, 10 * time.Minute, 10*time.Minute + 500*time.Millisecond, 20 * time.Minute, 30 * time.Minute, time.Hour, -time.Hour} {
		for _, d := range []time.Duration{-skew - time.Nanosecond, -skew, -time.Nanosecond, 0, time.Nanosecond, skew - time.Nanosecond, skew, skew + time.Nanosecond} {
			times = append(times, b+d)
		}
	}
	for name, a := range shapes {
		l, readErr := v.readConditions(a)
		for _, d := range times {
			now := t0.Add(d)
			want := v.checkConditionsAtOnce(a, now)
			got := readErr
			if got == nil {
				got = l.check(now, skew)
			}
			if fmt.Sprint(got) != fmt.Sprint(want) {
				// Both refuse, the static reason first: the same kind.
				if got != nil && want != nil && readErr != nil {
					continue
				}
				t.Errorf("%s at %v: %v; checked at once: %v", name, d, got, want)
			}
		}
	}
}

// TestConditionsWindowRules: the rules on an assertion's windows that do
// not depend on the time, applied to the conditions alone: a window that
// ends before (or as) it begins is refused wherever it appears, and so is
// one longer than MaxLifetime, measured from the earlier of IssueInstant
// and NotBefore.
func TestConditionsWindowRules(t *testing.T) {
	v := newSAMLValidator(t, StaticCertificates{}, nil)
	t0 := time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)
	at := func(d time.Duration) string { return t0.Add(d).Format(time.RFC3339Nano) }
	type shape struct {
		issued, notBefore, notOnOrAfter string
		confirmation, authn             string // extra attributes
	}
	build := func(s shape) *etree.Element {
		x := `<saml:Assertion xmlns:saml="` + nsSAML2 + `" Version="2.0" IssueInstant="` + s.issued + `">` +
			`<saml:Issuer>` + helseidtest.DefaultSAMLIssuer + `</saml:Issuer><saml:Subject><saml:NameID>n</saml:NameID>` +
			`<saml:SubjectConfirmation Method="` + bearerMethod + `"><saml:SubjectConfirmationData ` + s.confirmation + `/></saml:SubjectConfirmation>` +
			`</saml:Subject><saml:Conditions NotBefore="` + s.notBefore + `" NotOnOrAfter="` + s.notOnOrAfter + `">` +
			`<saml:AudienceRestriction><saml:Audience>` + helseidtest.DefaultSAMLAudience + `</saml:Audience></saml:AudienceRestriction></saml:Conditions>` +
			`<saml:AuthnStatement ` + s.authn + `/></saml:Assertion>`
		doc := etree.NewDocument()
		if err := doc.ReadFromString(x); err != nil {
			t.Fatal(err)
		}
		return doc.Root()
	}
	hour := time.Hour
	tests := map[string]struct {
		s      shape
		reason string // "" accepted
	}{
		"one hour, as HelseID issues":      {s: shape{issued: at(0), notBefore: at(0), notOnOrAfter: at(hour)}},
		"exactly the maximum":              {s: shape{issued: at(0), notBefore: at(0), notOnOrAfter: at(DefaultSAMLMaxLifetime)}},
		"inverted by a minute":             {s: shape{issued: at(0), notBefore: at(time.Minute), notOnOrAfter: at(0)}, reason: "lifetime window is inverted"},
		"empty":                            {s: shape{issued: at(0), notBefore: at(0), notOnOrAfter: at(0)}, reason: "lifetime window is inverted or empty"},
		"issued after it expires":          {s: shape{issued: at(2 * hour), notBefore: at(0), notOnOrAfter: at(hour)}, reason: "issue instant is not before NotOnOrAfter"},
		"a second over the maximum":        {s: shape{issued: at(0), notBefore: at(0), notOnOrAfter: at(DefaultSAMLMaxLifetime + time.Second)}, reason: "exceeds the maximum"},
		"long counted from the issue":      {s: shape{issued: at(-8 * hour), notBefore: at(0), notOnOrAfter: at(hour)}, reason: "assertion lifetime 9h0m0s exceeds"},
		"long counted from NotBefore":      {s: shape{issued: at(0), notBefore: at(-8 * hour), notOnOrAfter: at(hour)}, reason: "assertion lifetime 9h0m0s exceeds"},
		"ten years":                        {s: shape{issued: at(0), notBefore: at(0), notOnOrAfter: t0.AddDate(10, 0, 0).Format(time.RFC3339)}, reason: "exceeds the maximum"},
		"confirmation window":              {s: shape{issued: at(0), notBefore: at(0), notOnOrAfter: at(hour), confirmation: `NotBefore="` + at(0) + `" NotOnOrAfter="` + at(10*time.Minute) + `"`}},
		"confirmation window inverted":     {s: shape{issued: at(0), notBefore: at(0), notOnOrAfter: at(hour), confirmation: `NotBefore="` + at(10*time.Minute) + `" NotOnOrAfter="` + at(5*time.Minute) + `"`}, reason: "subject confirmation window is inverted"},
		"confirmation window empty":        {s: shape{issued: at(0), notBefore: at(0), notOnOrAfter: at(hour), confirmation: `NotBefore="` + at(time.Minute) + `" NotOnOrAfter="` + at(time.Minute) + `"`}, reason: "subject confirmation window is inverted or empty"},
		"authentication session":           {s: shape{issued: at(0), notBefore: at(0), notOnOrAfter: at(hour), authn: `AuthnInstant="` + at(-time.Minute) + `" SessionNotOnOrAfter="` + at(8*hour) + `"`}},
		"authentication session inverted":  {s: shape{issued: at(0), notBefore: at(0), notOnOrAfter: at(hour), authn: `AuthnInstant="` + at(0) + `" SessionNotOnOrAfter="` + at(-time.Minute) + `"`}, reason: "authentication session window is inverted"},
		"authentication session unbounded": {s: shape{issued: at(0), notBefore: at(0), notOnOrAfter: at(hour), authn: `AuthnInstant="` + at(0) + `"`}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			_, err := v.readConditions(build(tc.s))
			if tc.reason == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			wantKind(t, err, FailedAuthentication, tc.reason)
		})
	}
}
