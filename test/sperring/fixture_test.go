package sperring

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"kjdd/helseid/helseidtest"
	"kjdd/test/internal/harness"
)

func TestMain(m *testing.M) { os.Exit(harness.Run(m)) }

// requester is who asks: an HPR number and a purpose of use.
type requester struct {
	hpr, purpose string
}

// purposes are the purposes of use of the attest (HL7 PurposeOfUse).
var purposes = []string{"TREAT", "ETREAT", "COC", "BTG"}

// hprNumbers are the practitioners who ask; some are blocked by patients.
var hprNumbers = []string{helseidtest.DefaultHPRNumber, "1234567", "7654321", "1000001", "9000009"}

// fixture is what every kjdd of a test shares: the fake HelseID issuer and
// its XUA signer (trusted through KJDD_SAML_CERTS) and the audit key, and
// caches of the credentials minted from them.
type fixture struct {
	id       *harness.Identity
	issuer   *helseidtest.Issuer
	certPath string
	auditKey string

	mu         sync.Mutex
	tokens     map[requester]minted
	client     minted
	assertions map[assertionKey]minted
}

type minted struct {
	value string
	at    time.Time
}

type assertionKey struct {
	patient string
	requester
}

func newFixture(t testing.TB) *fixture {
	t.Helper()
	id := harness.NewIdentity(t)
	iss := id.Issuer
	certPath := filepath.Join(t.TempDir(), "xua-signer.pem")
	if err := os.WriteFile(certPath, iss.SAML.CertificatePEM, 0o600); err != nil {
		t.Fatal(err)
	}
	key := make([]byte, 32)
	_, _ = rand.Read(key)
	return &fixture{
		id: id, issuer: iss, certPath: certPath, auditKey: base64.StdEncoding.EncodeToString(key),
		tokens: map[requester]minted{}, assertions: map[assertionKey]minted{},
	}
}

// env is the configuration of a kjdd trusting the fixture (on top of what
// the harness sets for its Identity), plus extra. Tokens are used as
// bearer tokens (DPoP optional): the leak search sends too many requests
// to sign a proof for each. SAML trust is the signer's certificate file.
func (f *fixture) env(extra map[string]string) map[string]string {
	env := map[string]string{
		"KJDD_HELSEID_DPOP": "optional",
		"KJDD_SAML_CERTS":   f.certPath,
		"KJDD_AUDIT_KEY":    f.auditKey,
		"KJDD_LOG_LEVEL":    "warn",
	}
	maps.Copy(env, extra)
	return env
}

// reuseFor is how long a minted token is used (tokens live five minutes).
const reuseFor = 2 * time.Minute

// userToken is a practitioner's access token for requester r.
func (f *fixture) userToken(r requester) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	if m, ok := f.tokens[r]; ok && time.Since(m.at) < reuseFor {
		return m.value
	}
	attest := helseidtest.DefaultAttest()
	attest["practitioner"].(map[string]any)["hpr_nr"] = map[string]any{"id": r.hpr, "system": "urn:oid:2.16.578.1.12.4.1.4.4"}
	attest["care_relationship"].(map[string]any)["purpose_of_use"] = map[string]any{
		"code": r.purpose, "system": "urn:oid:2.16.840.1.113883.1.11.20448",
	}
	tok := f.issuer.Token(helseidtest.Unbound(),
		helseidtest.Claim("helseid://claims/hpr/hpr_number", r.hpr),
		helseidtest.Claim("nhn:tillitsrammeverk:parameters", attest))
	f.tokens[r] = minted{tok, time.Now()}
	return tok
}

// clientToken is the EPJ's client-credentials token (register scope).
func (f *fixture) clientToken() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	if time.Since(f.client.at) < reuseFor {
		return f.client.value
	}
	f.client = minted{f.id.ClientToken(helseidtest.Unbound()), time.Now()}
	return f.client.value
}

// security is a wsse:Security header with the national gateway's XUA
// assertion for patient (CX) and requester r.
func (f *fixture) security(patient string, r requester) string {
	k := assertionKey{patient, r}
	f.mu.Lock()
	m, ok := f.assertions[k]
	f.mu.Unlock()
	if ok && time.Since(m.at) < 20*time.Minute {
		return m.value
	}
	sec := string(f.issuer.SAML.Security(
		helseidtest.XUAPatient(patient),
		helseidtest.XUAPractitioner(helseidtest.DefaultPractitionerID, helseidtest.DefaultPractitioner, r.hpr),
		helseidtest.XUAPurpose(r.purpose)))
	f.mu.Lock()
	f.assertions[k] = minted{sec, time.Now()}
	f.mu.Unlock()
	return sec
}

