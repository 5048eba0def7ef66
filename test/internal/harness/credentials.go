package harness

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/beevik/etree"

	"kjdd/helseid/helseidtest"
)

// Auth says which credentials a Server attaches to its requests.
type Auth int

const (
	// AuthAuto attaches valid credentials for the endpoint and action, as
	// DESIGN.md §4 requires them: on /xca a freshly signed XUA assertion
	// for the request's patient in wsse:Security (replacing whatever
	// wsse:Security the request carries, such as a replayed sample's
	// expired one); on /xds query and retrieve a DPoP-bound practitioner
	// token with its proof; on /xds register and the sperring API a
	// DPoP-bound client-credentials token of the hospital; on the audit API
	// a practitioner token. An Authorization header the test set itself is
	// left alone.
	AuthAuto Auth = iota
	// AuthNone attaches nothing and leaves the request exactly as the test
	// wrote it: for refusal tests, which bring their own credentials.
	AuthNone
)

// Scopes the test servers are configured with; the Identity's tokens carry
// all of them.
const (
	ScopeRead     = "nhn:kjdd/read"
	ScopeRegister = "nhn:kjdd/register"
	ScopeAudit    = "nhn:kjdd/audit"
)

// Identity is the world outside the hospital a test server trusts: a fake
// HelseID (OpenID discovery and JWKS over loopback, minting access tokens
// and DPoP proofs) whose JWKS also publishes the certificate of a fake
// national-gateway SAML signer. Servers started with the same Identity
// trust the same issuer, as instances of one deployment do.
type Identity struct {
	// Issuer is the fake HelseID; Issuer.SAML the SAML signer.
	Issuer *helseidtest.Issuer
	// OrgNumber is the orgnr_parent of client-credentials tokens; default
	// HospitalOrgNumber, the organisation number servers are started with.
	OrgNumber string
}

// NewIdentity starts a fake HelseID for t (stopped when t ends).
func NewIdentity(t testing.TB) *Identity {
	t.Helper()
	return &Identity{Issuer: helseidtest.NewIssuer(t), OrgNumber: HospitalOrgNumber}
}

// Env is the configuration that makes kjdd trust this identity: issuer,
// audiences, scopes and DPoP required, as in production. SAML trust comes
// from the x5c of the issuer's JWKS.
func (id *Identity) Env() map[string]string {
	return map[string]string{
		"KJDD_HELSEID_ISSUER":   id.Issuer.URL,
		"KJDD_HELSEID_AUDIENCE": helseidtest.DefaultAudience,
		"KJDD_HELSEID_DPOP":     "required",
		"KJDD_SAML_ISSUER":      helseidtest.DefaultSAMLIssuer,
		"KJDD_SAML_AUDIENCE":    helseidtest.DefaultSAMLAudience,
		"KJDD_SCOPE_READ":       ScopeRead,
		"KJDD_SCOPE_REGISTER":   ScopeRegister,
		"KJDD_SCOPE_AUDIT":      ScopeAudit,
		"KJDD_HOSPITAL_ORGNR":   id.OrgNumber,
	}
}

// UserToken mints a practitioner's access token (security level 4, pid,
// HPR number, attest with purpose TREAT, every scope), DPoP-bound to the
// issuer's client key; opts change it.
func (id *Identity) UserToken(opts ...helseidtest.TokenOption) string {
	return id.Issuer.Token(opts...)
}

// ClientToken mints the hospital EPJ's client-credentials token (every
// scope, orgnr_parent OrgNumber), DPoP-bound; opts change it.
func (id *Identity) ClientToken(opts ...helseidtest.TokenOption) string {
	base := []helseidtest.TokenOption{
		helseidtest.ClientCredentials(),
		helseidtest.Claim("helseid://claims/client/claims/orgnr_parent", id.OrgNumber),
	}
	return id.Issuer.Token(append(base, opts...)...)
}

// Authorize sets Authorization and DPoP on r for token (DPoP-bound: a
// fresh proof for r's method and URL).
func (id *Identity) Authorize(r *http.Request, token string) {
	r.Header.Set("Authorization", "DPoP "+token)
	r.Header.Set("DPoP", id.Issuer.DPoPProof(r.Method, r.URL.String(), token))
}

// Security returns a wsse:Security header with a freshly signed XUA
// assertion for patient (a CX), changed by opts.
func (id *Identity) Security(patient string, opts ...helseidtest.SAMLOption) string {
	return string(id.Issuer.SAML.Security(append([]helseidtest.SAMLOption{helseidtest.XUAPatient(patient)}, opts...)...))
}

// With returns a view of s that attaches credentials as a says; the
// process, identity and client are shared.
func (s *Server) With(a Auth) *Server {
	c := *s
	c.auth = a
	return &c
}

// Identity is the fake HelseID this server trusts.
func (s *Server) Identity() *Identity { return s.identity }

