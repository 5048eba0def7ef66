package nistkit

import (
	"bytes"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"kjdd/test/internal/harness"
	"kjdd/test/testkit/paths"
)

// SOAP actions of the steps the runner sends.
const (
	actionQuery    = "urn:ihe:iti:2007:RegistryStoredQuery"
	actionRegister = "urn:ihe:iti:2007:RegisterDocumentSet-b"
	actionPnR      = "urn:ihe:iti:2007:ProvideAndRegisterDocumentSet-b"
	actionRetrieve = "urn:ihe:iti:2007:RetrieveDocumentSet"
	actionXCQ      = "urn:ihe:iti:2007:CrossGatewayQuery"
	actionXCR      = "urn:ihe:iti:2007:CrossGatewayRetrieve"
)

// Section is a testkit section that registered data: the patient it used,
// the ids it assigned, the documents it sent.
type Section struct {
	Key       string
	PatientID string
	Assigned  *Assigned
	// Contents are the documents sent (ITI-41), by uniqueId.
	Contents map[string][]byte
}

// Env runs test plans against one kjdd server. Each test id that seeds
// data (12346, 12374, 12318, ...) gets its own fresh patient, so counts
// are never disturbed by other tests or earlier runs.
type Env struct {
	Server *harness.Server
	// Tests is the testkit's tests directory; Seeds the ebRIM 3.0 seeds.
	Tests, Seeds string
	// Home is the homeCommunityId the server answers with.
	Home string

	mu       sync.Mutex
	patients map[string]string
	alt      map[string]string
	sections map[string]*Section
	reports  map[string]string
	contents map[string][]byte
	seeding  map[string]bool
	last     map[string]*harness.Response // the latest result of each plan
}

// NewEnv prepares an Env for srv, with the seeds of test/nist/testdata/seed.
func NewEnv(t testing.TB, srv *harness.Server) *Env {
	t.Helper()
	tests, err := paths.Conformance("nist-testkit", "tests")
	if err != nil {
		t.Fatal(err)
	}
	seeds, err := paths.Repo("test", "nist", "testdata", "seed")
	if err != nil {
		t.Fatal(err)
	}
	return &Env{
		Server: srv, Tests: tests, Seeds: seeds, Home: "urn:oid:" + harness.HomeCommunityID,
		patients: map[string]string{}, alt: map[string]string{},
		sections: map[string]*Section{}, reports: map[string]string{}, contents: map[string][]byte{},
		seeding: map[string]bool{}, last: map[string]*harness.Response{},
	}
}

// Patient returns the patient id of a test id (created on first use).
func (e *Env) Patient(test string) string {
	e.mu.Lock()
	defer e.mu.Unlock()
	if p, ok := e.patients[test]; ok {
		return p
	}
	p := NewPatientID()
	e.patients[test] = p
	return p
}

func (e *Env) altPatient(test string) string {
	e.mu.Lock()
	defer e.mu.Unlock()
	if p, ok := e.alt[test]; ok {
		return p
	}
	p := NewPatientID()
	e.alt[test] = p
	return p
}

// Plan reads and parses tests/<key>/testplan.xml.
func (e *Env) Plan(t testing.TB, key string) *TestPlan {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(e.Tests, filepath.FromSlash(key), "testplan.xml"))
	if err != nil {
		t.Fatal(err)
	}
	tp, err := ParseTestPlan(b)
	if err != nil {
		t.Fatalf("%s/testplan.xml: %v", key, err)
	}
	return tp
}

// seedTests are the tests whose sections together form one patient's
// data set: queries count objects across all of their sections, so using
// any section registers all of them, in index.idx order.
var seedTests = map[string]bool{"12346": true, "12374": true, "12318": true}

// Section returns the seeded section key, registering it (and whatever it
// depends on) on first use.
func (e *Env) Section(t testing.TB, key string) *Section {
	t.Helper()
	e.mu.Lock()
	s, ok := e.sections[key]
	test := strings.Split(key, "/")[0]
	seedAll := seedTests[test] && !e.seeding[test]
	if seedAll {
		e.seeding[test] = true
	}
	e.mu.Unlock()
	if ok {
		return s
	}
	if seedAll {
		b, err := os.ReadFile(filepath.Join(e.Tests, test, "index.idx"))
		if err != nil {
			t.Fatal(err)
		}
		for _, sec := range strings.Fields(string(b)) {
			e.register(t, test+"/"+sec)
		}
	} else {
		e.register(t, key)
	}
	e.mu.Lock()
	s, ok = e.sections[key]
	e.mu.Unlock()
	if !ok {
		t.Fatalf("section %s registered nothing", key)
	}
	return s
}

