package sperring

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"mime"
	"regexp"
	"slices"
	"sort"
	"strings"

	"kjdd/test/internal/harness"
)

// Stored query ids (ITI TF-2 3.18.4.1.2.3.7).
const (
	qFindDocuments               = "urn:uuid:14d4debf-8f97-4251-9a74-a90016b0af0d"
	qFindSubmissionSets          = "urn:uuid:f26abbcb-ac74-4422-8a30-edb644bbc1a9"
	qFindFolders                 = "urn:uuid:958f3006-baad-4929-a4de-ff1114824431"
	qGetAll                      = "urn:uuid:10b545ea-725c-446d-9b95-8aeb444eddf3"
	qGetDocuments                = "urn:uuid:5c4f972b-d56b-40ac-a5fc-c8ca9b40b9d4"
	qGetFolders                  = "urn:uuid:5737b14c-8a1a-4539-b659-e03a34a5e1e4"
	qGetAssociations             = "urn:uuid:a7ae438b-4bc2-4642-93e9-be891f7bb155"
	qGetDocumentsAndAssociations = "urn:uuid:bab9529a-4a10-40b3-a01f-f68a615d247a"
	qGetSubmissionSets           = "urn:uuid:51224314-5390-4169-9b91-b1980040715a"
	qGetSubmissionSetAndContents = "urn:uuid:e8e3cb2c-e39c-46b9-99e4-c12f57260b83"
	qGetFolderAndContents        = "urn:uuid:b909a503-523d-4517-8acf-8e5834dfc4c7"
	qGetFoldersForDocument       = "urn:uuid:10cae35a-c7f9-4cf5-b61e-fc3278ffb578"
	qGetRelatedDocuments         = "urn:uuid:d90e5407-b356-4d91-a89f-873917b4b0e6"
	qFindDocumentsByReferenceID  = "urn:uuid:12941a89-e02e-4be5-967c-ce4bfc8fe492"
)

// queryNames names the 14 stored queries for the tally.
var queryNames = map[string]string{
	qFindDocuments: "FindDocuments", qFindSubmissionSets: "FindSubmissionSets", qFindFolders: "FindFolders",
	qGetAll: "GetAll", qGetDocuments: "GetDocuments", qGetFolders: "GetFolders", qGetAssociations: "GetAssociations",
	qGetDocumentsAndAssociations: "GetDocumentsAndAssociations", qGetSubmissionSets: "GetSubmissionSets",
	qGetSubmissionSetAndContents: "GetSubmissionSetAndContents", qGetFolderAndContents: "GetFolderAndContents",
	qGetFoldersForDocument: "GetFoldersForDocument", qGetRelatedDocuments: "GetRelatedDocuments",
	qFindDocumentsByReferenceID: "FindDocumentsByReferenceId",
}

const (
	statusApproved   = "urn:oasis:names:tc:ebxml-regrep:StatusType:Approved"
	statusDeprecated = "urn:oasis:names:tc:ebxml-regrep:StatusType:Deprecated"
)

// expectation is what the oracle says of one answer.
type expectation struct {
	// exact: the documents the answer refers to must be want (unless
	// notSingle or tooMany applies).
	exact bool
	want  map[*doc]bool
	// notSingle: XDSResultNotSinglePatient is the right answer.
	notSingle bool
	// tooMany: XDSTooManyResults is the right answer.
	tooMany bool
	// mayFail: a non-exact query may fail with XDSTooManyResults.
	mayFail bool
	// likeUnknown: everything the request names is hidden from the
	// requester, so the answer must be the one given for ids nobody
	// registered (compared with the reference instance).
	likeUnknown bool
	// retrieve: the request was a retrieve of named.
	retrieve bool
	named    []string
}

// draw is one randomly drawn request with what the oracle expects.
type draw struct {
	kind   string // ITI-18, ITI-38, ITI-43, ITI-39
	query  string // stored query name, for the tally
	req    request
	r      requester
	bound  *patient
	expect expectation
}

