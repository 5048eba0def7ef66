package helseid

import (
	"errors"
	"strings"

	"github.com/beevik/etree"
)

// XUA attribute names, the current name first and older ones after it
// (NHN SAML specification V1.1 to V2.1; norway.md §3.3). Lookup is
// case-insensitive: captured assertions spell purposeOfUse as purposeofuse,
// and helsenorge assertions use bare names such as SecurityLevel.
var (
	attrSubjectName       = []string{"urn:oasis:names:tc:xacml:1.0:subject:subject-id", "urn:oasis:names:tc:xspa:1.0:subject:subject-id"}
	attrNPI               = []string{"urn:oasis:names:tc:xspa:1.0:subject:npi", "urn:oasis:names:tc:xspa:2.0:subject:npi"}
	attrProviderID        = []string{"urn:ihe:iti:xua:2017:subject:provider-identifier"}
	attrRole              = []string{"urn:oasis:names:tc:xacml:2.0:subject:role", "urn:oasis:names:tc:xspa:1.0:subject:role"}
	attrOrgName           = []string{"urn:oasis:names:tc:xspa:1.0:subject:organization"}
	attrOrgID             = []string{"urn:oasis:names:tc:xspa:1.0:subject:organization-id"}
	attrChildOrg          = []string{"urn:oasis:names:tc:xspa:1.0:subject:child-organization"}
	attrChildOrgName      = []string{"urn:nhn:trust-framework:1.0:ext:subject:child-organization-name"}
	attrFacility          = []string{"urn:oasis:names:tc:xspa:1.0:subject:facility"}
	attrFacilityName      = []string{"urn:nhn:trust-framework:1.0:ext:subject:facility-name"}
	attrPurpose           = []string{"urn:oasis:names:tc:xacml:2.0:action:purpose", "urn:oasis:names:tc:xspa:1.0:subject:purposeofuse"}
	attrPurposeDetails    = []string{"urn:nhn:trust-framework:1.0:ext:care-relationship:purpose-of-use-details"}
	attrHealthcareService = []string{"urn:nhn:trust-framework:1.0:ext:care-relationship:healthcare-service", "urn:no:ehelse:saml:1.1:subject:healthcareservice"}
	attrDecisionRef       = []string{"urn:nhn:trust-framework:1.0:ext:care-relationship:decision-ref"}
	attrResourceID        = []string{"urn:oasis:names:tc:xacml:1.0:resource:resource-id", "urn:oasis:names:tc:xacml:2.0:resource:resource-id"}
	attrPatientPOC        = []string{"urn:nhn:trust-framework:1.0:ext:resource:child-organization-id", "urn:nhn:trust-framework:1.0:ext:resource:child-organization"}
	attrPatientPOCName    = []string{"urn:nhn:trust-framework:1.0:ext:resource:child-organization-name"}
	attrPatientFacility   = []string{"urn:nhn:trust-framework:1.0:ext:resource:facility-id", "urn:nhn:trust-framework:1.0:ext:resource:facility"}
	attrPatientFacName    = []string{"urn:nhn:trust-framework:1.0:ext:resource:facility-name"}
	attrSecurityLevel     = []string{"urn:no:ehelse:saml:1.0:subject:SecurityLevel", "SecurityLevel"}
	attrScope             = []string{"urn:no:ehelse:saml:1.0:subject:Scope", "Scope"}
	attrClientID          = []string{"urn:no:ehelse:saml:1.0:subject:client_id", "client_id"}
	attrHomeCommunity     = []string{"urn:ihe:iti:xca:2010:homeCommunityId", "urn:no:ehelse:saml:1.0:subject:homeCommunityId"}
	attrACP               = []string{"urn:ihe:iti:xua:2012:acp"}
)

// maxInnerValue bounds an attribute value that holds escaped HL7 XML.
const maxInnerValue = 4 << 10

// attrValue is one saml:AttributeValue: its text, or the HL7 element it
// holds (escaped as text, as NHN sends it, or as a child element).
type attrValue struct {
	text string
	hl7  *etree.Element
}

// attributes maps lower-cased attribute names to their non-nil values.
type attributes map[string][]attrValue