// register runs the registering steps of a section not yet registered.
func (e *Env) register(t testing.TB, key string) {
	t.Helper()
	e.mu.Lock()
	_, done := e.sections[key]
	e.mu.Unlock()
	if done {
		return
	}
	for _, st := range e.Plan(t, key).Steps {
		if st.Kind == KindRegister || st.Kind == KindProvideAndRegister {
			e.RunStep(t, key, st)
		}
	}
}

// RunPlan runs every step of tests/<key>/testplan.xml as a subtest.
func (e *Env) RunPlan(t *testing.T, key string) {
	for _, st := range e.Plan(t, key).Steps {
		t.Run(st.ID, func(t *testing.T) { e.RunStep(t, key, st) })
	}
}

// Vars resolves the placeholders a step uses.
func (e *Env) Vars(t testing.TB, key string, st Step) map[string]string {
	t.Helper()
	test := strings.Split(key, "/")[0]
	patient := e.Patient(test)
	if st.AltPatientID {
		patient = e.altPatient(test)
	}
	now := time.Now().UTC()
	vars := map[string]string{
		"$patientid$":    patient,
		"$patient_id$":   patient,
		"$altpatientid$": e.altPatient(test),
		"$home$":         e.Home,
		// FindFolders' update-time window: To is exclusive, so give the
		// folders registered a moment ago a minute's margin.
		"$now$":      now.Add(time.Minute).Format("20060102150405"),
		"$lastyear$": now.AddDate(-1, 0, 0).Format("20060102150405"),
	}
	for _, u := range st.UseIDs {
		dep := path.Clean(path.Join(key, u.TestDir))
		sec := e.Section(t, dep)
		var v string
		switch u.Section {
		case "AssignedPatientId":
			v = sec.PatientID
		case "AssignedUuids":
			v = sec.Assigned.UUIDs[u.ID]
		case "AssignedUids":
			v = sec.Assigned.UIDs[u.ID]
		default:
			t.Fatalf("UseId section %q not supported", u.Section)
		}
		if v == "" {
			t.Fatalf("UseId %s: %s has no %s for %q", u.Symbol, dep, u.Section, u.ID)
		}
		vars[u.Symbol] = v
	}
	for _, r := range st.UseReports {
		vars[r.UseAs] = e.report(t, key, r)
	}
	return vars
}

// patientFeeds are NIST's patient identity feed tests whose $patientid$
// report the plans use; true marks the feed of a second patient.
var patientFeeds = map[string]bool{"15817": false, "15818": false, "15823": false, "15817b": true}

// report resolves a UseReport: the values the testkit's own reports
// would carry, taken from what this run registered.
func (e *Env) report(t testing.TB, key string, r UseReport) string {
	t.Helper()
	test := r.Test
	if test == "" {
		test = strings.Split(key, "/")[0]
	}
	switch {
	case r.ReportName == "$patientid$":
		// Patient identity feed tests: each feeds a patient for the test
		// that asks; 15817b feeds a second one.
		alt, ok := patientFeeds[r.Test]
		if !ok {
			t.Fatalf("unknown patient identity feed test %s", r.Test)
		}
		if alt {
			return e.altPatient(strings.Split(key, "/")[0])
		}
		return e.Patient(strings.Split(key, "/")[0])
	case r.ReportName == "$testdata_home$":
		return e.Home
	case strings.HasSuffix(r.ReportName, "_uid"):
		sec := e.Section(t, test+"/"+r.Section)
		v := sec.Assigned.UIDs[strings.TrimSuffix(r.ReportName, "_uid")]
		if v == "" {
			t.Fatalf("report %s of %s/%s: unknown object", r.ReportName, test, r.Section)
		}
		return v
	}
	k := test + "/" + r.Section + "/" + r.ReportName
	e.mu.Lock()
	v, ok := e.reports[k]
	e.mu.Unlock()
	if !ok {
		e.RunPlanSteps(t, test+"/"+r.Section)
		e.mu.Lock()
		v, ok = e.reports[k]
		e.mu.Unlock()
	}
	if !ok {
		t.Fatalf("report %s not produced", k)
	}
	return v
}

// RunPlanSteps runs every step of a plan without subtests (for plans run
// only for the values they report).
func (e *Env) RunPlanSteps(t testing.TB, key string) {
	t.Helper()
	for _, st := range e.Plan(t, key).Steps {
		e.RunStep(t, key, st)
	}
}

