package auth

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math/big"
	"net/http"
	"os"
	"strings"
	"testing"

	"kjdd/helseid/helseidtest"
	"kjdd/test/internal/harness"
)

func TestMain(m *testing.M) { os.Exit(harness.Run(m)) }

// start runs kjdd for t, trusting id (a fresh identity when nil), with the
// IHE metadata profile (the credentials checked do not depend on it).
func start(t *testing.T, id *harness.Identity, env map[string]string) *harness.Server {
	t.Helper()
	e := map[string]string{"KJDD_METADATA_PROFILE": "ihe"}
	for k, v := range env {
		e[k] = v
	}
	return harness.Start(t, harness.Options{Identity: id, Env: e})
}

// newFNR returns a fresh synthetic fødselsnummer: the month is raised by
// 80, as in Skatteetaten's test numbers, so it is never a real person's.
func newFNR(t testing.TB) string {
	t.Helper()
	w1 := []int{3, 7, 6, 1, 8, 9, 4, 5, 2}
	w2 := []int{5, 4, 3, 2, 7, 6, 5, 4, 3, 2}
	for range 100 {
		n, err := rand.Int(rand.Reader, big.NewInt(1000))
		if err != nil {
			t.Fatal(err)
		}
		day, _ := rand.Int(rand.Reader, big.NewInt(28))
		month, _ := rand.Int(rand.Reader, big.NewInt(12))
		// Born 1970-1999: individual numbers 000-499 belong to 1900-1999.
		year, _ := rand.Int(rand.Reader, big.NewInt(30))
		ind := n.Int64() % 500
		s := fmt.Sprintf("%02d%02d%02d%03d", day.Int64()+1, month.Int64()+81, year.Int64()+70, ind)
		k1 := check(s, w1)
		if k1 < 0 {
			continue
		}
		s += fmt.Sprint(k1)
		k2 := check(s, w2)
		if k2 < 0 {
			continue
		}
		return s + fmt.Sprint(k2)
	}
	t.Fatal("no valid synthetic fnr in 100 tries")
	return ""
}

// check is a mod-11 check digit of the first len(w) digits, -1 when none
// exists (the number is not issued).
func check(s string, w []int) int {
	sum := 0
	for i, wi := range w {
		sum += int(s[i]-'0') * wi
	}
	k := 11 - sum%11
	switch k {
	case 11:
		return 0
	case 10:
		return -1
	}
	return k
}

// findDocuments is a FindDocuments AdhocQueryRequest (ObjectRef) for patient.
func findDocuments(patient string) string {
	return `<query:AdhocQueryRequest xmlns:query="urn:oasis:names:tc:ebxml-regrep:xsd:query:3.0" xmlns:rim="urn:oasis:names:tc:ebxml-regrep:xsd:rim:3.0">` +
		`<query:ResponseOption returnType="ObjectRef" returnComposedObjects="true"/>` +
		`<rim:AdhocQuery id="urn:uuid:14d4debf-8f97-4251-9a74-a90016b0af0d">` +
		`<rim:Slot name="$XDSDocumentEntryPatientId"><rim:ValueList><rim:Value>'` + harness.XMLEscape(patient) + `'</rim:Value></rim:ValueList></rim:Slot>` +
		`<rim:Slot name="$XDSDocumentEntryStatus"><rim:ValueList><rim:Value>('urn:oasis:names:tc:ebxml-regrep:StatusType:Approved')</rim:Value></rim:ValueList></rim:Slot>` +
		`</rim:AdhocQuery></query:AdhocQueryRequest>`
}

// retrieveRequest is a RetrieveDocumentSetRequest for one document of
// kjdd's own repository (with HomeCommunityId for ITI-39).
func retrieveRequest(docUID string, xca bool) string {
	home := ""
	if xca {
		home = `<xdsb:HomeCommunityId>urn:oid:` + harness.HomeCommunityID + `</xdsb:HomeCommunityId>`
	}
	return `<xdsb:RetrieveDocumentSetRequest xmlns:xdsb="urn:ihe:iti:xds-b:2007"><xdsb:DocumentRequest>` + home +
		`<xdsb:RepositoryUniqueId>` + harness.RepositoryUniqueID + `</xdsb:RepositoryUniqueId>` +
		`<xdsb:DocumentUniqueId>` + docUID + `</xdsb:DocumentUniqueId></xdsb:DocumentRequest></xdsb:RetrieveDocumentSetRequest>`
}

// documentContent is what every registered test document holds.
var documentContent = []byte("kjdd auth test document\n")