// orgNumber is the KJDD_HOSPITAL_ORGNR the server runs with, which the
// tests may have changed from the identity's.
func (s *Server) orgNumber() string {
	if o := s.opts.Env["KJDD_HOSPITAL_ORGNR"]; o != "" {
		return o
	}
	return HospitalOrgNumber
}

// tokenKind is which access token a REST or /xds request needs.
type tokenKind int

const (
	noToken tokenKind = iota
	userToken
	clientToken
)

// Actions whose callers are systems with client-credentials tokens.
var clientActions = map[string]bool{
	ActionRegister:           true,
	ActionProvideAndRegister: true,
}

var actionRE = regexp.MustCompile(`<(?:[A-Za-z_][\w.-]*:)?Action\b[^>]*>\s*([^<\s]+)\s*</`)

// peekAction reads wsa:Action from the first 64 KiB of a SOAP message
// (the header comes first) without consuming body.
func peekAction(body io.Reader) (string, io.Reader) {
	br := bufio.NewReaderSize(body, 64<<10)
	head, _ := br.Peek(64 << 10)
	m := actionRE.FindSubmatch(head)
	if m == nil {
		return "", br
	}
	return string(m[1]), br
}

// attach adds the credentials AuthAuto stands for to req, whose body is
// body (already read for /xca, a stream otherwise); it returns the body to
// send.
func (s *Server) attach(t testing.TB, req *http.Request, path, contentType string, body io.Reader) io.Reader {
	t.Helper()
	if s.auth != AuthAuto || s.identity == nil {
		return body
	}
	kind := noToken
	switch {
	case path == PathXCA && body != nil:
		raw, err := io.ReadAll(io.LimitReader(body, maxResponse+1))
		if err != nil {
			t.Fatalf("read request for %s: %v", path, err)
		}
		return bytes.NewReader(s.withAssertion(t, contentType, raw))
	case path == PathRegistry || path == PathRepository:
		kind = userToken
		if body != nil {
			var action string
			action, body = peekAction(body)
			if clientActions[action] {
				kind = clientToken
			}
		}
	case strings.HasPrefix(path, "/api/v1/sperring"), strings.HasPrefix(path, "/fhir/"):
		kind = clientToken
		if strings.HasPrefix(path, "/fhir/") && req.Method == http.MethodGet {
			kind = userToken
		}
	case strings.HasPrefix(path, "/api/v1/audit"), strings.HasPrefix(path, "/privacy"):
		kind = userToken
	}
	if kind == noToken || req.Header.Get("Authorization") != "" {
		return body
	}
	tok := s.identity.UserToken()
	if kind == clientToken {
		tok = s.identity.ClientToken(helseidtest.Claim("helseid://claims/client/claims/orgnr_parent", s.orgNumber()))
	}
	s.identity.Authorize(req, tok)
	return body
}

// withAssertion returns the /xca request with a fresh assertion for its
// patient in wsse:Security. A request that does not parse is sent as it
// is: kjdd must refuse it for what it is, not for its credentials.
func (s *Server) withAssertion(t testing.TB, contentType string, raw []byte) []byte {
	t.Helper()
	out, err := rewriteRoot(contentType, raw, func(root []byte) ([]byte, error) {
		env, err := parseLenient(root)
		if err != nil {
			return nil, err
		}
		patient := s.patientOf(t, env)
		if utf8.Valid(root) {
			return spliceSecurity(root, env, s.identity.Security(patient))
		}
		// A capture in ISO-8859-1 (NHN's gateway has sent such, declared
		// as UTF-8) keeps its encoding: the fresh assertion names the
		// practitioner as the old one did and is written in Latin-1 too,
		// so kjdd still has to read the message as Latin-1.
		var opts []helseidtest.SAMLOption
		if name := subjectName(env); name != "" {
			opts = append(opts, helseidtest.XUAPractitioner(helseidtest.DefaultPractitionerID, name, helseidtest.DefaultHPRNumber))
		}
		sec, ok := latin1(s.identity.Security(patient, opts...))
		if !ok {
			sec = s.identity.Security(patient)
		}
		return spliceSecurity(root, env, sec)
	})
	if err != nil {
		return raw
	}
	return out
}