// drawer draws requests against a world.
type drawer struct {
	w          *world
	f          *fixture
	maxResults int
}

func (d *drawer) patientWithDocs(r *rand.Rand) *patient {
	for range 20 {
		p := d.w.patients[r.IntN(len(d.w.patients))]
		if len(p.docs) > 0 {
			return p
		}
	}
	return d.w.patients[r.IntN(len(d.w.patients))]
}

func (d *drawer) requester(r *rand.Rand) requester {
	return requester{hpr: hprNumbers[r.IntN(len(hprNumbers))], purpose: purposes[r.IntN(len(purposes))]}
}

// named picks 1-3 documents of p, sometimes one of another patient and
// sometimes an id nobody registered.
func (d *drawer) named(r *rand.Rand, p *patient, max int) (docs []*doc, unknown []string) {
	if len(p.docs) > 0 {
		for _, i := range r.Perm(len(p.docs))[:min(len(p.docs), 1+r.IntN(max))] {
			docs = append(docs, p.docs[i])
		}
	}
	if r.IntN(5) == 0 && len(d.w.docs) > 0 {
		if o := d.w.docs[r.IntN(len(d.w.docs))]; !slices.Contains(docs, o) {
			docs = append(docs, o)
		}
	}
	if len(docs) == 0 || r.IntN(10) == 0 {
		unknown = append(unknown, fmt.Sprintf("%s%d", docUIDPrefix, 900000+r.IntN(100000)))
	}
	return docs, unknown
}

func (d *drawer) visibleOf(docs []*doc, r requester, bound *patient) map[*doc]bool {
	out := map[*doc]bool{}
	for _, x := range docs {
		if d.w.visible(x, r, bound) {
			out[x] = true
		}
	}
	return out
}

func patientsOf(set map[*doc]bool) int {
	ps := map[*patient]bool{}
	for x := range set {
		ps[x.p] = true
	}
	return len(ps)
}

// next draws one request of any kind.
func (d *drawer) next(r *rand.Rand) draw {
	rq := d.requester(r)
	switch n := r.IntN(100); {
	case n < 40:
		return d.query(r, rq, nil)
	case n < 70:
		p := d.patientWithDocs(r)
		return d.query(r, rq, p)
	case n < 85:
		return d.retrieve(r, rq, nil)
	default:
		return d.retrieve(r, rq, d.patientWithDocs(r))
	}
}

// retrieve draws an ITI-43 (bound nil) or ITI-39 (bound: the assertion's
// patient, sometimes not the one whose documents are named).
func (d *drawer) retrieve(r *rand.Rand, rq requester, bound *patient) draw {
	p := d.patientWithDocs(r)
	if bound != nil && r.IntN(4) > 0 {
		bound = p
	}
	docs, unknown := d.named(r, p, 3)
	var uids []string
	for _, x := range docs {
		uids = append(uids, x.uid)
	}
	uids = append(uids, unknown...)
	vis := d.visibleOf(docs, rq, bound)
	e := expectation{retrieve: true, named: uids, want: vis, likeUnknown: len(vis) == 0}
	if bound == nil {
		return draw{kind: "ITI-43", req: d.f.iti43(rq, uids), r: rq, expect: e}
	}
	return draw{kind: "ITI-39", req: d.f.iti39(bound.cx, rq, uids), r: rq, bound: bound, expect: e}
}

func statusSlot(name string, r *rand.Rand) (slot, []string) {
	if r.IntN(3) == 0 {
		return slot{name: name, values: []string{statusApproved, statusDeprecated}}, []string{statusApproved, statusDeprecated}
	}
	return slot{name: name, values: []string{statusApproved}, list: true}, []string{statusApproved}
}

func hasStatus(x *doc, statuses []string) bool { return slices.Contains(statuses, x.status()) }

