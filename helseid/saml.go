package helseid

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/x509"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/beevik/etree"
	xrv "github.com/mattermost/xml-roundtrip-validator"
	dsig "github.com/russellhaering/goxmldsig"
	"github.com/russellhaering/goxmldsig/etreeutils"
)

// XML namespaces and algorithm identifiers of XUA SAML.
const (
	nsWSSE  = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"
	nsSAML2 = "urn:oasis:names:tc:SAML:2.0:assertion"
	nsDSig  = "http://www.w3.org/2000/09/xmldsig#"
	nsXSI   = "http://www.w3.org/2001/XMLSchema-instance"

	algExcC14N   = "http://www.w3.org/2001/10/xml-exc-c14n#"
	algEnveloped = "http://www.w3.org/2000/09/xmldsig#enveloped-signature"

	bearerMethod = "urn:oasis:names:tc:SAML:2.0:cm:bearer"
)

// Signature and digest algorithms accepted on assertions: RSA with SHA-2.
var (
	samlSignatureMethods = []string{
		"http://www.w3.org/2001/04/xmldsig-more#rsa-sha256",
		"http://www.w3.org/2001/04/xmldsig-more#rsa-sha384",
		"http://www.w3.org/2001/04/xmldsig-more#rsa-sha512",
	}
	samlDigestMethods = []string{
		"http://www.w3.org/2001/04/xmlenc#sha256",
		"http://www.w3.org/2001/04/xmldsig-more#sha384",
		"http://www.w3.org/2001/04/xmlenc#sha512",
	}
)

// The longest credential lifetimes accepted by default, and the bound on
// what may be configured. HelseID's XDS SAML service issues XUA assertions
// valid for an hour (norway.md §3.1), and HelseID access tokens live
// minutes up to an hour as the API's registration sets them; the defaults
// leave room for NHN to lengthen either, while a credential valid for days
// or years (a misissued or hand-made one, whose theft would never expire)
// is refused.
const (
	DefaultSAMLMaxLifetime  = 8 * time.Hour
	DefaultTokenMaxLifetime = 2 * time.Hour
	MaxLifetimeBound        = 24 * time.Hour
)

// SAMLConfig configures a SAMLValidator. Zero values take the defaults
// documented on each field; Validate reports what is missing.
type SAMLConfig struct {
	// Issuer is the exact expected saml:Issuer (KJDD_SAML_ISSUER).
	Issuer string
	// Audience must be listed in every AudienceRestriction
	// (KJDD_SAML_AUDIENCE).
	Audience string
	// Skew is the clock skew allowed on the assertion's lifetime; default
	// five minutes, as NHN's reference gateway uses.
	Skew time.Duration
	// MaxLifetime is the longest lifetime an assertion may state, from the
	// earlier of IssueInstant and NotBefore to NotOnOrAfter
	// (KJDD_SAML_MAX_LIFETIME). Default DefaultSAMLMaxLifetime; at most
	// 24 hours.
	MaxLifetime time.Duration
	// Trust gives the certificates that may sign assertions
	// (KJDD_SAML_CERTS, or the x5c of the HelseID JWKS).
	Trust CertificateSource
	// MinSecurityLevel is required of the authenticated practitioner;
	// default 4.
	MinSecurityLevel int
	// MaxAssertionBytes bounds the serialised assertion; default 64 KiB.
	MaxAssertionBytes int
	// Now is the clock; default time.Now.
	Now func() time.Time
	// ReuseEntries bounds the cache of verified assertions (see
	// verifiedCache); default 10,000. Negative: no cache, every assertion
	// is verified from scratch (the oracle TestAuthChainAgrees holds the
	// caching validator to).
	ReuseEntries int
}