// node is one running kjdd as the tests talk to it.
type node struct {
	name string
	srv  *harness.Server
	url  string
	hc   *http.Client
}

func startNode(t testing.TB, name string, f *fixture, dir string, extra map[string]string) *node {
	t.Helper()
	srv := harness.Start(t, harness.Options{Env: f.env(extra), Dir: dir, Identity: f.id})
	return &node{name: name, srv: srv, url: srv.URL, hc: &http.Client{
		Timeout:   time.Minute,
		Transport: &http.Transport{MaxIdleConnsPerHost: 64, MaxConnsPerHost: 64, IdleConnTimeout: time.Minute},
	}}
}

// request is one HTTP request to kjdd.
type request struct {
	method, path, contentType string
	header                    http.Header
	body                      []byte
}

// reply is kjdd's answer as received.
type reply struct {
	status      int
	contentType string
	body        []byte
}

func (n *node) do(r request) (reply, error) {
	method := r.method
	if method == "" {
		method = http.MethodPost
	}
	req, err := http.NewRequest(method, n.url+r.path, bytes.NewReader(r.body))
	if err != nil {
		return reply{}, err
	}
	maps.Copy(req.Header, r.header)
	if r.contentType != "" {
		req.Header.Set("Content-Type", r.contentType)
	}
	resp, err := n.hc.Do(req)
	if err != nil {
		return reply{}, fmt.Errorf("%s %s on %s: %w", method, r.path, n.name, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return reply{}, fmt.Errorf("%s %s on %s: %w", method, r.path, n.name, err)
	}
	return reply{status: resp.StatusCode, contentType: resp.Header.Get("Content-Type"), body: b}, nil
}

func bearer(tok string) http.Header { return http.Header{"Authorization": {"Bearer " + tok}} }

// iti18 is a stored query with a practitioner's token.
func (f *fixture) iti18(r requester, q storedQuery) request {
	return request{path: harness.PathRegistry, contentType: harness.ContentTypeSOAP,
		header: bearer(f.userToken(r)), body: harness.Envelope(harness.ActionStoredQuery, q.xml())}
}

// iti38 is a cross gateway query with the gateway's assertion for patient.
func (f *fixture) iti38(patient string, r requester, q storedQuery) request {
	q.home = "urn:oid:" + harness.HomeCommunityID
	return request{path: harness.PathXCA, contentType: harness.ContentTypeSOAP,
		body: harness.Envelope(harness.ActionCrossGatewayQuery, q.xml(), harness.WithHeader(f.security(patient, r)))}
}

// iti43 retrieves documents of kjdd's repository with a practitioner's
// token.
func (f *fixture) iti43(r requester, uids []string, opts ...harness.EnvelopeOption) request {
	return request{path: harness.PathRepository, contentType: harness.ContentTypeSOAP,
		header: bearer(f.userToken(r)), body: harness.Envelope(harness.ActionRetrieve, retrieveXML(uids, false), opts...)}
}

// iti39 retrieves through the gateway with the assertion for patient.
func (f *fixture) iti39(patient string, r requester, uids []string, opts ...harness.EnvelopeOption) request {
	opts = append(opts, harness.WithHeader(f.security(patient, r)))
	return request{path: harness.PathXCA, contentType: harness.ContentTypeSOAP,
		body: harness.Envelope(harness.ActionCrossGatewayRetrieve, retrieveXML(uids, true), opts...)}
}

func retrieveXML(uids []string, xca bool) string {
	var b strings.Builder
	b.WriteString(`<xdsb:RetrieveDocumentSetRequest xmlns:xdsb="urn:ihe:iti:xds-b:2007">`)
	for _, uid := range uids {
		b.WriteString(`<xdsb:DocumentRequest>`)
		if xca {
			b.WriteString(`<xdsb:HomeCommunityId>urn:oid:` + harness.HomeCommunityID + `</xdsb:HomeCommunityId>`)
		}
		b.WriteString(`<xdsb:RepositoryUniqueId>` + harness.RepositoryUniqueID + `</xdsb:RepositoryUniqueId>`)
		b.WriteString(`<xdsb:DocumentUniqueId>` + uid + `</xdsb:DocumentUniqueId></xdsb:DocumentRequest>`)
	}
	b.WriteString(`</xdsb:RetrieveDocumentSetRequest>`)
	return b.String()
}

// storedQuery is an AdhocQueryRequest.
type storedQuery struct {
	id         string
	returnType string // LeafClass (default) or ObjectRef
	home       string
	slots      []slot
}

type slot struct {
	name   string
	values []string // one value: 'v'; several: ('a','b')
	list   bool     // always write a list
}

func (q storedQuery) xml() string {
	rt := q.returnType
	if rt == "" {
		rt = "LeafClass"
	}
	var b strings.Builder
	b.WriteString(`<query:AdhocQueryRequest xmlns:query="urn:oasis:names:tc:ebxml-regrep:xsd:query:3.0" xmlns:rim="urn:oasis:names:tc:ebxml-regrep:xsd:rim:3.0">`)
	b.WriteString(`<query:ResponseOption returnType="` + rt + `" returnComposedObjects="true"/>`)
	b.WriteString(`<rim:AdhocQuery id="` + q.id + `"`)
	if q.home != "" {
		b.WriteString(` home="` + q.home + `"`)
	}
	b.WriteString(`>`)
	for _, s := range q.slots {
		quoted := make([]string, len(s.values))
		for i, v := range s.values {
			quoted[i] = "'" + harness.XMLEscape(v) + "'"
		}
		v := quoted[0]
		if s.list || len(quoted) > 1 {
			v = "(" + strings.Join(quoted, ",") + ")"
		}
		b.WriteString(`<rim:Slot name="` + s.name + `"><rim:ValueList><rim:Value>` + v + `</rim:Value></rim:ValueList></rim:Slot>`)
	}
	b.WriteString(`</rim:AdhocQuery></query:AdhocQueryRequest>`)
	return b.String()
}

// sperringRecord is the sperring API's JSON.
type sperringRecord struct {
	ID               string `json:"id,omitempty"`
	Patient          string `json:"patient"`
	Kind             string `json:"kind"`
	DocumentUniqueID string `json:"documentUniqueId,omitempty"`
	HPRNumber        string `json:"hprNumber,omitempty"`
	Reason           string `json:"reason,omitempty"`
}

// createSperring creates a record through n's API and returns it.
func (f *fixture) createSperring(t testing.TB, n *node, rec sperringRecord) sperringRecord {
	t.Helper()
	body, _ := json.Marshal(rec)
	rep, err := n.do(request{path: "/api/v1/sperring", contentType: "application/json", header: bearer(f.clientToken()), body: body})
	if err != nil {
		t.Fatal(err)
	}
	if rep.status != http.StatusCreated {
		t.Fatalf("create sperring on %s: HTTP %d %s", n.name, rep.status, rep.body)
	}
	var got sperringRecord
	if err := json.Unmarshal(rep.body, &got); err != nil || got.ID == "" {
		t.Fatalf("create sperring answer %s: %v", rep.body, err)
	}
	return got
}

// refuseSperring requires n's API to refuse rec with status and a problem
// naming field, without echoing the patient.
func (f *fixture) refuseSperring(t testing.TB, n *node, rec sperringRecord, status int, field string) problem {
	t.Helper()
	body, _ := json.Marshal(rec)
	rep, err := n.do(request{path: "/api/v1/sperring", contentType: "application/json", header: bearer(f.clientToken()), body: body})
	if err != nil {
		t.Fatal(err)
	}
	var p problem
	if rep.status != status || !strings.HasPrefix(rep.contentType, "application/problem+json") || json.Unmarshal(rep.body, &p) != nil || p.Status != status {
		t.Fatalf("create sperring on %s: HTTP %d %s, want a %d problem", n.name, rep.status, rep.body, status)
	}
	if len(p.InvalidParams) != 1 || p.InvalidParams[0].Name != field {
		t.Fatalf("create sperring on %s: problem %s does not name %s", n.name, rep.body, field)
	}
	if bytes.Contains(rep.body, []byte(rec.Patient)) || (rec.DocumentUniqueID != "" && bytes.Contains(rep.body, []byte(rec.DocumentUniqueID))) {
		t.Fatalf("create sperring on %s: the problem echoes the request: %s", n.name, rep.body)
	}
	return p
}

// deleteSperring deletes a record through n's API.
func (f *fixture) deleteSperring(t testing.TB, n *node, id string) {
	t.Helper()
	rep, err := n.do(request{method: http.MethodDelete, path: "/api/v1/sperring/" + id, header: bearer(f.clientToken())})
	if err != nil {
		t.Fatal(err)
	}
	if rep.status != http.StatusNoContent {
		t.Fatalf("delete sperring on %s: HTTP %d %s", n.name, rep.status, rep.body)
	}
}