// query draws one of the 14 stored queries, as ITI-18 (bound nil) or
// ITI-38 bound to a patient.
func (d *drawer) query(r *rand.Rand, rq requester, bound *patient) draw {
	p := bound
	if p == nil {
		p = d.patientWithDocs(r)
	}
	var q storedQuery
	var e expectation
	ids := func(docs []*doc, unknown []string) (slot, map[*doc]bool) {
		byUUID := r.IntN(2) == 0
		var vals []string
		for _, x := range docs {
			if byUUID {
				vals = append(vals, x.uuid)
			} else {
				vals = append(vals, x.uid)
			}
		}
		if byUUID {
			for range unknown {
				vals = append(vals, harness.NewUUIDURN())
			}
		} else {
			vals = append(vals, unknown...)
		}
		name := "$XDSDocumentEntryUniqueId"
		if byUUID {
			name = "$XDSDocumentEntryEntryUUID"
		}
		return slot{name: name, values: vals, list: true}, d.visibleOf(docs, rq, bound)
	}
	uuidsOf := func(docs []*doc, unknown []string) []string {
		var vals []string
		for _, x := range docs {
			vals = append(vals, x.uuid)
		}
		for range unknown {
			vals = append(vals, harness.NewUUIDURN())
		}
		return vals
	}
	limit := func(e *expectation, objects int) {
		if objects > d.maxResults {
			e.tooMany = true
		}
	}
	switch r.IntN(14) {
	case 0: // FindDocuments, with filters that single blocked documents out
		st, statuses := statusSlot("$XDSDocumentEntryStatus", r)
		q = storedQuery{id: qFindDocuments, slots: []slot{{name: "$XDSDocumentEntryPatientId", values: []string{p.cx}}, st}}
		class, conf := "", ""
		if r.IntN(3) == 0 {
			class = []string{"A00-1", "B00-1"}[r.IntN(2)]
			q.slots = append(q.slots, slot{name: "$XDSDocumentEntryClassCode", values: []string{class + "^^2.16.578.1.12.4.1.1.9602"}, list: true})
		}
		if r.IntN(4) == 0 {
			conf = []string{"NORS^^2.16.578.1.12.4.1.1.9603", "N^^2.16.840.1.113883.5.25"}[r.IntN(2)]
			q.slots = append(q.slots, slot{name: "$XDSDocumentEntryConfidentialityCode", values: []string{conf}, list: true})
		}
		want := map[*doc]bool{}
		for _, x := range p.docs {
			if !hasStatus(x, statuses) || (class != "" && x.class != class) {
				continue
			}
			if conf != "" && x.nors != strings.HasPrefix(conf, "NORS") {
				continue
			}
			if d.w.visible(x, rq, bound) {
				want[x] = true
			}
		}
		e = expectation{exact: true, want: want, likeUnknown: len(want) == 0}
		limit(&e, len(want))
	case 1:
		st, _ := statusSlot("$XDSSubmissionSetStatus", r)
		q = storedQuery{id: qFindSubmissionSets, slots: []slot{{name: "$XDSSubmissionSetPatientId", values: []string{p.cx}}, st}}
		e = expectation{mayFail: true}
	case 2:
		st, _ := statusSlot("$XDSFolderStatus", r)
		q = storedQuery{id: qFindFolders, slots: []slot{{name: "$XDSFolderPatientId", values: []string{p.cx}}, st}}
		e = expectation{mayFail: true}
	case 3:
		st, _ := statusSlot("$XDSDocumentEntryStatus", r)
		q = storedQuery{id: qGetAll, slots: []slot{{name: "$patientId", values: []string{p.cx}}, st,
			{name: "$XDSSubmissionSetStatus", values: []string{statusApproved}, list: true},
			{name: "$XDSFolderStatus", values: []string{statusApproved}, list: true}}}
		e = expectation{mayFail: true}
	case 4, 7: // GetDocuments, GetDocumentsAndAssociations
		docs, unknown := d.named(r, p, 4)
		s, vis := ids(docs, unknown)
		q = storedQuery{id: qGetDocuments, slots: []slot{s}}
		e = expectation{exact: true, want: vis, likeUnknown: len(vis) == 0}
		if r.IntN(2) == 0 {
			q.id = qGetDocumentsAndAssociations
			e.mayFail = true
		}
	case 5:
		uuid := p.folderUUID
		if uuid == "" {
			uuid = harness.NewUUIDURN()
		}
		q = storedQuery{id: qGetFolders, slots: []slot{{name: "$XDSFolderEntryUUID", values: []string{uuid}, list: true}}}
	case 6, 8: // GetAssociations, GetSubmissionSets: $uuid
		docs, unknown := d.named(r, p, 3)
		q = storedQuery{id: qGetAssociations, slots: []slot{{name: "$uuid", values: uuidsOf(docs, unknown), list: true}}}
		vis := d.visibleOf(docs, rq, bound)
		e = expectation{likeUnknown: len(vis) == 0, mayFail: true}
		if r.IntN(2) == 0 {
			// The SubmissionSets of the visible documents only: several
			// patients' make a LeafClass answer fail, hidden ones must not.
			q.id = qGetSubmissionSets
			e.want = vis
		}
	case 9:
		if len(p.sets) == 0 {
			return d.query(r, rq, bound)
		}
		set := p.sets[r.IntN(len(p.sets))]
		q = storedQuery{id: qGetSubmissionSetAndContents, slots: []slot{{name: "$XDSSubmissionSetEntryUUID", values: []string{set.uuid}}}}
		e = expectation{exact: true, want: d.visibleOf(set.docs, rq, bound), mayFail: true}
	case 10:
		if p.folderUUID == "" {
			return d.query(r, rq, bound)
		}
		var members []*doc
		for _, x := range p.docs {
			if x.inFolder {
				members = append(members, x)
			}
		}
		q = storedQuery{id: qGetFolderAndContents, slots: []slot{{name: "$XDSFolderEntryUUID", values: []string{p.folderUUID}}}}
		e = expectation{exact: true, want: d.visibleOf(members, rq, bound), mayFail: true}
	case 11, 12: // GetFoldersForDocument, GetRelatedDocuments: one document
		docs, unknown := d.named(r, p, 1)
		docs, unknown = docs[:min(1, len(docs))], unknown[:min(1, len(unknown))]
		if len(docs) > 0 {
			unknown = nil
		}
		s, vis := ids(docs, unknown)
		q = storedQuery{id: qGetFoldersForDocument, slots: []slot{s}}
		if r.IntN(2) == 0 {
			q.id = qGetRelatedDocuments
			q.slots = append(q.slots, slot{name: "$AssociationTypes", values: []string{
				"urn:ihe:iti:2007:AssociationType:RPLC", "urn:ihe:iti:2007:AssociationType:APND", "urn:ihe:iti:2007:AssociationType:XFRM"}})
		}
		e = expectation{likeUnknown: len(vis) == 0, mayFail: true}
	case 13:
		st, statuses := statusSlot("$XDSDocumentEntryStatus", r)
		q = storedQuery{id: qFindDocumentsByReferenceID, slots: []slot{
			{name: "$XDSDocumentEntryPatientId", values: []string{p.cx}}, st,
			{name: "$XDSDocumentEntryReferenceIdList", values: []string{p.refID()}, list: true}}}
		want := map[*doc]bool{}
		for _, x := range p.docs {
			if x.ref && hasStatus(x, statuses) && d.w.visible(x, rq, bound) {
				want[x] = true
			}
		}
		e = expectation{exact: true, want: want, likeUnknown: len(want) == 0}
		limit(&e, len(want))
	}
	if r.IntN(4) == 0 {
		q.returnType = "ObjectRef"
	}
	if e.want != nil && q.returnType != "ObjectRef" && bound == nil && patientsOf(e.want) > 1 {
		e.notSingle = true
	}
	if e.exact && (q.id == qGetDocuments || q.id == qGetDocumentsAndAssociations) {
		limit(&e, len(e.want))
	}
	if bound == nil {
		return draw{kind: "ITI-18", query: queryNames[q.id], req: d.f.iti18(rq, q), r: rq, expect: e}
	}
	return draw{kind: "ITI-38", query: queryNames[q.id], req: d.f.iti38(bound.cx, rq, q), r: rq, bound: bound, expect: e}
}

