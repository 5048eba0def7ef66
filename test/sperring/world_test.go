package sperring

import (
	"encoding/base64"
	"fmt"
	"math/rand/v2"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"testing"

	"kjdd/test/internal/harness"
)

// Identifier prefixes of what a world registers: every document uniqueId
// is docUIDPrefix + n, so a response can be scanned for any of them.
const (
	docUIDPrefix    = "2.25.424242."
	ssUIDPrefix     = "2.25.424243."
	folderUIDPrefix = "2.25.424244."
	refAuthority    = "2.16.578.1.12.4.5.100.1.77"
)

// world is what the test registered and the sperring records it created,
// the model the oracle decides from. It is changed only while no request
// is in flight.
type world struct {
	patients []*patient
	docs     []*doc
	byUUID   map[string]*doc
	byUID    map[string]*doc
	records  map[string]*record
	seq      int
}

type patient struct {
	idx        int
	fnr, cx    string
	docs       []*doc
	folderUUID string
	folderUID  string
	sets       []*submissionSet
	records    []*record
}

// submissionSet is one registered submission and its documents.
type submissionSet struct {
	uuid string
	docs []*doc
}

type doc struct {
	n          int
	uid, uuid  string
	p          *patient
	nors       bool
	deprecated bool
	class      string
	ref        bool
	inFolder   bool
	content    []byte
	// replaces is the document this one succeeds, by rel: RPLC when
	// empty, or APND or XFRM (which leave the predecessor Approved).
	replaces *doc
	rel      string
	// submitted: a submission of it has been written (and is provided
	// right after); a record of another patient naming it is refused.
	submitted bool
}

type record struct {
	id   string
	p    *patient
	kind string
	uid  string
	hpr  string
}

func (d *doc) status() string {
	if d.deprecated {
		return "urn:oasis:names:tc:ebxml-regrep:StatusType:Deprecated"
	}
	return "urn:oasis:names:tc:ebxml-regrep:StatusType:Approved"
}

// refID is the patient's accession number (referenceIdList).
func (p *patient) refID() string {
	return fmt.Sprintf("acc%d^^^&%s&ISO^urn:ihe:iti:xds:2013:accession", p.idx, refAuthority)
}

// visible is the oracle: may requester r, through a credential bound to
// bound (nil: not bound), see d? It restates DESIGN.md §5 independently of
// kjdd's code: patient- and practitioner-level sperring hide everything
// and are never overridden; document level (NORS on the entry itself, or a
// record naming the uniqueId of the document or of one it replaces, of the
// document's own patient) is overridden by BTG only.
func (w *world) visible(d *doc, r requester, bound *patient) bool {
	if bound != nil && d.p != bound {
		return false
	}
	docRecord := false
	for _, rec := range d.p.records {
		switch rec.kind {
		case "patient":
			return false
		case "practitioner":
			if rec.hpr == r.hpr {
				return false
			}
		case "document":
			for x := d; x != nil && !docRecord; x = x.replaces {
				docRecord = rec.uid == x.uid
			}
		}
	}
	if d.nors || docRecord {
		return r.purpose == "BTG"
	}
	return true
}

// syntheticFNR returns a fødselsnummer of Skatteetaten's synthetic kind
// (month + 80) with valid check digits: never a real person.
func syntheticFNR(r *rand.Rand) string {
	w1 := []int{3, 7, 6, 1, 8, 9, 4, 5, 2}
	w2 := []int{5, 4, 3, 2, 7, 6, 5, 4, 3, 2}
	check := func(s string, w []int) int {
		sum := 0
		for i, wt := range w {
			sum += int(s[i]-'0') * wt
		}
		k := 11 - sum%11
		if k == 11 {
			k = 0
		}
		return k
	}
	for {
		s := fmt.Sprintf("%02d%02d%02d%03d", 1+r.IntN(28), 81+r.IntN(12), r.IntN(100), r.IntN(500))
		k1 := check(s, w1)
		if k1 == 10 {
			continue
		}
		s += fmt.Sprint(k1)
		k2 := check(s, w2)
		if k2 == 10 {
			continue
		}
		return s + fmt.Sprint(k2)
	}
}

// shape says how big a world is.
type shape struct {
	patients       int
	maxDocs        int     // per patient, before replacements
	nors           float64 // share of NORS documents
	patientBlocked float64 // share of patients with a patient-level record
	hprBlocked     float64 // share of patients blocking one or two practitioners
	docRecords     float64 // share of documents with a document record
}