// provideAndRegister is an IHE-valid ITI-41 (MTOM) registering one
// document with uniqueId docUID for patient.
func provideAndRegister(t testing.TB, patient, docUID string) ([]byte, string) {
	t.Helper()
	p := harness.XMLEscape(patient)
	cl := func(scheme, code, system string) string {
		return `<rim:Classification id="` + harness.NewUUIDURN() + `" classificationScheme="` + scheme + `" classifiedObject="Document01" nodeRepresentation="` + code + `">` +
			`<rim:Slot name="codingScheme"><rim:ValueList><rim:Value>` + system + `</rim:Value></rim:ValueList></rim:Slot>` +
			`<rim:Name><rim:LocalizedString value="` + code + `"/></rim:Name></rim:Classification>`
	}
	slot := func(name, v string) string {
		return `<rim:Slot name="` + name + `"><rim:ValueList><rim:Value>` + v + `</rim:Value></rim:ValueList></rim:Slot>`
	}
	ei := func(scheme, obj, v string) string {
		return `<rim:ExternalIdentifier id="` + harness.NewUUIDURN() + `" identificationScheme="` + scheme + `" registryObject="` + obj + `" value="` + v + `"/>`
	}
	sor := `<lcm:SubmitObjectsRequest xmlns:lcm="urn:oasis:names:tc:ebxml-regrep:xsd:lcm:3.0" xmlns:rim="urn:oasis:names:tc:ebxml-regrep:xsd:rim:3.0"><rim:RegistryObjectList>` +
		`<rim:ExtrinsicObject id="Document01" mimeType="text/plain" objectType="urn:uuid:7edca82f-054d-47f2-a032-9b2a5b5186c1">` +
		slot("creationTime", "20250101120000") + slot("languageCode", "nb-NO") + slot("sourcePatientId", p) +
		`<rim:Name><rim:LocalizedString value="Auth test document"/></rim:Name>` +
		cl("urn:uuid:41a5887f-8865-4c09-adf7-e362475b143a", "A00-1", "2.16.578.1.12.4.1.1.9602") +
		cl("urn:uuid:f0306f51-975f-434e-a61c-c59651d33983", "A01-2", "2.16.578.1.12.4.1.1.9602") +
		cl("urn:uuid:a09d5840-386c-46f2-b5ad-9c3699a4309d", "urn:ihe:iti:xds:2017:mimeTypeSufficient", "1.3.6.1.4.1.19376.1.2.3") +
		cl("urn:uuid:f33fb8ac-18af-42cc-ae0e-ed0b0bdb91e1", "86.211", "2.16.578.1.12.4.1.1.1303") +
		cl("urn:uuid:cccf5598-8b07-4b77-a05e-ae952c785ead", "4", "2.16.578.1.12.4.1.1.8653") +
		cl("urn:uuid:f4f85eac-e6cb-4883-b524-f2705394840f", "N", "2.16.840.1.113883.5.25") +
		ei("urn:uuid:58a6f841-87b3-4a3e-92fd-a8ffeff98427", "Document01", p) +
		ei("urn:uuid:2e82c1f6-a085-4c72-9da3-8640a32e42ab", "Document01", docUID) +
		`</rim:ExtrinsicObject>` +
		`<rim:RegistryPackage id="SubmissionSet01">` + slot("submissionTime", "20250101120000") +
		`<rim:Classification id="` + harness.NewUUIDURN() + `" classificationScheme="urn:uuid:aa543740-bdda-424e-8c96-df4873be8500" classifiedObject="SubmissionSet01" nodeRepresentation="A00-1">` +
		`<rim:Slot name="codingScheme"><rim:ValueList><rim:Value>2.16.578.1.12.4.1.1.9602</rim:Value></rim:ValueList></rim:Slot></rim:Classification>` +
		ei("urn:uuid:96fdda7c-d067-4183-912e-bf5ee74998a8", "SubmissionSet01", docUID+".1") +
		ei("urn:uuid:554ac39e-e3fe-47fe-b233-965d2a147832", "SubmissionSet01", harness.HomeCommunityID) +
		ei("urn:uuid:6b5aea1a-874d-4603-a4bc-96a0a7b38446", "SubmissionSet01", p) +
		`</rim:RegistryPackage>` +
		`<rim:Classification id="` + harness.NewUUIDURN() + `" classificationNode="urn:uuid:a54d6aa5-d40d-43f9-88c5-b4633d873bdd" classifiedObject="SubmissionSet01"/>` +
		`<rim:Association id="` + harness.NewUUIDURN() + `" associationType="urn:oasis:names:tc:ebxml-regrep:AssociationType:HasMember" sourceObject="SubmissionSet01" targetObject="Document01">` +
		slot("SubmissionSetStatus", "Original") + `</rim:Association>` +
		`</rim:RegistryObjectList></lcm:SubmitObjectsRequest>`
	msg, ct, err := harness.ProvideAndRegister(sor,
		harness.Document{ID: "Document01", ContentType: "text/plain", Body: bytes.NewReader(documentContent)})
	if err != nil {
		t.Fatal(err)
	}
	return msg, ct
}

