package helseidtest

import (
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"strings"
	"testing"
	"time"

	"github.com/beevik/etree"
	dsig "github.com/russellhaering/goxmldsig"
)

// Defaults of the assertions a SAMLSigner makes: NHN's test issuer and the
// audience of document sharing, and NHN's synthetic test patients.
const (
	DefaultSAMLIssuer   = "https://helseid-xdssaml.test.nhn.no"
	DefaultSAMLAudience = "nhn:dokumentdeling-saml"
	DefaultPatient      = "13116900216^^^&2.16.578.1.12.4.1.4.1&ISO"
	// EvilPatient is the patient the attacking variants try to smuggle in.
	EvilPatient = "08077000292^^^&2.16.578.1.12.4.1.4.1&ISO"
)

const (
	nsSAML2 = "urn:oasis:names:tc:SAML:2.0:assertion"
	nsWSSE  = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"
	nsWSU   = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd"
	nsHL7   = "urn:hl7-org:v3"
	nsXSI   = "http://www.w3.org/2001/XMLSchema-instance"
)

// SAMLSigner makes XUA SAML assertions shaped like those NHN's gateway
// sends (attribute names, escaped HL7 values, exclusive C14N, RSA-SHA256,
// enveloped signature with the certificate in KeyInfo), signed with an
// RSA-2048 key and a self-signed certificate.
type SAMLSigner struct {
	Key            *rsa.PrivateKey
	Certificate    *x509.Certificate
	CertificatePEM []byte
	// Issuer and Audience go into every assertion unless overridden.
	Issuer   string
	Audience string
}

// NewSAMLSigner makes a signer with a fresh key and certificate.
func NewSAMLSigner(t testing.TB) *SAMLSigner {
	t.Helper()
	k := newRSAKey()
	return NewSAMLSignerWithKey(k, selfSigned(k, "kjdd test XUA signer"))
}

// NewSAMLSignerWithKey makes a signer from an existing key and its
// certificate, e.g. persisted development keys.
func NewSAMLSignerWithKey(k *rsa.PrivateKey, c *x509.Certificate) *SAMLSigner {
	return &SAMLSigner{
		Key:            k,
		Certificate:    c,
		CertificatePEM: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw}),
		Issuer:         DefaultSAMLIssuer,
		Audience:       DefaultSAMLAudience,
	}
}

// xua is the content of one assertion.
type xua struct {
	id, issuer, audience                  string
	issueInstant, notBefore, notOnOrAfter time.Time
	// confirmFrom/confirmUntil bound the bearer SubjectConfirmationData
	// and authnInstant/sessionUntil the AuthnStatement, when set.
	confirmFrom, confirmUntil           time.Time
	authnInstant, sessionUntil          time.Time
	pid, name, hpr                      string
	patient, queryPatient               string
	purpose, securityLevel              string
	oldNames                            bool
	unsigned, tampered, commentInNameID bool
	wrap                                wrapping
}

type wrapping int

const (
	wrapNone wrapping = iota
	wrapSecondUnsigned
	wrapEvilOuter
	wrapMovedUnderWrapper
	wrapMovedToBody
)

// SAMLOption changes one aspect of an assertion or of the header around it.
type SAMLOption func(*xua)

// XUAPatient sets resource-id (a CX).
func XUAPatient(cx string) SAMLOption { return func(x *xua) { x.patient = cx } }

// XUAQueryPatient sets the patient Envelope's ITI-38 query asks for
// (default: the assertion's patient).
func XUAQueryPatient(cx string) SAMLOption { return func(x *xua) { x.queryPatient = cx } }

// XUAPractitioner sets NameID (pid), subject-id (name) and the HPR number.
func XUAPractitioner(pid, name, hpr string) SAMLOption {
	return func(x *xua) { x.pid, x.name, x.hpr = pid, name, hpr }
}

// XUAPurpose sets the purpose of use code; "" leaves the attribute out.
func XUAPurpose(code string) SAMLOption { return func(x *xua) { x.purpose = code } }

// XUASecurityLevel sets the SecurityLevel attribute.
func XUASecurityLevel(level string) SAMLOption { return func(x *xua) { x.securityLevel = level } }

// XUAIssuer sets saml:Issuer.
func XUAIssuer(iss string) SAMLOption { return func(x *xua) { x.issuer = iss } }