// newWorld draws a world from r. Nothing is registered yet.
func newWorld(r *rand.Rand, s shape) *world {
	w := &world{byUUID: map[string]*doc{}, byUID: map[string]*doc{}, records: map[string]*record{}}
	seen := map[string]bool{}
	for i := range s.patients {
		fnr := syntheticFNR(r)
		for seen[fnr] {
			fnr = syntheticFNR(r)
		}
		seen[fnr] = true
		p := &patient{idx: i, fnr: fnr, cx: harness.CX(fnr)}
		w.patients = append(w.patients, p)
		for range r.IntN(s.maxDocs + 1) {
			w.newDoc(r, p, r.Float64() < s.nors)
		}
		if len(p.docs) >= 2 && r.IntN(2) == 0 {
			p.folderUUID, p.folderUID = harness.NewUUIDURN(), fmt.Sprintf("%s%d", folderUIDPrefix, i)
			for _, d := range p.docs {
				d.inFolder = r.IntN(2) == 0
			}
		}
	}
	return w
}

func (w *world) newDoc(r *rand.Rand, p *patient, nors bool) *doc {
	w.seq++
	d := &doc{
		n: w.seq, uid: fmt.Sprintf("%s%d", docUIDPrefix, w.seq), uuid: harness.NewUUIDURN(), p: p, nors: nors,
		class: []string{"A00-1", "B00-1"}[r.IntN(2)], ref: r.IntN(3) == 0,
	}
	d.content = []byte(fmt.Sprintf("Dokument %d for pasient %d (kjdd sperring test)\n", d.n, p.idx))
	p.docs = append(p.docs, d)
	w.docs = append(w.docs, d)
	w.byUUID[d.uuid] = d
	w.byUID[d.uid] = d
	return d
}

// drawRecords decides the world's first sperring records (not created
// yet): patient level, practitioner level and document level, the last
// sometimes naming another patient's document (which must not block it).
func (w *world) drawRecords(r *rand.Rand, s shape) []*record {
	var out []*record
	for _, p := range w.patients {
		if r.Float64() < s.patientBlocked {
			out = append(out, &record{p: p, kind: "patient"})
		}
		if r.Float64() < s.hprBlocked {
			for _, i := range r.Perm(len(hprNumbers))[:1+r.IntN(2)] {
				out = append(out, &record{p: p, kind: "practitioner", hpr: hprNumbers[i]})
			}
		}
		for _, d := range p.docs {
			if r.Float64() < s.docRecords {
				out = append(out, &record{p: p, kind: "document", uid: d.uid})
			}
		}
		if r.IntN(10) == 0 && len(w.docs) > 0 {
			out = append(out, &record{p: p, kind: "document", uid: w.docs[r.IntN(len(w.docs))].uid})
		}
	}
	return out
}

// create creates rec through n's API and adds it to the world. A record
// naming a registered document of another patient could block nothing: it
// is refused (409, naming the field, not echoing the patient) and so not
// added.
func (w *world) create(t testing.TB, f *fixture, n *node, rec *record) {
	t.Helper()
	if d := w.byUID[rec.uid]; rec.kind == "document" && d != nil && d.p != rec.p && d.submitted {
		f.refuseSperring(t, n, sperringRecord{Patient: rec.p.fnr, Kind: rec.kind, DocumentUniqueID: rec.uid, Reason: "leak search"},
			http.StatusConflict, "documentUniqueId")
		return
	}
	got := f.createSperring(t, n, sperringRecord{Patient: rec.p.fnr, Kind: rec.kind, DocumentUniqueID: rec.uid, HPRNumber: rec.hpr, Reason: "leak search"})
	rec.id = got.ID
	rec.p.records = append(rec.p.records, rec)
	w.records[rec.id] = rec
}

// remove deletes rec through n's API and from the world.
func (w *world) remove(t testing.TB, f *fixture, n *node, rec *record) {
	t.Helper()
	f.deleteSperring(t, n, rec.id)
	rec.p.records = slices.DeleteFunc(rec.p.records, func(x *record) bool { return x == rec })
	delete(w.records, rec.id)
}