// newDocUID is a fresh document uniqueId (an OID under 2.25).
func newDocUID(t testing.TB) string {
	t.Helper()
	n, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 100))
	if err != nil {
		t.Fatal(err)
	}
	return "2.25." + n.String()
}

// register registers one document for patient with valid credentials.
func register(t *testing.T, srv *harness.Server, patient string) string {
	t.Helper()
	uid := newDocUID(t)
	body, ct := provideAndRegister(t, patient, uid)
	resp := srv.SOAP(t, harness.PathRepository, body, ct)
	if f := resp.Fault(); f != nil || !strings.HasSuffix(resp.Status(), ":Success") {
		t.Fatalf("registration with valid credentials: fault %v status %s errors %v", f, resp.Status(), resp.RegistryErrors())
	}
	return uid
}

// documentsOf counts patient's documents with valid credentials.
func documentsOf(t *testing.T, srv *harness.Server, patient string) int {
	t.Helper()
	resp := srv.SOAP(t, harness.PathRegistry, harness.Envelope(harness.ActionStoredQuery, findDocuments(patient)), harness.ContentTypeSOAP)
	if f := resp.Fault(); f != nil {
		t.Fatalf("query with valid credentials: %s", f)
	}
	return resp.Contents().ObjectRefs
}

// bareView is srv sending exactly what a test gives it: no credentials of
// its own, header on every request.
func bareView(srv *harness.Server, header http.Header) *harness.Server {
	v := srv.With(harness.AuthNone)
	v.Headers = header
	return v
}

// dpopHeader is Authorization: DPoP token with a valid proof for a POST to
// srv's path, signed with the issuer's client key; opts change the proof.
func dpopHeader(srv *harness.Server, path, token string, opts ...helseidtest.ProofOption) http.Header {
	iss := srv.Identity().Issuer
	return http.Header{
		"Authorization": {"DPoP " + token},
		"Dpop":          {iss.DPoPProofWith(http.MethodPost, srv.URL+path, token, opts...)},
	}
}

// genericReasons are the only texts a refused caller may read.
var genericReasons = []string{
	"authentication required",
	"the access token does not grant this operation",
	"the DPoP proof was not accepted",
	"an error was discovered processing the wsse:Security header",
	"the security token could not be authenticated or authorized",
	"access denied",
	"the access token was not accepted",
}

// wantRefused checks a SOAP answer is an authentication refusal: a Sender
// fault with subcode wsse:<subcode>, HTTP 400 or 403, a generic reason, and
// nothing of the request's patient.
func wantRefused(t *testing.T, resp *harness.Response, subcode string, secrets ...string) {
	t.Helper()
	f := resp.Fault()
	if f == nil {
		t.Fatalf("accepted (HTTP %d, status %q), want a wsse:%s fault", resp.StatusCode, resp.Status(), subcode)
	}
	if f.Code != "Sender" || f.Subcode != "wsse:"+subcode {
		t.Errorf("fault %s, want Sender/wsse:%s", f, subcode)
	}
	if resp.StatusCode != http.StatusBadRequest && resp.StatusCode != http.StatusForbidden {
		t.Errorf("HTTP %d, want 400 or 403", resp.StatusCode)
	}
	generic := false
	for _, g := range genericReasons {
		generic = generic || f.Reason == g
	}
	if !generic {
		t.Errorf("reason %q is not one of the generic texts", f.Reason)
	}
	for _, s := range secrets {
		if s != "" && bytes.Contains(resp.Raw, []byte(s)) {
			t.Errorf("the refusal contains %q", s)
		}
	}
}

// wantLogged returns a check, to defer around one refused request, that
// kjdd logged one more refusal whose reason contains reason: the detail
// goes to the log, where an operator needs it.
func wantLogged(t *testing.T, srv *harness.Server, reason string) func() {
	t.Helper()
	before := strings.Count(srv.Logs(), reason)
	return func() {
		t.Helper()
		if after := strings.Count(srv.Logs(), reason); after <= before {
			t.Errorf("kjdd did not log the refusal reason %q", reason)
		}
	}
}

// wantNoNationalIDs checks kjdd's log holds none of the patients' nor the
// test practitioner's national identity numbers.
func wantNoNationalIDs(t *testing.T, srv *harness.Server, patients ...string) {
	t.Helper()
	logs := srv.Logs()
	for _, p := range append(patients, helseidtest.DefaultPractitionerID) {
		if id := p[:11]; strings.Contains(logs, id) {
			t.Errorf("kjdd logged the national id %s", id)
		}
	}
}

// decodeSegment decodes part i (0 header, 1 claims) of a compact JWS.
func decodeSegment(t *testing.T, token string, i int) map[string]any {
	t.Helper()
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		t.Fatalf("not a compact JWS")
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[i])
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}