// XUAAudience sets the Audience.
func XUAAudience(aud string) SAMLOption { return func(x *xua) { x.audience = aud } }

// XUAValidity sets NotBefore and NotOnOrAfter (IssueInstant is NotBefore).
func XUAValidity(notBefore, notOnOrAfter time.Time) SAMLOption {
	return func(x *xua) { x.issueInstant, x.notBefore, x.notOnOrAfter = notBefore, notBefore, notOnOrAfter }
}

// XUASubjectConfirmationWindow gives the bearer subject confirmation a
// SubjectConfirmationData with NotBefore and NotOnOrAfter.
func XUASubjectConfirmationWindow(notBefore, notOnOrAfter time.Time) SAMLOption {
	return func(x *xua) { x.confirmFrom, x.confirmUntil = notBefore, notOnOrAfter }
}

// XUAAuthnSession sets the AuthnStatement's AuthnInstant and its
// SessionNotOnOrAfter (by default AuthnInstant is IssueInstant and the
// session unbounded).
func XUAAuthnSession(authnInstant, sessionNotOnOrAfter time.Time) SAMLOption {
	return func(x *xua) { x.authnInstant, x.sessionUntil = authnInstant, sessionNotOnOrAfter }
}

// XUAOldAttributeNames uses the V1.x attribute names (xspa subject-id, npi
// 2.0, xspa role, purposeOfUse, xacml 2.0 resource-id) and leaves out
// provider-identifier.
func XUAOldAttributeNames() SAMLOption { return func(x *xua) { x.oldNames = true } }

// Unsigned leaves the signature out.
func Unsigned() SAMLOption { return func(x *xua) { x.unsigned = true } }

// Tampered changes the patient after signing.
func Tampered() SAMLOption { return func(x *xua) { x.tampered = true } }

// CommentInNameID splits NameID with a comment after signing. Exclusive
// C14N drops comments, so the signature still verifies; a validator that
// reads the text before the comment would see a truncated identity.
func CommentInNameID() SAMLOption { return func(x *xua) { x.commentInNameID = true } }

// SecondUnsignedAssertion puts an unsigned assertion for EvilPatient into
// wsse:Security before the signed one.
func SecondUnsignedAssertion() SAMLOption { return func(x *xua) { x.wrap = wrapSecondUnsigned } }

// WrappedInEvilAssertion is the classic XML signature wrapping: an
// assertion for EvilPatient with the same ID and a copy of the signature,
// holding the genuine signed assertion inside saml:Advice.
func WrappedInEvilAssertion() SAMLOption { return func(x *xua) { x.wrap = wrapEvilOuter } }

// SignedMovedUnderWrapper puts the signed assertion inside a foreign
// element within wsse:Security instead of directly in it.
func SignedMovedUnderWrapper() SAMLOption { return func(x *xua) { x.wrap = wrapMovedUnderWrapper } }

// SignedMovedToBody puts an unsigned assertion for EvilPatient in
// wsse:Security and the genuine signed one, wrapped, into the SOAP Body
// (Envelope only).
func SignedMovedToBody() SAMLOption { return func(x *xua) { x.wrap = wrapMovedToBody } }

func (s *SAMLSigner) spec(opts []SAMLOption) *xua {
	now := time.Now().UTC()
	x := &xua{
		id: "_" + randomID(), issuer: s.Issuer, audience: s.Audience,
		issueInstant: now, notBefore: now, notOnOrAfter: now.Add(time.Hour),
		pid: DefaultPractitionerID, name: DefaultPractitioner, hpr: DefaultHPRNumber,
		patient: DefaultPatient, purpose: "TREAT", securityLevel: "4",
	}
	for _, o := range opts {
		o(x)
	}
	if x.queryPatient == "" {
		x.queryPatient = x.patient
	}
	return x
}

// Assertion returns a saml:Assertion element alone, signed unless
// Unsigned; Tampered and CommentInNameID apply, wrapping options do not.
func (s *SAMLSigner) Assertion(opts ...SAMLOption) []byte {
	return []byte(s.assertion(s.spec(opts)))
}

