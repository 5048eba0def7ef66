package devissuer

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/beevik/etree"
	dsig "github.com/russellhaering/goxmldsig"

	"kjdd/helseid"
)

// XUA namespaces and fixed values.
const (
	nsSAML2 = "urn:oasis:names:tc:SAML:2.0:assertion"
	nsHL7   = "urn:hl7-org:v3"
	nsXSI   = "http://www.w3.org/2001/XMLSchema-instance"
	// nationalCommunity is the homeCommunityId of NHN's national gateway,
	// which is who sends XUA assertions to kjdd.
	nationalCommunity = "urn:oid:2.16.578.1.12.4.1.7.1.1"
)

// AssertionOptions describe one XUA assertion. Zero values take the
// defaults.
type AssertionOptions struct {
	// Patient is the patient the assertion authorises (resource-id): an
	// 11-digit fnr or D-number, or a CX. Required.
	Patient string
	// PID, HPRNumber and Purpose are as in TokenOptions.
	PID       string
	HPRNumber string
	Purpose   string
	// Lifetime is how long the assertion is valid; default
	// DefaultLifetime.
	Lifetime time.Duration
}

// Assertion mints a signed XUA SAML assertion shaped like those NHN's
// national gateway sends (the current attribute names, HL7 values escaped
// as text, exclusive C14N, RSA-SHA256, enveloped signature with the
// certificate in KeyInfo). It returns the saml:Assertion element alone,
// without an XML declaration, ready to be put into wsse:Security.
func (i *Issuer) Assertion(o AssertionOptions) ([]byte, error) {
	patient, err := PatientCX(o.Patient)
	if err != nil {
		return nil, err
	}
	to := TokenOptions{PID: o.PID, HPRNumber: o.HPRNumber, Purpose: o.Purpose, Lifetime: o.Lifetime}
	if err := to.fill(i.settings); err != nil {
		return nil, err
	}
	now := i.Now().UTC()
	a := i.buildAssertion(to, patient, now)
	ctx, err := dsig.NewSigningContext(i.keys.SAMLKey, [][]byte{i.keys.SAMLCertificate.Raw})
	if err != nil {
		return nil, err
	}
	ctx.Canonicalizer = dsig.MakeC14N10ExclusiveCanonicalizerWithPrefixList("")
	if err := ctx.SetSignatureMethod(dsig.RSASHA256SignatureMethod); err != nil {
		return nil, err
	}
	sig, err := ctx.ConstructSignature(a, true)
	if err != nil {
		return nil, fmt.Errorf("devissuer: sign assertion: %w", err)
	}
	// The schema wants the signature right after saml:Issuer.
	a.InsertChildAt(1, sig)
	doc := etree.NewDocument()
	doc.SetRoot(a)
	return doc.WriteToBytes()
}

// buildAssertion makes the unsigned assertion.
func (i *Issuer) buildAssertion(o TokenOptions, patient string, now time.Time) *etree.Element {
	a := etree.NewElement("saml:Assertion")
	a.CreateAttr("xmlns:saml", nsSAML2)
	a.CreateAttr("ID", "_"+randomID())
	a.CreateAttr("IssueInstant", xsTime(now))
	a.CreateAttr("Version", "2.0")
	a.CreateElement("saml:Issuer").SetText(i.settings.SAMLIssuer)

	subject := a.CreateElement("saml:Subject")
	subject.CreateElement("saml:NameID").SetText(o.PID)
	sc := subject.CreateElement("saml:SubjectConfirmation")
	sc.CreateAttr("Method", "urn:oasis:names:tc:SAML:2.0:cm:bearer")

	cond := a.CreateElement("saml:Conditions")
	// A minute back, so a verifier whose clock is a little behind accepts
	// it at once.
	cond.CreateAttr("NotBefore", xsTime(now.Add(-time.Minute)))
	cond.CreateAttr("NotOnOrAfter", xsTime(now.Add(o.Lifetime)))
	cond.CreateElement("saml:AudienceRestriction").CreateElement("saml:Audience").SetText(i.settings.SAMLAudience)

	st := a.CreateElement("saml:AttributeStatement")
	attr := func(name, value string) {
		at := st.CreateElement("saml:Attribute")
		at.CreateAttr("Name", name)
		at.CreateElement("saml:AttributeValue").SetText(value)
	}
	org := hl7II(i.settings.HospitalOrgNumber, helseid.OIDOrgNumber)
	attr("urn:oasis:names:tc:xacml:1.0:subject:subject-id", DefaultPractitionerName)
	attr("urn:oasis:names:tc:xspa:1.0:subject:npi", o.HPRNumber)
	attr("urn:ihe:iti:xua:2017:subject:provider-identifier", hl7II(o.HPRNumber, helseid.OIDHPR))
	attr("urn:oasis:names:tc:xacml:2.0:subject:role", hl7CE("Role", "LE", "urn:oid:2.16.578.1.12.4.1.1.9060", "Lege"))
	attr("urn:oasis:names:tc:xspa:1.0:subject:organization", "kjdd development hospital")
	attr("urn:oasis:names:tc:xspa:1.0:subject:organization-id", org)
	attr("urn:oasis:names:tc:xspa:1.0:subject:child-organization", org)
	attr("urn:oasis:names:tc:xacml:2.0:action:purpose", hl7CE("Purpose", o.Purpose, "urn:oid:"+OIDPurposeOfUse, Purposes[o.Purpose]))
	attr("urn:oasis:names:tc:xacml:1.0:resource:resource-id", patient)
	attr("urn:ihe:iti:xca:2010:homeCommunityId", nationalCommunity)
	attr("urn:no:ehelse:saml:1.0:subject:SecurityLevel", "4")
	attr("urn:no:ehelse:saml:1.0:subject:client_id", ClientID)

	authn := a.CreateElement("saml:AuthnStatement")
	authn.CreateAttr("AuthnInstant", xsTime(now))
	authn.CreateElement("saml:AuthnContext").CreateElement("saml:AuthnContextClassRef").SetText("urn:oasis:names:tc:SAML:2.0:ac:classes:X509")
	return a
}

// hl7CE is an HL7 v3 CE as NHN puts it into an attribute value: escaped
// XML text.
func hl7CE(tag, code, system, display string) string {
	return `<` + tag + ` xmlns="` + nsHL7 + `" xmlns:xsi="` + nsXSI + `" xsi:type="CE" code="` + code +
		`" codeSystem="` + system + `" displayName="` + display + `"/>`
}

// hl7II is an HL7 v3 II, as hl7CE.
func hl7II(extension, root string) string {
	return `<id xmlns="` + nsHL7 + `" xmlns:xsi="` + nsXSI + `" xsi:type="II" extension="` + extension + `" root="urn:oid:` + root + `"/>`
}

func xsTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }

// PatientCX turns an 11-digit fnr or D-number into the CX kjdd's queries
// use (id^^^&OID&ISO, the OID of its series); a CX is returned as given
// after a shape check.
func PatientCX(s string) (string, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return "", errors.New("devissuer: a patient is required")
	}
	if allDigits(s, 11) {
		return s + "^^^&" + pidSystem(s) + "&ISO", nil
	}
	id, rest, ok := strings.Cut(s, "^^^&")
	if !ok || id == "" || strings.ContainsAny(s, "<>\"'") || !strings.HasSuffix(rest, "&ISO") {
		return "", errors.New("devissuer: the patient must be an 11-digit fnr or D-number, or a CX id^^^&OID&ISO")
	}
	return s, nil
}