// register submits every patient's documents through n with ITI-41, then
// replaces the first document of about half of them (RPLC) with one whose
// NORS coding is the opposite, so that replacement changes sperring too.
func (w *world) register(t testing.TB, f *fixture, n *node, r *rand.Rand) {
	t.Helper()
	for _, p := range w.patients {
		if len(p.docs) == 0 {
			continue
		}
		f.provide(t, n, w.submission(p, slices.Clone(p.docs), p.folderUUID != ""))
	}
	for _, p := range w.patients {
		if len(p.docs) == 0 || r.IntN(2) == 0 {
			continue
		}
		old := p.docs[0]
		repl := w.newDoc(r, p, !old.nors)
		repl.replaces = old
		f.provide(t, n, w.submission(p, []*doc{repl}, false))
		old.deprecated = true
	}
}

// provide sends one ITI-41 and requires Success.
func (f *fixture) provide(t testing.TB, n *node, body string) {
	t.Helper()
	rep, err := n.do(request{path: harness.PathRepository, contentType: harness.ContentTypeSOAP,
		header: bearer(f.clientToken()), body: harness.Envelope(harness.ActionProvideAndRegister, body)})
	if err != nil {
		t.Fatal(err)
	}
	if st := responseStatus(rep.body); st != "Success" {
		t.Fatalf("ITI-41 on %s: HTTP %d, status %q:\n%s", n.name, rep.status, st, clip(rep.body))
	}
}

var reResponseStatus = regexp.MustCompile(`status="urn:[a-z:.0-9-]*:ResponseStatusType:(\w+)"`)

func responseStatus(b []byte) string {
	m := reResponseStatus.FindSubmatch(b)
	if m == nil {
		return ""
	}
	return string(m[1])
}

func clip(b []byte) string {
	if len(b) > 3000 {
		return string(b[:3000]) + "…"
	}
	return string(b)
}