// RunStep performs one step and checks its expectations.
func (e *Env) RunStep(t testing.TB, key string, st Step) *harness.Response {
	t.Helper()
	var resp *harness.Response
	var vars map[string]string
	switch st.Kind {
	case KindRegister, KindProvideAndRegister:
		e.mu.Lock()
		_, done := e.sections[key]
		e.mu.Unlock()
		if done {
			// Registered earlier, as a dependency of another plan; its
			// expectations were checked then. Registering again would
			// double the patient's objects and spoil every count.
			t.Logf("%s: already registered in this run", key)
			return nil
		}
		resp, vars = e.submit(t, key, st)
	case KindStoredQuery, KindXCQ, KindRetrieve, KindXCR:
		vars = e.Vars(t, key, st)
		resp = e.request(t, key, st, vars)
	case KindNull:
		// Asserts of a NullTransaction look at the plan's previous result.
		if len(st.Asserts) == 0 {
			t.Logf("%s step %s: NIST engine bookkeeping, nothing to send or check", key, st.ID)
			return nil
		}
		e.mu.Lock()
		resp = e.last[key]
		e.mu.Unlock()
		if resp == nil {
			t.Errorf("%s step %s: asserts on a previous result, but no step of the plan produced one", key, st.ID)
			return nil
		}
		vars = e.Vars(t, key, st)
		e.Check(t, key, Step{ID: st.ID, Asserts: st.Asserts}, resp, vars)
		return resp
	default:
		t.Logf("%s step %s (%s): not applicable, kjdd has no patient identity feed and accepts any well-formed patient id", key, st.ID, st.Kind)
		return nil
	}
	e.Check(t, key, st, resp, vars)
	e.mu.Lock()
	e.last[key] = resp
	e.mu.Unlock()
	return resp
}

func (e *Env) submit(t testing.TB, key string, st Step) (*harness.Response, map[string]string) {
	t.Helper()
	seed, err := os.ReadFile(filepath.Join(e.Seeds, filepath.FromSlash(key)+".xml"))
	if err != nil {
		t.Fatalf("no ebRIM 3.0 seed for %s: %v", key, err)
	}
	// A seed test registered section by section must not be seeded whole
	// again when one of its sections resolves a dependency.
	e.mu.Lock()
	if test := strings.Split(key, "/")[0]; seedTests[test] {
		e.seeding[test] = true
	}
	e.mu.Unlock()
	vars := e.Vars(t, key, st)
	sor, assigned, err := Prepare(seed, vars)
	if err != nil {
		t.Fatalf("prepare %s: %v", key, err)
	}
	sec := &Section{Key: key, PatientID: vars["$patientid$"], Assigned: assigned, Contents: map[string][]byte{}}
	e.mu.Lock()
	e.sections[key] = sec
	e.mu.Unlock()
	if st.Kind == KindRegister {
		env := harness.Envelope(actionRegister, string(sor))
		return e.Server.SOAP(t, harness.PathRegistry, env, harness.ContentTypeSOAP), vars
	}
	var docs strings.Builder
	var parts []harness.Part
	for i, a := range st.Attachments {
		b, err := os.ReadFile(filepath.Join(e.Tests, filepath.FromSlash(key), a.File))
		if err != nil {
			t.Fatal(err)
		}
		cid := fmt.Sprintf("doc%d@kjdd.test", i)
		docID := assigned.UUIDs[a.ID]
		if docID == "" {
			docID = a.ID // a document without metadata (NIST 11983): keep its symbolic id
		}
		fmt.Fprintf(&docs, `<xdsb:Document id="%s">%s</xdsb:Document>`, docID, harness.XOPInclude(cid))
		parts = append(parts, harness.Part{ContentID: cid, ContentType: "application/octet-stream", Body: bytes.NewReader(b)})
		if uid := assigned.UIDs[a.ID]; uid != "" {
			sec.Contents[uid] = b
			e.mu.Lock()
			e.contents[uid] = b
			e.mu.Unlock()
		}
	}
	body := `<xdsb:ProvideAndRegisterDocumentSetRequest xmlns:xdsb="urn:ihe:iti:xds-b:2007">` +
		harness.StripProlog(string(sor)) + docs.String() + `</xdsb:ProvideAndRegisterDocumentSetRequest>`
	msg, ct, err := harness.MTOM(harness.Envelope(actionPnR, body), actionPnR, parts...)
	if err != nil {
		t.Fatal(err)
	}
	return e.Server.SOAP(t, harness.PathRepository, msg, ct), vars
}

func (e *Env) request(t testing.TB, key string, st Step, vars map[string]string) *harness.Response {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(e.Tests, filepath.FromSlash(key), st.MetadataFile))
	if err != nil {
		t.Fatal(err)
	}
	body := Substitute(string(b), vars, true)
	if left := Placeholders(body); len(left) > 0 {
		t.Fatalf("%s/%s: unresolved placeholders %v", key, st.MetadataFile, left)
	}
	var action, endpoint string
	switch st.Kind {
	case KindStoredQuery:
		action, endpoint = actionQuery, harness.PathRegistry
	case KindXCQ:
		action, endpoint = actionXCQ, harness.PathXCA
	case KindRetrieve:
		action, endpoint = actionRetrieve, harness.PathRepository
	case KindXCR:
		action, endpoint = actionXCR, harness.PathXCA
	}
	return e.Server.SOAP(t, endpoint, harness.Envelope(action, body), harness.ContentTypeSOAP)
}