// Security returns a wsse:Security header holding the assertion and a
// wsu:Timestamp, arranged as the wrapping options say.
func (s *SAMLSigner) Security(opts ...SAMLOption) []byte {
	return []byte(s.security(s.spec(opts)))
}

func (s *SAMLSigner) security(x *xua) string {
	signed := s.assertion(x)
	var inner string
	switch x.wrap {
	case wrapNone:
		inner = signed
	case wrapSecondUnsigned:
		inner = s.evil(x, "_"+randomID()) + signed
	case wrapEvilOuter:
		inner = s.evilOuter(x, signed)
	case wrapMovedUnderWrapper:
		inner = `<w:Wrapper xmlns:w="urn:kjdd:test:wrapper">` + signed + `</w:Wrapper>`
	case wrapMovedToBody:
		inner = s.evil(x, x.id)
	}
	ts := `<wsu:Timestamp wsu:Id="TS-1"><wsu:Created>` + samlTime(x.issueInstant) + `</wsu:Created><wsu:Expires>` +
		samlTime(x.issueInstant.Add(15*time.Minute)) + `</wsu:Expires></wsu:Timestamp>`
	return `<wsse:Security xmlns:wsse="` + nsWSSE + `" xmlns:wsu="` + nsWSU + `">` + inner + ts + `</wsse:Security>`
}

// Envelope returns a SOAP 1.2 ITI-38 request (FindDocuments for the query
// patient) carrying Security(opts...).
func (s *SAMLSigner) Envelope(opts ...SAMLOption) []byte {
	x := s.spec(opts)
	var b strings.Builder
	b.WriteString(`<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope" xmlns:a="http://www.w3.org/2005/08/addressing">`)
	b.WriteString(`<s:Header><a:Action s:mustUnderstand="1">urn:ihe:iti:2007:CrossGatewayQuery</a:Action>`)
	b.WriteString(`<a:MessageID>urn:uuid:0f6c3a52-8f0e-4f53-9d3e-1d1c2c1f0a01</a:MessageID>`)
	b.WriteString(`<a:ReplyTo><a:Address>http://www.w3.org/2005/08/addressing/anonymous</a:Address></a:ReplyTo>`)
	b.WriteString(s.security(x))
	b.WriteString(`</s:Header><s:Body>`)
	if x.wrap == wrapMovedToBody {
		genuine := *x
		genuine.wrap = wrapNone
		b.WriteString(`<w:Wrapper xmlns:w="urn:kjdd:test:wrapper">` + s.assertion(&genuine) + `</w:Wrapper>`)
	}
	b.WriteString(`<query:AdhocQueryRequest xmlns:query="urn:oasis:names:tc:ebxml-regrep:xsd:query:3.0" xmlns:rim="urn:oasis:names:tc:ebxml-regrep:xsd:rim:3.0">`)
	b.WriteString(`<query:ResponseOption returnType="LeafClass" returnComposedObjects="true"/>`)
	b.WriteString(`<rim:AdhocQuery id="urn:uuid:14d4debf-8f97-4251-9a74-a90016b0af0d">`)
	b.WriteString(`<rim:Slot name="$XDSDocumentEntryPatientId"><rim:ValueList><rim:Value>'` + escape(x.queryPatient) + `'</rim:Value></rim:ValueList></rim:Slot>`)
	b.WriteString(`<rim:Slot name="$XDSDocumentEntryStatus"><rim:ValueList><rim:Value>('urn:oasis:names:tc:ebxml-regrep:StatusType:Approved')</rim:Value></rim:ValueList></rim:Slot>`)
	b.WriteString(`</rim:AdhocQuery></query:AdhocQueryRequest></s:Body></s:Envelope>`)
	return []byte(b.String())
}

func escape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&quot;", "'", "&apos;").Replace(s)
}

func samlTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }

// build makes the unsigned assertion element.
func (s *SAMLSigner) build(x *xua) *etree.Element {
	a := etree.NewElement("saml:Assertion")
	a.CreateAttr("xmlns:saml", nsSAML2)
	a.CreateAttr("ID", x.id)
	a.CreateAttr("IssueInstant", samlTime(x.issueInstant))
	a.CreateAttr("Version", "2.0")
	a.CreateElement("saml:Issuer").SetText(x.issuer)
	subj := a.CreateElement("saml:Subject")
	subj.CreateElement("saml:NameID").SetText(x.pid)
	sc := subj.CreateElement("saml:SubjectConfirmation")
	sc.CreateAttr("Method", "urn:oasis:names:tc:SAML:2.0:cm:bearer")
	if !x.confirmUntil.IsZero() {
		data := sc.CreateElement("saml:SubjectConfirmationData")
		data.CreateAttr("NotBefore", samlTime(x.confirmFrom))
		data.CreateAttr("NotOnOrAfter", samlTime(x.confirmUntil))
	}
	cond := a.CreateElement("saml:Conditions")
	cond.CreateAttr("NotBefore", samlTime(x.notBefore))
	cond.CreateAttr("NotOnOrAfter", samlTime(x.notOnOrAfter))
	cond.CreateElement("saml:AudienceRestriction").CreateElement("saml:Audience").SetText(x.audience)

	st := a.CreateElement("saml:AttributeStatement")
	attr := func(name, value string) {
		at := st.CreateElement("saml:Attribute")
		at.CreateAttr("Name", name)
		at.CreateElement("saml:AttributeValue").SetText(value)
	}
	ce := func(tag, code, system, display string) string {
		return `<` + tag + ` xmlns="` + nsHL7 + `" xmlns:xsi="` + nsXSI + `" xsi:type="CE" code="` + code +
			`" codeSystem="` + system + `" displayName="` + display + `"/>`
	}
	ii := func(ext, root string) string {
		return `<id xmlns="` + nsHL7 + `" xmlns:xsi="` + nsXSI + `" xsi:type="II" extension="` + ext + `" root="` + root + `"/>`
	}
	role := ce("Role", "LE", "urn:oid:2.16.578.1.12.4.1.1.9060", "Lege")
	if x.oldNames {
		attr("urn:oasis:names:tc:xspa:1.0:subject:subject-id", x.name)
		attr("urn:oasis:names:tc:xspa:2.0:subject:npi", x.hpr)
		attr("urn:oasis:names:tc:xspa:1.0:subject:role", role)
		if x.purpose != "" {
			attr("urn:oasis:names:tc:xspa:1.0:subject:purposeOfUse", ce("PurposeOfUse", x.purpose, "urn:oid:2.16.840.1.113883.1.11.20448", "Treatment"))
		}
		attr("urn:no:ehelse:saml:1.1:subject:healthcareservice", ce("HealthcareService", "KP01", "urn:oid:2.16.578.1.12.4.1.1.8663", "Legetjeneste ved sykehjem mv."))
		attr("urn:oasis:names:tc:xacml:2.0:resource:resource-id", x.patient)
		attr("urn:no:ehelse:saml:1.0:subject:homeCommunityId", "2.16.578.1.12.4.1.7.1.1")
	} else {
		attr("urn:oasis:names:tc:xacml:1.0:subject:subject-id", x.name)
		attr("urn:oasis:names:tc:xspa:1.0:subject:npi", x.hpr)
		attr("urn:ihe:iti:xua:2017:subject:provider-identifier", ii(x.hpr, "2.16.578.1.12.4.1.4.4"))
		attr("urn:oasis:names:tc:xacml:2.0:subject:role", role)
		if x.purpose != "" {
			attr("urn:oasis:names:tc:xacml:2.0:action:purpose", ce("Purpose", x.purpose, "urn:oid:2.16.840.1.113883.1.11.20448", "Treatment"))
		}
		attr("urn:nhn:trust-framework:1.0:ext:care-relationship:healthcare-service", ce("HealthcareService", "KP01", "urn:oid:2.16.578.1.12.4.1.1.8663", "Legetjeneste ved sykehjem mv."))
		attr("urn:nhn:trust-framework:1.0:ext:care-relationship:purpose-of-use-details", ce("PurposeOfUseDetails", "BEHANDLER", "urn:AuditEventHL7Norway/CodeSystem/carerelation", "Behandler"))
		attr("urn:nhn:trust-framework:1.0:ext:care-relationship:decision-ref",
			`<decision-ref><id value="`+DefaultDecisionRef+`" /><user-selected value="True" /></decision-ref>`)
		attr("urn:oasis:names:tc:xacml:1.0:resource:resource-id", x.patient)
		attr("urn:ihe:iti:xca:2010:homeCommunityId", "2.16.578.1.12.4.1.7.1.1")
	}
	attr("urn:oasis:names:tc:xspa:1.0:subject:organization", "VOSS HERAD")
	attr("urn:oasis:names:tc:xspa:1.0:subject:organization-id", ii(DefaultOrgNrParent, "urn:oid:2.16.578.1.12.4.1.4.101"))
	attr("urn:oasis:names:tc:xspa:1.0:subject:child-organization", ii(DefaultOrgNrChild, "urn:oid:2.16.578.1.12.4.1.4.101"))
	attr("urn:nhn:trust-framework:1.0:ext:subject:child-organization-name", "VOSS SJUKEHEIM")
	attr("urn:no:ehelse:saml:1.0:subject:SecurityLevel", x.securityLevel)
	attr("urn:no:ehelse:saml:1.0:subject:Scope", "journaldokumenter_helsepersonell")
	attr("urn:no:ehelse:saml:1.0:subject:client_id", DefaultClientID)

	authn := a.CreateElement("saml:AuthnStatement")
	if x.authnInstant.IsZero() {
		authn.CreateAttr("AuthnInstant", samlTime(x.issueInstant))
	} else {
		authn.CreateAttr("AuthnInstant", samlTime(x.authnInstant))
		authn.CreateAttr("SessionNotOnOrAfter", samlTime(x.sessionUntil))
	}
	authn.CreateElement("saml:AuthnContext").CreateElement("saml:AuthnContextClassRef").SetText("urn:oasis:names:tc:SAML:2.0:ac:classes:X509")
	return a
}