// submission is a Norwegian-profile ProvideAndRegisterDocumentSetRequest
// for docs of p, with p's folder when withFolder.
func (w *world) submission(p *patient, docs []*doc, withFolder bool) string {
	var b strings.Builder
	ss := harness.NewUUIDURN()
	p.sets = append(p.sets, &submissionSet{uuid: ss, docs: docs})
	for _, d := range docs {
		d.submitted = true
	}
	w.seq++
	ssUID := fmt.Sprintf("%s%d", ssUIDPrefix, w.seq)
	b.WriteString(`<xdsb:ProvideAndRegisterDocumentSetRequest xmlns:xdsb="urn:ihe:iti:xds-b:2007">`)
	b.WriteString(`<lcm:SubmitObjectsRequest xmlns:lcm="urn:oasis:names:tc:ebxml-regrep:xsd:lcm:3.0" xmlns:rim="urn:oasis:names:tc:ebxml-regrep:xsd:rim:3.0"><rim:RegistryObjectList>`)
	for _, d := range docs {
		b.WriteString(extrinsicObject(d))
	}
	if withFolder {
		b.WriteString(`<rim:RegistryPackage id="` + p.folderUUID + `">`)
		b.WriteString(`<rim:Name><rim:LocalizedString value="Innleggelse"/></rim:Name>`)
		b.WriteString(classification("", "urn:uuid:1ba97051-7806-41a8-a48b-8fce7af683c5", p.folderUUID, "B00-1", "2.16.578.1.12.4.1.1.9602", "Kontinuerlig/løpende journal"))
		b.WriteString(externalID("urn:uuid:75df8f67-9973-4fbe-a900-df66cefecc5a", p.folderUUID, p.folderUID, "XDSFolder.uniqueId"))
		b.WriteString(externalID("urn:uuid:f64ffdf0-4b97-4e06-b79f-a52b38ec2f8a", p.folderUUID, p.cx, "XDSFolder.patientId"))
		b.WriteString(`</rim:RegistryPackage>`)
		b.WriteString(`<rim:Classification id="` + harness.NewUUIDURN() + `" classificationNode="urn:uuid:d9d542f3-6cc4-48b6-8870-ea235fbc94c2" classifiedObject="` + p.folderUUID + `"/>`)
	}
	b.WriteString(`<rim:RegistryPackage id="` + ss + `">`)
	b.WriteString(`<rim:Slot name="submissionTime"><rim:ValueList><rim:Value>20250206141356</rim:Value></rim:ValueList></rim:Slot>`)
	b.WriteString(`<rim:Classification id="` + harness.NewUUIDURN() + `" classificationScheme="urn:uuid:a7058bb9-b4e4-4307-ba5b-e3f0ab85e12d" classifiedObject="` + ss + `" nodeRepresentation="">`)
	b.WriteString(`<rim:Slot name="authorInstitution"><rim:ValueList><rim:Value>Finnmarkssykehuset HF^^^^^&amp;2.16.578.1.12.4.1.4.101&amp;ISO^^^^983974880</rim:Value></rim:ValueList></rim:Slot></rim:Classification>`)
	b.WriteString(classification("", "urn:uuid:aa543740-bdda-424e-8c96-df4873be8500", ss, "A00-1", "2.16.578.1.12.4.1.1.9602", "Epikriser og sammenfatninger"))
	b.WriteString(externalID("urn:uuid:96fdda7c-d067-4183-912e-bf5ee74998a8", ss, ssUID, "XDSSubmissionSet.uniqueId"))
	b.WriteString(externalID("urn:uuid:554ac39e-e3fe-47fe-b233-965d2a147832", ss, harness.HomeCommunityID, "XDSSubmissionSet.sourceId"))
	b.WriteString(externalID("urn:uuid:6b5aea1a-874d-4603-a4bc-96a0a7b38446", ss, p.cx, "XDSSubmissionSet.patientId"))
	b.WriteString(`</rim:RegistryPackage>`)
	b.WriteString(`<rim:Classification id="` + harness.NewUUIDURN() + `" classificationNode="urn:uuid:a54d6aa5-d40d-43f9-88c5-b4633d873bdd" classifiedObject="` + ss + `"/>`)
	hasMember := "urn:oasis:names:tc:ebxml-regrep:AssociationType:HasMember"
	for _, d := range docs {
		b.WriteString(`<rim:Association id="` + harness.NewUUIDURN() + `" associationType="` + hasMember + `" sourceObject="` + ss + `" targetObject="` + d.uuid + `">`)
		b.WriteString(`<rim:Slot name="SubmissionSetStatus"><rim:ValueList><rim:Value>Original</rim:Value></rim:ValueList></rim:Slot></rim:Association>`)
		if d.replaces != nil {
			rel := d.rel
			if rel == "" {
				rel = "RPLC"
			}
			b.WriteString(`<rim:Association id="` + harness.NewUUIDURN() + `" associationType="urn:ihe:iti:2007:AssociationType:` + rel + `" sourceObject="` + d.uuid + `" targetObject="` + d.replaces.uuid + `"/>`)
		}
	}
	if withFolder {
		b.WriteString(`<rim:Association id="` + harness.NewUUIDURN() + `" associationType="` + hasMember + `" sourceObject="` + ss + `" targetObject="` + p.folderUUID + `"/>`)
		for _, d := range docs {
			if !d.inFolder {
				continue
			}
			fa := harness.NewUUIDURN()
			b.WriteString(`<rim:Association id="` + fa + `" associationType="` + hasMember + `" sourceObject="` + p.folderUUID + `" targetObject="` + d.uuid + `"/>`)
			b.WriteString(`<rim:Association id="` + harness.NewUUIDURN() + `" associationType="` + hasMember + `" sourceObject="` + ss + `" targetObject="` + fa + `"/>`)
		}
	}
	b.WriteString(`</rim:RegistryObjectList></lcm:SubmitObjectsRequest>`)
	for _, d := range docs {
		b.WriteString(`<xdsb:Document id="` + d.uuid + `">` + base64.StdEncoding.EncodeToString(d.content) + `</xdsb:Document>`)
	}
	b.WriteString(`</xdsb:ProvideAndRegisterDocumentSetRequest>`)
	return b.String()
}