// referenced returns the world's documents an answer refers to, by
// entryUUID or uniqueId anywhere in it (objects, references, association
// ends, slots), found without parsing so that every answer can be scanned.
func (w *world) referenced(body []byte, uniqueIDs bool) map[*doc]bool {
	out := map[*doc]bool{}
	const urn = "urn:uuid:"
	for rest := body; ; {
		i := bytes.Index(rest, []byte(urn))
		if i < 0 || len(rest) < i+len(urn)+36 {
			break
		}
		if x := w.byUUID[string(rest[i:i+len(urn)+36])]; x != nil {
			out[x] = true
		}
		rest = rest[i+len(urn):]
	}
	if !uniqueIDs {
		return out
	}
	for rest := body; ; {
		i := bytes.Index(rest, []byte(docUIDPrefix))
		if i < 0 {
			break
		}
		j := i + len(docUIDPrefix)
		for j < len(rest) && rest[j] >= '0' && rest[j] <= '9' {
			j++
		}
		if x := w.byUID[string(rest[i:j])]; x != nil {
			out[x] = true
		}
		rest = rest[j:]
	}
	return out
}

// objects returns the world's documents an answer lists as objects
// (ExtrinsicObject, or ObjectRef for returnType ObjectRef); documents
// named only as an association's end are not among them.
func (w *world) objects(body []byte) map[*doc]bool {
	out := map[*doc]bool{}
	for _, tag := range []string{"ExtrinsicObject id=\"", "ObjectRef id=\""} {
		for rest := body; ; {
			i := bytes.Index(rest, []byte(tag))
			if i < 0 {
				break
			}
			rest = rest[i+len(tag):]
			if j := bytes.IndexByte(rest, '"'); j >= 0 {
				if x := w.byUUID[string(rest[:j])]; x != nil {
					out[x] = true
				}
			}
		}
	}
	return out
}