// patientOf is the patient an XCA request is about: the patient parameter
// of a query, else the patient of the documents or objects it names,
// asked of kjdd with an ITI-18 query, else helseidtest.DefaultPatient.
func (s *Server) patientOf(t testing.TB, env *etree.Element) string {
	t.Helper()
	body := firstChild(child(env, nsSOAP12, "Body"))
	if body == nil {
		return helseidtest.DefaultPatient
	}
	var query []byte
	switch {
	case body.Tag == "AdhocQueryRequest":
		for _, slot := range descendants(body, nsRIM, "Slot") {
			switch slot.SelectAttrValue("name", "") {
			case "$XDSDocumentEntryPatientId", "$XDSSubmissionSetPatientId", "$XDSFolderPatientId", "$patientId":
				for _, v := range descendants(slot, nsRIM, "Value") {
					if p := strings.Trim(strings.TrimSpace(v.Text()), "'"); p != "" {
						return p
					}
				}
			}
		}
		query = asLeafClassQuery(body)
	case body.Tag == "RetrieveDocumentSetRequest":
		var uids []string
		for _, u := range descendants(body, nsXDSB, "DocumentUniqueId") {
			uids = append(uids, "'"+strings.ReplaceAll(strings.TrimSpace(u.Text()), "'", "''")+"'")
		}
		if len(uids) > 0 {
			query = []byte(`<query:AdhocQueryRequest xmlns:query="urn:oasis:names:tc:ebxml-regrep:xsd:query:3.0" xmlns:rim="` + nsRIM + `">` +
				`<query:ResponseOption returnType="LeafClass" returnComposedObjects="true"/>` +
				`<rim:AdhocQuery id="urn:uuid:5c4f972b-d56b-40ac-a5fc-c8ca9b40b9d4"><rim:Slot name="$XDSDocumentEntryUniqueId"><rim:ValueList><rim:Value>(` +
				escape(strings.Join(uids, ",")) + `)</rim:Value></rim:ValueList></rim:Slot></rim:AdhocQuery></query:AdhocQueryRequest>`)
		}
	}
	if query != nil {
		if p := s.lookupPatient(t, query); p != "" {
			return p
		}
	}
	return helseidtest.DefaultPatient
}

// asLeafClassQuery is an id-based query as a LeafClass ITI-18 request
// body, so that the patient ids of what it finds can be read.
func asLeafClassQuery(req *etree.Element) []byte {
	c := req.Copy()
	for _, ro := range c.ChildElements() {
		if ro.Tag == "ResponseOption" {
			ro.RemoveAttr("returnType")
			ro.CreateAttr("returnType", "LeafClass")
		}
	}
	for e := req.Parent(); e != nil; e = e.Parent() {
		for _, a := range e.Attr {
			if (a.Space == "xmlns" || (a.Space == "" && a.Key == "xmlns")) && c.SelectAttr(a.FullKey()) == nil {
				c.CreateAttr(a.FullKey(), a.Value)
			}
		}
	}
	d := etree.NewDocument()
	d.SetRoot(c)
	b, err := d.WriteToBytes()
	if err != nil {
		return nil
	}
	return b
}

// patientIDSchemes identify the patientId ExternalIdentifier of a
// DocumentEntry, SubmissionSet and Folder.
var patientIDSchemes = map[string]bool{
	"urn:uuid:58a6f841-87b3-4a3e-92fd-a8ffeff98427": true,
	"urn:uuid:6b5aea1a-874d-4603-a4bc-96a0a7b38446": true,
	"urn:uuid:f64ffdf0-4b97-4e06-b79f-a52b38ec2f8a": true,
}

// lookupPatient runs query as an ITI-18 with a practitioner's token and
// returns the first patient id in the answer, or "".
func (s *Server) lookupPatient(t testing.TB, query []byte) string {
	t.Helper()
	env := Envelope("urn:ihe:iti:2007:RegistryStoredQuery", string(query))
	resp := s.With(AuthAuto).Post(t, PathRegistry, ContentTypeSOAP, bytes.NewReader(env), nil)
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if err != nil {
		return ""
	}
	m, err := ParseMessage(resp.Header.Get("Content-Type"), raw)
	if err != nil || m.Body == nil {
		return ""
	}
	for _, ei := range descendants(m.Body, nsRIM, "ExternalIdentifier") {
		if patientIDSchemes[ei.SelectAttrValue("identificationScheme", "")] {
			if v := ei.SelectAttrValue("value", ""); v != "" {
				return v
			}
		}
	}
	return ""
}

func firstChild(e *etree.Element) *etree.Element {
	if e == nil {
		return nil
	}
	if kids := e.ChildElements(); len(kids) > 0 {
		return kids[0]
	}
	return nil
}

// String describes the mode, for test names.
func (a Auth) String() string {
	switch a {
	case AuthAuto:
		return "auto"
	case AuthNone:
		return "none"
	}
	return fmt.Sprintf("Auth(%d)", int(a))
}

// subjectName is the practitioner's name (subject-id) in the request's
// assertion, or "".
func subjectName(env *etree.Element) string {
	for _, a := range env.FindElements("//Attribute") {
		if strings.HasSuffix(a.SelectAttrValue("Name", ""), ":subject-id") {
			if v := a.SelectElement("AttributeValue"); v != nil {
				return strings.TrimSpace(v.Text())
			}
		}
	}
	return ""
}

// latin1 encodes s in ISO-8859-1; ok is false when s has a character
// beyond it.
func latin1(s string) (string, bool) {
	b := make([]byte, 0, len(s))
	for _, r := range s {
		if r > 0xff {
			return "", false
		}
		b = append(b, byte(r))
	}
	return string(b), true
}