// Check checks resp against the step's expectations: no Fault, ExpectedStatus,
// expected error codes, ExpectedContents, Asserts, reference documents and
// mime type; it records the step's Reports.
func (e *Env) Check(t testing.TB, key string, st Step, resp *harness.Response, vars map[string]string) {
	t.Helper()
	where := key + " step " + st.ID
	if f := resp.Fault(); f != nil {
		t.Errorf("%s: SOAP Fault %s, want a registry response", where, f)
		return
	}
	if st.ExpectedStatus != "" && !strings.HasSuffix(resp.Status(), ":"+st.ExpectedStatus) {
		t.Errorf("%s: status %q, want %s; errors %v", where, resp.Status(), st.ExpectedStatus, resp.RegistryErrors())
	}
	codes := resp.ErrorCodes()
	for _, want := range st.ExpectedErrors {
		if !contains(codes, want) {
			t.Errorf("%s: error codes %v, want %s", where, codes, want)
		}
	}
	if st.Expected != nil {
		c := resp.Contents()
		if c.Unclassified > 0 {
			t.Errorf("%s: %d RegistryPackages are neither SubmissionSet nor Folder", where, c.Unclassified)
		}
		counts := Counts{Documents: c.Documents, SubmissionSets: c.SubmissionSets, Folders: c.Folders, Associations: c.Associations, ObjectRefs: c.ObjectRefs}
		for _, bad := range st.Expected.Check(counts) {
			t.Errorf("%s: %s", where, bad)
		}
	}
	for _, a := range st.Asserts {
		ok, got, err := EvalAssert(a.XPath, resp.Body, vars)
		switch {
		case err != nil:
			t.Errorf("%s: assert %s: %v", where, a.ID, err)
		case !ok:
			t.Errorf("%s: assert %s (%s) failed: %s", where, a.ID, a.Desc, got)
		}
	}
	for _, r := range st.Reports {
		if r.Section != "Result" {
			continue // reports on the request echo what the test sent
		}
		vals, err := EvalValues(r.XPath, resp.Body)
		if err != nil || len(vals) == 0 {
			t.Errorf("%s: report %s: no value (%v)", where, r.Name, err)
			continue
		}
		e.mu.Lock()
		e.reports[key+"/"+r.Name] = vals[0]
		e.mu.Unlock()
	}
	if len(st.References) > 0 || st.ExpectedMimeType != "" {
		e.checkDocuments(t, key, st, resp, vars)
	}
}

func (e *Env) checkDocuments(t testing.TB, key string, st Step, resp *harness.Response, vars map[string]string) {
	t.Helper()
	where := key + " step " + st.ID
	if !resp.MTOM {
		t.Errorf("%s: retrieve response is not MTOM", where)
	}
	docs, err := resp.Documents()
	if err != nil {
		t.Errorf("%s: %v", where, err)
		return
	}
	for _, ref := range st.References {
		uid := Substitute(ref.UID, vars, false)
		e.mu.Lock()
		want, ok := e.contents[uid]
		e.mu.Unlock()
		if !ok {
			t.Errorf("%s: reference document %s was not submitted by this run", where, ref.File)
			continue
		}
		if got, ok := docs[uid]; !ok || !bytes.Equal(got, want) {
			t.Errorf("%s: document %s: got %d bytes (present %v), want the %d bytes submitted", where, ref.File, len(got), ok, len(want))
		}
		if nist, err := e.referenceFile(key, ref.File); err == nil && !bytes.Equal(nist, want) {
			t.Logf("%s: NIST's reference file %s differs from the document its seed submits; compared with what was submitted", where, ref.File)
		}
	}
	if st.ExpectedMimeType != "" {
		dr := resp.Body.SelectElements("DocumentResponse")
		if len(dr) == 0 {
			t.Errorf("%s: no DocumentResponse", where)
			return
		}
		if mt := dr[0].SelectElement("mimeType"); mt == nil || strings.TrimSpace(mt.Text()) != st.ExpectedMimeType {
			t.Errorf("%s: first document's mimeType is not %s", where, st.ExpectedMimeType)
		}
	}
}

// referenceFile reads a ReferenceDocument; testkit paths are relative to
// the section or to the test directory.
func (e *Env) referenceFile(key, file string) ([]byte, error) {
	b, err := os.ReadFile(filepath.Join(e.Tests, filepath.FromSlash(key), file))
	if err == nil {
		return b, nil
	}
	return os.ReadFile(filepath.Join(e.Tests, strings.Split(key, "/")[0], file))
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// Content returns the document this run submitted with the given uniqueId.
func (e *Env) Content(uid string) ([]byte, bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	b, ok := e.contents[uid]
	return b, ok
}