var reErrorCode = regexp.MustCompile(`errorCode="(\w+)"`)

func errorCodes(b []byte) []string {
	var out []string
	for _, m := range reErrorCode.FindAllSubmatch(b, -1) {
		out = append(out, string(m[1]))
	}
	return out
}

// check returns what is wrong with rep as the answer to dr: any document
// hidden from the requester that the answer refers to, and any departure
// from the oracle's expectation.
func (w *world) check(dr draw, rep reply) []string {
	var problems []string
	bad := func(format string, a ...any) { problems = append(problems, fmt.Sprintf(format, a...)) }
	if rep.status != 200 {
		bad("HTTP %d", rep.status)
		return problems
	}
	if bytes.Contains(rep.body, []byte(":Fault>")) {
		bad("SOAP fault: %s", clip(rep.body))
		return problems
	}
	// Leak scan. A retrieve's error names the uniqueId it was asked for,
	// as it does for an unknown id, so only entryUUIDs are scanned there.
	for x := range w.referenced(rep.body, !dr.expect.retrieve) {
		if !w.visible(x, dr.r, dr.bound) {
			bad("LEAK: document %s (patient %d, nors %v, records %d) is hidden from %v but the answer refers to it",
				x.uid, x.p.idx, x.nors, len(x.p.records), dr.r)
		}
	}
	if dr.expect.retrieve {
		return append(problems, w.checkRetrieve(dr, rep)...)
	}
	status, codes := responseStatus(rep.body), errorCodes(rep.body)
	e := dr.expect
	switch {
	case e.notSingle:
		if status != "Failure" || !slices.Equal(codes, []string{"XDSResultNotSinglePatient"}) {
			bad("want XDSResultNotSinglePatient (visible documents of several patients), got %s %v", status, codes)
		}
		return problems
	case e.tooMany:
		if status != "Failure" || !slices.Equal(codes, []string{"XDSTooManyResults"}) {
			bad("want XDSTooManyResults (%d visible), got %s %v", len(e.want), status, codes)
		}
		return problems
	case status == "Failure" && e.mayFail && slices.Equal(codes, []string{"XDSTooManyResults"}):
		return problems
	case status != "Success" || len(codes) > 0:
		bad("want Success, got %s %v", status, codes)
		return problems
	}
	if e.exact {
		got := w.objects(rep.body)
		if !sameDocs(got, e.want) {
			bad("documents %v, want %v", uidList(got), uidList(e.want))
		}
	}
	return problems
}