func extrinsicObject(d *doc) string {
	var b strings.Builder
	id := d.uuid
	b.WriteString(`<rim:ExtrinsicObject id="` + id + `" mimeType="text/plain" objectType="urn:uuid:7edca82f-054d-47f2-a032-9b2a5b5186c1">`)
	slotXML := func(name string, values ...string) {
		b.WriteString(`<rim:Slot name="` + name + `"><rim:ValueList>`)
		for _, v := range values {
			b.WriteString(`<rim:Value>` + harness.XMLEscape(v) + `</rim:Value>`)
		}
		b.WriteString(`</rim:ValueList></rim:Slot>`)
	}
	slotXML("creationTime", fmt.Sprintf("2025%02d%02d101500", 1+d.n%12, 1+d.n%28))
	slotXML("languageCode", "nb-NO")
	slotXML("sourcePatientId", d.p.cx)
	if d.ref {
		slotXML("urn:ihe:iti:xds:2013:referenceIdList", d.p.refID())
	}
	b.WriteString(`<rim:Name><rim:LocalizedString value="Notat ` + fmt.Sprint(d.n) + `"/></rim:Name>`)
	b.WriteString(`<rim:Classification id="` + harness.NewUUIDURN() + `" classificationScheme="urn:uuid:93606bcf-9494-43ec-9b4e-a7748d1a838d" classifiedObject="` + id + `" nodeRepresentation="">`)
	b.WriteString(`<rim:Slot name="authorPerson"><rim:ValueList><rim:Value>502116685^GEIRAAS^BENEDIKTE^^^^^^&amp;2.16.578.1.12.4.1.4.4&amp;ISO</rim:Value></rim:ValueList></rim:Slot>`)
	b.WriteString(`<rim:Slot name="authorInstitution"><rim:ValueList><rim:Value>Finnmarkssykehuset HF^^^^^&amp;2.16.578.1.12.4.1.4.101&amp;ISO^^^^983974880</rim:Value></rim:ValueList></rim:Slot></rim:Classification>`)
	classDisplay := map[string]string{"A00-1": "Epikriser og sammenfatninger", "B00-1": "Kontinuerlig/løpende journal"}[d.class]
	b.WriteString(classification("", "urn:uuid:41a5887f-8865-4c09-adf7-e362475b143a", id, d.class, "2.16.578.1.12.4.1.1.9602", classDisplay))
	b.WriteString(classification("", "urn:uuid:f0306f51-975f-434e-a61c-c59651d33983", id, "A01-2", "2.16.578.1.12.4.1.1.9602", "Kriseplan"))
	if d.nors {
		b.WriteString(classification("", "urn:uuid:f4f85eac-e6cb-4883-b524-f2705394840f", id, "NORS", "2.16.578.1.12.4.1.1.9603", "Sperret"))
	} else {
		b.WriteString(classification("", "urn:uuid:f4f85eac-e6cb-4883-b524-f2705394840f", id, "N", "2.16.840.1.113883.5.25", "Normal"))
	}
	b.WriteString(classification("", "urn:uuid:a09d5840-386c-46f2-b5ad-9c3699a4309d", id, "urn:ihe:iti:xds:2017:mimeTypeSufficient", "1.3.6.1.4.1.19376.1.2.3", "mimeType Sufficient"))
	b.WriteString(classification("", "urn:uuid:f33fb8ac-18af-42cc-ae0e-ed0b0bdb91e1", id, "86.211", "2.16.578.1.12.4.1.1.1303", "Alminnelige somatiske sykehus"))
	b.WriteString(classification("", "urn:uuid:cccf5598-8b07-4b77-a05e-ae952c785ead", id, "4", "2.16.578.1.12.4.1.1.8653", "Indremedisin"))
	b.WriteString(externalID("urn:uuid:58a6f841-87b3-4a3e-92fd-a8ffeff98427", id, d.p.cx, "XDSDocumentEntry.patientId"))
	b.WriteString(externalID("urn:uuid:2e82c1f6-a085-4c72-9da3-8640a32e42ab", id, d.uid, "XDSDocumentEntry.uniqueId"))
	b.WriteString(`</rim:ExtrinsicObject>`)
	return b.String()
}

func classification(id, scheme, object, code, system, display string) string {
	if id == "" {
		id = harness.NewUUIDURN()
	}
	return `<rim:Classification id="` + id + `" classificationScheme="` + scheme + `" classifiedObject="` + object + `" nodeRepresentation="` + harness.XMLEscape(code) + `">` +
		`<rim:Slot name="codingScheme"><rim:ValueList><rim:Value>` + system + `</rim:Value></rim:ValueList></rim:Slot>` +
		`<rim:Name><rim:LocalizedString value="` + harness.XMLEscape(display) + `"/></rim:Name></rim:Classification>`
}

func externalID(scheme, object, value, name string) string {
	return `<rim:ExternalIdentifier id="` + harness.NewUUIDURN() + `" identificationScheme="` + scheme + `" registryObject="` + object + `" value="` + harness.XMLEscape(value) + `">` +
		`<rim:Name><rim:LocalizedString value="` + name + `"/></rim:Name></rim:ExternalIdentifier>`
}