// assertion builds, signs and serialises an assertion, applying the
// after-signing variants.
func (s *SAMLSigner) assertion(x *xua) string {
	a := s.build(x)
	if !x.unsigned {
		s.sign(a)
	}
	if x.tampered {
		for _, v := range a.FindElements("./saml:AttributeStatement/saml:Attribute/saml:AttributeValue") {
			if strings.Contains(v.Parent().SelectAttrValue("Name", ""), "resource-id") {
				v.SetText(EvilPatient)
			}
		}
	}
	if x.commentInNameID {
		n := a.FindElement("./saml:Subject/saml:NameID")
		id := n.Text()
		n.SetText("")
		n.CreateText(id[:4])
		n.CreateComment("split")
		n.CreateText(id[4:])
	}
	doc := etree.NewDocument()
	doc.SetRoot(a)
	out, err := doc.WriteToString()
	if err != nil {
		panic(err)
	}
	return out
}

// sign inserts an enveloped signature right after saml:Issuer, where the
// SAML schema wants it.
func (s *SAMLSigner) sign(a *etree.Element) {
	ctx, err := dsig.NewSigningContext(s.Key, [][]byte{s.Certificate.Raw})
	if err != nil {
		panic(err)
	}
	ctx.Canonicalizer = dsig.MakeC14N10ExclusiveCanonicalizerWithPrefixList("")
	if err := ctx.SetSignatureMethod(dsig.RSASHA256SignatureMethod); err != nil {
		panic(err)
	}
	sig, err := ctx.ConstructSignature(a, true)
	if err != nil {
		panic(err)
	}
	a.InsertChildAt(1, sig)
}

// evil is an unsigned assertion for EvilPatient.
func (s *SAMLSigner) evil(x *xua, id string) string {
	e := *x
	e.id, e.patient, e.unsigned, e.tampered, e.commentInNameID = id, EvilPatient, true, false, false
	return s.assertion(&e)
}

// evilOuter wraps the genuine signed assertion in an evil one with the same
// ID and a copy of its signature.
func (s *SAMLSigner) evilOuter(x *xua, signed string) string {
	doc := etree.NewDocument()
	if err := doc.ReadFromString(signed); err != nil {
		panic(err)
	}
	genuine := doc.Root()
	e := *x
	e.patient = EvilPatient
	outer := s.build(&e)
	if sig := genuine.FindElement("./ds:Signature"); sig != nil {
		outer.InsertChildAt(1, sig.Copy())
	}
	outer.CreateElement("saml:Advice").AddChild(genuine.Copy())
	out := etree.NewDocument()
	out.SetRoot(outer)
	str, err := out.WriteToString()
	if err != nil {
		panic(err)
	}
	return str
}