// readAssertion reads a Principal from a SAML assertion element. It does no
// verification: Authenticate calls it only on the element the signature
// covers.
func readAssertion(a *etree.Element) (*Principal, error) {
	p := &Principal{Kind: TokenSAML, TokenID: cleanID(a.SelectAttrValue("ID", ""))}
	if iss := samlChildren(a, "Issuer"); len(iss) == 1 {
		p.Issuer, _ = textOf(iss[0])
	}
	p.IssuedAt, _ = samlTime(a.SelectAttrValue("IssueInstant", ""))
	if cs := samlChildren(a, "Conditions"); len(cs) == 1 {
		p.ExpiresAt, _ = samlTime(cs[0].SelectAttrValue("NotOnOrAfter", ""))
	}
	if subj := samlChildren(a, "Subject"); len(subj) == 1 {
		if ids := samlChildren(subj[0], "NameID"); len(ids) == 1 {
			id, ok := textOf(ids[0])
			if !ok {
				return nil, errors.New("NameID is not plain text")
			}
			p.PID = cleanID(id)
		}
	}

	attrs, err := readAttributes(a)
	if err != nil {
		return nil, err
	}
	p.Name = cleanText(attrs.text(attrSubjectName))
	p.HPRNumber = attrs.hprNumber()
	p.Authorization = attrs.code(attrRole)
	p.LegalEntity = attrs.organization(attrOrgID, attrOrgName)
	p.PointOfCare = attrs.organization(attrChildOrg, attrChildOrgName)
	p.Department = attrs.organization(attrFacility, attrFacilityName)
	p.OrgNumbers = OrgNumbers{Parent: p.LegalEntity.ID, Child: p.PointOfCare.ID}
	p.Purpose = attrs.code(attrPurpose)
	p.PurposeDetails = attrs.code(attrPurposeDetails)
	p.HealthcareService = attrs.code(attrHealthcareService)
	p.DecisionRef = attrs.decisionRef()
	p.PatientPointOfCare = attrs.organization(attrPatientPOC, attrPatientPOCName)
	p.PatientDepartment = attrs.organization(attrPatientFacility, attrPatientFacName)
	p.SecurityLevel = parseSecurityLevel(attrs.text(attrSecurityLevel))
	p.ClientID = cleanID(attrs.text(attrClientID))
	p.HomeCommunityID = cleanID(attrs.text(attrHomeCommunity))
	p.ConsentPolicy = cleanID(attrs.text(attrACP))
	for _, s := range strings.FieldsFunc(attrs.text(attrScope), func(r rune) bool { return r == ',' || r == ' ' }) {
		if s = cleanID(s); s != "" {
			p.Scopes = append(p.Scopes, s)
		}
	}
	patient, err := attrs.patient()
	if err != nil {
		return nil, err
	}
	p.PatientID = patient
	p.HasAttest = !p.Purpose.IsZero()
	return p, nil
}

func readAttributes(a *etree.Element) (attributes, error) {
	attrs := attributes{}
	for _, st := range samlChildren(a, "AttributeStatement") {
		for _, at := range samlChildren(st, "Attribute") {
			name := strings.ToLower(at.SelectAttrValue("Name", ""))
			for _, av := range samlChildren(at, "AttributeValue") {
				if isNil(av) {
					continue
				}
				v, err := readValue(av)
				if err != nil {
					return nil, err
				}
				attrs[name] = append(attrs[name], v)
			}
		}
	}
	return attrs, nil
}

func isNil(e *etree.Element) bool {
	for _, at := range e.Attr {
		if at.Key == "nil" && at.NamespaceURI() == nsXSI && (at.Value == "true" || at.Value == "1") {
			return true
		}
	}
	return false
}

// readValue reads an AttributeValue: plain text, escaped HL7 XML (CE, II,
// decision-ref), or an HL7 child element.
func readValue(av *etree.Element) (attrValue, error) {
	if kids := av.ChildElements(); len(kids) == 1 {
		return attrValue{hl7: kids[0]}, nil
	} else if len(kids) > 1 {
		return attrValue{}, errors.New("attribute value holds several elements")
	}
	text, ok := textOf(av)
	if !ok {
		return attrValue{}, errors.New("attribute value is not plain text")
	}
	text = strings.TrimSpace(text)
	if !strings.HasPrefix(text, "<") {
		return attrValue{text: text}, nil
	}
	if len(text) > maxInnerValue {
		return attrValue{}, errors.New("attribute value too large")
	}
	doc := etree.NewDocument()
	if err := doc.ReadFromString(text); err != nil || doc.Root() == nil {
		return attrValue{}, errors.New("attribute value holds malformed XML")
	}
	return attrValue{hl7: doc.Root()}, nil
}