func (w *world) checkRetrieve(dr draw, rep reply) []string {
	var problems []string
	bad := func(format string, a ...any) { problems = append(problems, fmt.Sprintf(format, a...)) }
	msg, err := harness.ParseMessage(rep.contentType, rep.body)
	if err != nil {
		bad("retrieve answer does not parse: %v", err)
		return problems
	}
	docs, err := msg.Documents()
	if err != nil {
		bad("retrieve answer: %v", err)
		return problems
	}
	e := dr.expect
	for uid, content := range docs {
		x := w.byUID[uid]
		switch {
		case x == nil || !slices.Contains(e.named, uid):
			bad("retrieve returned %s, which was not asked for", uid)
		case !e.want[x]:
			bad("LEAK: retrieve returned %s, hidden from %v", uid, dr.r)
		case !bytes.Equal(content, x.content):
			bad("retrieve returned other content for %s", uid)
		}
	}
	for x := range e.want {
		if _, ok := docs[x.uid]; !ok {
			bad("retrieve did not return visible %s", x.uid)
		}
	}
	codes := errorCodes(rep.body)
	missing := len(e.named) - len(e.want)
	if len(codes) != missing {
		bad("retrieve answered %d errors %v for %d documents it may not return", len(codes), codes, missing)
	}
	for _, c := range codes {
		if c != "XDSDocumentUniqueIdError" {
			bad("retrieve error %s, want XDSDocumentUniqueIdError", c)
		}
	}
	want := "Success"
	switch {
	case len(e.want) == 0:
		want = "Failure"
	case missing > 0:
		want = "PartialSuccess"
	}
	if got := msg.Status(); !strings.HasSuffix(got, ":"+want) {
		bad("retrieve status %s, want %s", got, want)
	}
	return problems
}

func sameDocs(a, b map[*doc]bool) bool {
	if len(a) != len(b) {
		return false
	}
	for x := range a {
		if !b[x] {
			return false
		}
	}
	return true
}

func uidList(set map[*doc]bool) []string {
	var out []string
	for x := range set {
		out = append(out, x.uid)
	}
	sort.Strings(out)
	return out
}

var (
	reMessageID = regexp.MustCompile(`<wsa:MessageID>[^<]*</wsa:MessageID>`)
	reRelatesTo = regexp.MustCompile(`<wsa:RelatesTo>[^<]*</wsa:RelatesTo>`)
	reContentID = regexp.MustCompile(`[0-9a-zA-Z._-]+@kjdd`)
)

// normalise reduces an answer to what must not differ between two
// answers to the same request: the Content-Type and the body, with only
// the MIME boundary, the content ids and the WS-Addressing MessageID and
// RelatesTo replaced.
func normalise(rep reply) string {
	ct, body := rep.contentType, string(rep.body)
	if _, params, err := mime.ParseMediaType(ct); err == nil && params["boundary"] != "" {
		ct = strings.ReplaceAll(ct, params["boundary"], "BOUNDARY")
		body = strings.ReplaceAll(body, params["boundary"], "BOUNDARY")
	}
	ct = reContentID.ReplaceAllString(ct, "CID@kjdd")
	body = reContentID.ReplaceAllString(body, "CID@kjdd")
	body = reMessageID.ReplaceAllString(body, "<wsa:MessageID>MESSAGE-ID</wsa:MessageID>")
	body = reRelatesTo.ReplaceAllString(body, "<wsa:RelatesTo>RELATES-TO</wsa:RelatesTo>")
	return fmt.Sprintf("HTTP %d\nContent-Type: %s\n\n%s", rep.status, ct, body)
}