// Validate fills defaults and reports the first problem, naming the
// setting.
func (c *SAMLConfig) Validate() error {
	if c.Issuer == "" {
		return errors.New("KJDD_SAML_ISSUER: issuer is required")
	}
	if c.Audience == "" {
		return errors.New("KJDD_SAML_AUDIENCE: audience is required")
	}
	if c.Trust == nil {
		return errors.New("KJDD_SAML_CERTS: no trusted certificate source")
	}
	if c.Skew == 0 {
		c.Skew = 5 * time.Minute
	}
	if c.Skew < 0 || c.Skew > 15*time.Minute {
		return errors.New("helseid: SAML skew must be between 0 and 15 minutes")
	}
	if c.MaxLifetime == 0 {
		c.MaxLifetime = DefaultSAMLMaxLifetime
	}
	if c.MaxLifetime < 0 || c.MaxLifetime > MaxLifetimeBound {
		return errors.New("KJDD_SAML_MAX_LIFETIME: must be between 0 and 24 hours")
	}
	if c.MinSecurityLevel == 0 {
		c.MinSecurityLevel = 4
	}
	if c.MaxAssertionBytes == 0 {
		c.MaxAssertionBytes = 64 << 10
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.ReuseEntries == 0 {
		c.ReuseEntries = verifiedCacheSize
	}
	return nil
}

// SAMLValidator authenticates the XUA SAML assertion in a SOAP request's
// wsse:Security header.
type SAMLValidator struct {
	cfg      SAMLConfig
	verified *verifiedCache
	// verifications counts assertions verified from scratch, reuses
	// those answered from the cache of verified ones.
	verifications, reuses atomic.Uint64

	// trustCerts and trustSum memoise trustDigest.
	trustMu    sync.Mutex
	trustCerts []*x509.Certificate
	trustSum   [sha256.Size]byte
}

// NewSAMLValidator validates cfg and returns a validator.
func NewSAMLValidator(cfg SAMLConfig) (*SAMLValidator, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	v := &SAMLValidator{cfg: cfg}
	if cfg.ReuseEntries > 0 {
		v.verified = newVerifiedCache(cfg.ReuseEntries)
	}
	return v, nil
}

// Authenticate establishes the caller from the wsse:Security element of a
// parsed envelope (SecurityHeaderOf): AuthenticateXUA for callers that hold
// a tree.
func (v *SAMLValidator) Authenticate(ctx context.Context, security *etree.Element) (*Principal, error) {
	h, err := SecurityHeaderOf(security)
	if err != nil {
		return nil, err
	}
	return v.AuthenticateXUA(ctx, h)
}

// AuthenticateXUA establishes the caller from what a SOAP message offers as
// an XUA credential. The message must hold exactly one SAML assertion, a
// direct child of wsse:Security; its enveloped signature must verify with a
// trusted certificate; and every value is then read from the signed content
// only, never from the surrounding document. The patient rule (resource-id
// equals the queried patient) is Principal.CheckPatient, applied once the
// query is parsed.
//
// An assertion whose exact bytes, under the same namespace bindings, were
// verified before under the same set of trusted certificates is not
// verified again, and its tree is not built (see verifiedCache): its
// lifetime is still checked on every request, and issuer, audience and
// subject confirmation were checked with the signature. The caches that
// decide authentication are described together in doc.go.
func (v *SAMLValidator) AuthenticateXUA(ctx context.Context, h SecurityHeader) (*Principal, error) {
	a, err := h.sole()
	if err != nil {
		return nil, err
	}
	certs, err := v.trusted(ctx)
	if err != nil {
		return nil, err
	}
	now := v.cfg.Now()
	if v.verified == nil {
		p, _, err := v.verifyAssertion(a, certs, now)
		return p, err
	}
	key := assertionKey(a, v.trustDigest(certs))
	if hit, ok := v.verified.get(key, now); ok {
		v.reuses.Add(1)
		if err := hit.lifetime.check(now, v.cfg.Skew); err != nil {
			return nil, err
		}
		return hit.principal.clone(), nil
	}
	p, life, err := v.verifyAssertion(a, certs, now)
	if err != nil {
		return nil, err
	}
	v.verified.put(key, verifiedAssertion{lifetime: life, principal: p.clone(), until: v.reuseUntil(life, certs)})
	return p, nil
}

// Verifications reports how many assertions were verified from scratch and
// how many verifications were reused.
func (v *SAMLValidator) Verifications() (verified, reused uint64) {
	return v.verifications.Load(), v.reuses.Load()
}

// verifyAssertion builds the assertion's tree and verifies it from
// scratch: the signature, the conditions and the claims.
func (v *SAMLValidator) verifyAssertion(a Assertion, certs []*x509.Certificate, now time.Time) (*Principal, lifetime, error) {
	v.verifications.Add(1)
	full, err := a.Tree()
	if err != nil || full == nil {
		return nil, lifetime{}, authErr(InvalidSecurity, "assertion does not parse")
	}
	if n := nestedAssertions(full); n > 0 {
		return nil, lifetime{}, authErr(InvalidSecurity, fmt.Sprintf("%d assertions in the message", n+1))
	}
	raw, err := v.serialise(full)
	if err != nil {
		return nil, lifetime{}, err
	}
	signed, err := v.verify(raw, certs)
	if err != nil {
		return nil, lifetime{}, err
	}
	life, err := v.readConditions(signed)
	if err != nil {
		return nil, lifetime{}, err
	}
	if err := life.check(now, v.cfg.Skew); err != nil {
		return nil, lifetime{}, err
	}
	p, err := readAssertion(signed)
	if err != nil {
		return nil, lifetime{}, authErr(FailedAuthentication, err.Error())
	}
	if p.PID == "" {
		return nil, lifetime{}, authErr(FailedAuthentication, "assertion names no subject")
	}
	if p.SecurityLevel < v.cfg.MinSecurityLevel {
		return nil, lifetime{}, authErr(Forbidden, fmt.Sprintf("security level %d below %d", p.SecurityLevel, v.cfg.MinSecurityLevel))
	}
	if p.Purpose.IsZero() {
		return nil, lifetime{}, authErr(Forbidden, "assertion states no purpose of use")
	}
	return p, life, nil
}

// nestedAssertions counts the assertions inside a (deferred) assertion's
// tree, which soleAssertion did not see.
func nestedAssertions(a *etree.Element) int {
	n := 0
	var walk func(*etree.Element)
	walk = func(e *etree.Element) {
		for _, c := range e.Child {
			if c, ok := c.(*etree.Element); ok {
				if c.Tag == "Assertion" || c.Tag == "EncryptedAssertion" {
					n++
				}
				walk(c)
			}
		}
	}
	walk(a)
	return n
}

// serialise detaches the assertion with its in-scope namespaces and
// serialises it: these bytes are what is verified.
func (v *SAMLValidator) serialise(assertion *etree.Element) ([]byte, error) {
	raw, err := detach(assertion)
	if err != nil {
		return nil, err
	}
	if len(raw) > v.cfg.MaxAssertionBytes {
		return nil, authErr(InvalidSecurity, "assertion too large")
	}
	return raw, nil
}

// detach serialises an element with the namespaces in scope at it declared
// on itself.
func detach(assertion *etree.Element) ([]byte, error) {
	nsCtx, err := etreeutils.NSBuildParentContext(assertion)
	if err != nil {
		return nil, authErr(InvalidSecurity, "assertion namespaces")
	}
	detached, err := etreeutils.NSDetatch(nsCtx, assertion)
	if err != nil {
		return nil, authErr(InvalidSecurity, "assertion namespaces")
	}
	doc := etree.NewDocument()
	doc.SetRoot(detached)
	raw, err := doc.WriteToBytes()
	if err != nil {
		return nil, authErr(InvalidSecurity, "assertion does not serialise")
	}
	return raw, nil
}

// trusted returns the certificates that may sign assertions now.
func (v *SAMLValidator) trusted(ctx context.Context) ([]*x509.Certificate, error) {
	certs, err := v.cfg.Trust.Certificates(ctx)
	if err != nil {
		return nil, authErrWrap(Unavailable, "trusted SAML certificates", err)
	}
	if len(certs) == 0 {
		return nil, authErr(FailedAuthentication, "no trusted SAML certificate configured")
	}
	return certs, nil
}

// verify checks that the serialised assertion survives an encoding/xml
// round trip, re-parses it, checks the signature's shape and verifies it
// with certs. It returns the element the signature covers, as goxmldsig
// rebuilt it from the canonical bytes it digested.
func (v *SAMLValidator) verify(raw []byte, certs []*x509.Certificate) (*etree.Element, error) {
	if err := xrv.Validate(bytes.NewReader(raw)); err != nil {
		return nil, authErr(FailedAuthentication, "assertion does not survive an XML round trip")
	}
	parsed := etree.NewDocument()
	if err := parsed.ReadFromBytes(raw); err != nil {
		return nil, authErr(InvalidSecurity, "assertion does not parse")
	}
	root := parsed.Root()
	if err := checkSignatureShape(root); err != nil {
		return nil, authErr(FailedAuthentication, "signature: "+err.Error())
	}
	vc := dsig.NewDefaultValidationContext(&dsig.MemoryX509CertificateStore{Roots: certs})
	vc.IdAttribute = "ID"
	vc.Clock = dsig.NewFakeClockAt(v.cfg.Now())
	signed, err := vc.Validate(root)
	if err != nil {
		return nil, authErrWrap(FailedAuthentication, "signature does not verify with a trusted certificate", err)
	}
	if signed.Tag != "Assertion" || signed.NamespaceURI() != nsSAML2 ||
		signed.SelectAttrValue("ID", "") != root.SelectAttrValue("ID", "") {
		return nil, authErr(FailedAuthentication, "signed element is not the assertion")
	}
	return signed, nil
}

// checkSignatureShape accepts exactly one enveloped signature, a direct
// child of the assertion, with one reference to the assertion's (unique)
// ID, exclusive canonicalisation without comments (comments would let a
// signed NameID be truncated), and RSA with SHA-2.
func checkSignatureShape(a *etree.Element) error {
	var ids int
	for _, at := range a.Attr {
		if at.Space == "" && at.Key == "ID" {
			ids++
		}
	}
	id := a.SelectAttrValue("ID", "")
	if ids != 1 || id == "" {
		return errors.New("assertion needs exactly one ID")
	}
	var sigs []*etree.Element
	idUses := 0
	var walk func(*etree.Element)
	walk = func(e *etree.Element) {
		if e.Tag == "Signature" && e.NamespaceURI() == nsDSig {
			sigs = append(sigs, e)
		}
		for _, at := range e.Attr {
			if at.Value == id && (at.Key == "ID" || at.Key == "Id" || at.Key == "id") {
				idUses++
			}
		}
		for c := range e.ChildElementsSeq() {
			walk(c)
		}
	}
	walk(a)
	if len(sigs) == 0 {
		return errors.New("assertion is not signed")
	}
	if len(sigs) != 1 || sigs[0].Parent() != a {
		return errors.New("want one signature, a direct child of the assertion")
	}
	if idUses != 1 {
		return errors.New("assertion ID is not unique")
	}
	signedInfo := dsigChildren(sigs[0], "SignedInfo")
	if len(signedInfo) != 1 {
		return errors.New("want one SignedInfo")
	}
	si := signedInfo[0]
	if algOf(si, "CanonicalizationMethod") != algExcC14N {
		return errors.New("canonicalisation is not exclusive c14n")
	}
	if !contains(samlSignatureMethods, algOf(si, "SignatureMethod")) {
		return errors.New("signature method not allowed")
	}
	refs := dsigChildren(si, "Reference")
	if len(refs) != 1 {
		return errors.New("want exactly one reference")
	}
	ref := refs[0]
	if ref.SelectAttrValue("URI", "") != "#"+id {
		return errors.New("reference does not point at the assertion")
	}
	if !contains(samlDigestMethods, algOf(ref, "DigestMethod")) {
		return errors.New("digest method not allowed")
	}
	enveloped := false
	for _, ts := range dsigChildren(ref, "Transforms") {
		for _, t := range dsigChildren(ts, "Transform") {
			switch t.SelectAttrValue("Algorithm", "") {
			case algEnveloped:
				enveloped = true
			case algExcC14N:
			default:
				return errors.New("transform not allowed")
			}
		}
	}
	if !enveloped {
		return errors.New("signature is not enveloped")
	}
	return nil
}

func dsigChildren(e *etree.Element, tag string) []*etree.Element {
	var out []*etree.Element
	for c := range e.ChildElementsSeq() {
		if c.Tag == tag && c.NamespaceURI() == nsDSig {
			out = append(out, c)
		}
	}
	return out
}

// algOf returns the Algorithm of the one child tag of e, or "" when there
// is not exactly one.
func algOf(e *etree.Element, tag string) string {
	cs := dsigChildren(e, tag)
	if len(cs) != 1 {
		return ""
	}
	return cs[0].SelectAttrValue("Algorithm", "")
}

func contains(list []string, s string) bool {
	for _, l := range list {
		if l == s {
			return true
		}
	}
	return false
}

// The conditions of a signed assertion (issuer, lifetime, audience, bearer
// subject confirmation) are checked in two parts: readConditions, once,
// when the assertion verifies, and lifetime.check on every request.

// lifetime is what of an assertion's conditions depends on the time: read
// by readConditions with everything that does not, and checked by check.
// A verified assertion keeps its lifetime, so that a reuse checks the
// times without walking the tree again.
type lifetime struct {
	issued, notBefore, notOnOrAfter time.Time
	// bearerUntil is the latest NotOnOrAfter of the bearer subject
	// confirmations; bearerForever means one has none.
	bearerUntil   time.Time
	bearerForever bool
}

// readConditions checks what does not depend on the time (version,
// issuer, audience, well-formed times, a bearer confirmation) and returns
// the times check needs.
func (v *SAMLValidator) readConditions(a *etree.Element) (lifetime, error) {
	var l lifetime
	if a.SelectAttrValue("Version", "") != "2.0" {
		return l, authErr(FailedAuthentication, "assertion is not SAML 2.0")
	}
	issuers := samlChildren(a, "Issuer")
	if len(issuers) != 1 {
		return l, authErr(FailedAuthentication, "want exactly one issuer")
	}
	if iss, ok := textOf(issuers[0]); !ok || iss != v.cfg.Issuer {
		return l, authErr(FailedAuthentication, "issuer is not the configured one")
	}
	ii, err := samlTime(a.SelectAttrValue("IssueInstant", ""))
	if err != nil {
		return l, authErr(FailedAuthentication, "issue instant missing or in the future")
	}
	l.issued = ii

	conds := samlChildren(a, "Conditions")
	if len(conds) != 1 {
		return l, authErr(FailedAuthentication, "want exactly one Conditions")
	}
	c := conds[0]
	nb, err1 := samlTime(c.SelectAttrValue("NotBefore", ""))
	na, err2 := samlTime(c.SelectAttrValue("NotOnOrAfter", ""))
	if err1 != nil || err2 != nil {
		return l, authErr(FailedAuthentication, "lifetime bounds missing or malformed")
	}
	l.notBefore, l.notOnOrAfter = nb, na
	if !nb.Before(na) {
		return l, authErr(FailedAuthentication, "lifetime window is inverted or empty (NotBefore not before NotOnOrAfter)")
	}
	if !ii.Before(na) {
		return l, authErr(FailedAuthentication, "issue instant is not before NotOnOrAfter")
	}
	start := nb
	if ii.Before(start) {
		start = ii
	}
	if life := na.Sub(start); life > v.cfg.MaxLifetime {
		return l, authErr(FailedAuthentication, fmt.Sprintf("assertion lifetime %s exceeds the maximum %s", life.Round(time.Second), v.cfg.MaxLifetime))
	}
	restrictions := samlChildren(c, "AudienceRestriction")
	if len(restrictions) == 0 {
		return l, authErr(FailedAuthentication, "no audience restriction")
	}
	for _, r := range restrictions {
		ok := false
		for _, aud := range samlChildren(r, "Audience") {
			if t, _ := textOf(aud); t == v.cfg.Audience {
				ok = true
			}
		}
		if !ok {
			return l, authErr(FailedAuthentication, "assertion is not for our audience")
		}
	}

	subjects := samlChildren(a, "Subject")
	if len(subjects) != 1 {
		return l, authErr(FailedAuthentication, "want exactly one subject")
	}
	bearer := false
	for _, sc := range samlChildren(subjects[0], "SubjectConfirmation") {
		if sc.SelectAttrValue("Method", "") != bearerMethod {
			continue
		}
		if data := samlChildren(sc, "SubjectConfirmationData"); len(data) == 1 {
			if s := data[0].SelectAttrValue("NotOnOrAfter", ""); s != "" {
				t, err := samlTime(s)
				if err != nil {
					continue
				}
				if s := data[0].SelectAttrValue("NotBefore", ""); s != "" {
					if from, err := samlTime(s); err == nil && !from.Before(t) {
						return l, authErr(FailedAuthentication, "subject confirmation window is inverted or empty")
					}
				}
				bearer = true
				if t.After(l.bearerUntil) {
					l.bearerUntil = t
				}
				continue
			}
		}
		bearer, l.bearerForever = true, true
	}
	if !bearer {
		return l, authErr(FailedAuthentication, "no valid bearer subject confirmation")
	}
	// kjdd does not use the authentication session's bounds, but a signed
	// statement whose session ends before it began is not HelseID's.
	for _, st := range samlChildren(a, "AuthnStatement") {
		from, err1 := samlTime(st.SelectAttrValue("AuthnInstant", ""))
		until, err2 := samlTime(st.SelectAttrValue("SessionNotOnOrAfter", ""))
		if err1 == nil && err2 == nil && !from.Before(until) {
			return l, authErr(FailedAuthentication, "authentication session window is inverted or empty")
		}
	}
	return l, nil
}

// check applies the lifetime to now, allowing skew either way.
func (l lifetime) check(now time.Time, skew time.Duration) error {
	switch {
	case l.issued.After(now.Add(skew)):
		return authErr(FailedAuthentication, "issue instant missing or in the future")
	case now.Add(skew).Before(l.notBefore):
		return authErr(FailedAuthentication, "assertion not yet valid")
	case !now.Add(-skew).Before(l.notOnOrAfter):
		return authErr(FailedAuthentication, "assertion expired")
	case !l.bearerForever && !now.Add(-skew).Before(l.bearerUntil):
		return authErr(FailedAuthentication, "no valid bearer subject confirmation")
	}
	return nil
}

// samlTime parses an xs:dateTime as SAML uses it (UTC, optional fraction).
func samlTime(s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, errors.New("missing time")
	}
	return time.Parse(time.RFC3339Nano, s)
}