// first returns the first value under any of names, in their order.
func (a attributes) first(names []string) (attrValue, bool) {
	for _, n := range names {
		if vs := a[strings.ToLower(n)]; len(vs) > 0 {
			return vs[0], true
		}
	}
	return attrValue{}, false
}

func (a attributes) text(names []string) string {
	v, ok := a.first(names)
	if !ok {
		return ""
	}
	if v.hl7 != nil {
		if t, ok := textOf(v.hl7); ok {
			return strings.TrimSpace(t)
		}
		return ""
	}
	return v.text
}

// code reads an HL7 CE (code, codeSystem, displayName); a plain-text value
// is taken as the code alone.
func (a attributes) code(names []string) Code {
	v, ok := a.first(names)
	if !ok {
		return Code{}
	}
	if v.hl7 == nil {
		return Code{Code: cleanID(v.text)}
	}
	return Code{
		Code:    cleanID(v.hl7.SelectAttrValue("code", "")),
		System:  cleanID(v.hl7.SelectAttrValue("codeSystem", "")),
		Display: cleanText(v.hl7.SelectAttrValue("displayName", "")),
	}
}

// organization reads an HL7 II (extension, root) or a plain number, with
// the name from its companion attribute.
func (a attributes) organization(idNames, nameNames []string) Organization {
	var o Organization
	if v, ok := a.first(idNames); ok {
		if v.hl7 != nil {
			o.ID = cleanID(v.hl7.SelectAttrValue("extension", ""))
			o.System = cleanID(v.hl7.SelectAttrValue("root", ""))
		} else {
			o.ID = cleanID(v.text)
		}
	}
	o.Name = cleanText(a.text(nameNames))
	return o
}

// hprNumber is the provider-identifier II when its root is the HPR series,
// else the npi. A provider-identifier in another series (helsenorge puts a
// fnr there, and in npi too) means there is no HPR number.
func (a attributes) hprNumber() string {
	if v, ok := a.first(attrProviderID); ok {
		if v.hl7 == nil || normOID(v.hl7.SelectAttrValue("root", "")) != OIDHPR {
			return ""
		}
		return cleanID(v.hl7.SelectAttrValue("extension", ""))
	}
	return cleanID(a.text(attrNPI))
}

// decisionRef reads <decision-ref><id value=""/><user-selected value=""/>.
func (a attributes) decisionRef() DecisionRef {
	v, ok := a.first(attrDecisionRef)
	if !ok || v.hl7 == nil {
		return DecisionRef{}
	}
	var d DecisionRef
	for c := range v.hl7.ChildElementsSeq() {
		val := c.SelectAttrValue("value", "")
		switch strings.ToLower(c.Tag) {
		case "id":
			d.ID = cleanID(val)
		case "user-selected", "user_selected":
			var fb flexBool
			if fb.UnmarshalJSON([]byte(`"`+cleanID(val)+`"`)) == nil {
				d.UserSelected = fb.ptr()
			}
		}
	}
	return d
}

// patient reads resource-id under both names. Every value must name the
// same patient: an assertion that names two is refused rather than read
// either way.
func (a attributes) patient() (string, error) {
	var id string
	for _, n := range attrResourceID {
		for _, v := range a[strings.ToLower(n)] {
			if v.hl7 != nil {
				return "", errors.New("resource-id is not a CX string")
			}
			cx := strings.ReplaceAll(strings.TrimSpace(v.text), "&amp;", "&")
			if cleanID(cx) == "" {
				return "", errors.New("resource-id is malformed")
			}
			if id != "" && id != cx {
				return "", errors.New("assertion names more than one patient")
			}
			id = cx
		}
	}
	return id, nil
}

// samlChildren returns the child elements of e named tag in the SAML 2.0
// assertion namespace.
func samlChildren(e *etree.Element, tag string) []*etree.Element {
	var out []*etree.Element
	for c := range e.ChildElementsSeq() {
		if c.Tag == tag && c.NamespaceURI() == nsSAML2 {
			out = append(out, c)
		}
	}
	return out
}

// textOf returns e's character data. ok is false when e holds anything
// else (elements, comments, processing instructions): a value split by a
// comment must not be read as its first half.
func textOf(e *etree.Element) (string, bool) {
	var b strings.Builder
	for _, t := range e.Child {
		cd, isText := t.(*etree.CharData)
		if !isText {
			return "", false
		}
		b.WriteString(cd.Data)
	}
	return strings.TrimSpace(b.String()), true
}
