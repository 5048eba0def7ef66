package sperring

import (
	"bytes"
	"encoding/json"
	mathrand "math/rand/v2"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"kjdd/helseid/helseidtest"
	"kjdd/test/internal/harness"
)

// problem is the JSON of an RFC 9457 answer.
type problem struct {
	Title         string `json:"title"`
	Status        int    `json:"status"`
	Detail        string `json:"detail"`
	InvalidParams []struct {
		Name   string `json:"name"`
		Reason string `json:"reason"`
	} `json:"invalid-params"`
}

// TestSperringAPI exercises the sperring API's contract: create (201 with
// the record and its id), _search, delete (204, then 404), and a problem
// document for every refusal, none of which echoes the patient.
func TestSperringAPI(t *testing.T) {
	f := newFixture(t)
	n := startNode(t, "a", f, "", nil)
	r := mathrand.New(mathrand.NewPCG(1, 2))
	fnr, other := syntheticFNR(r), syntheticFNR(r)
	api := func(method, path, contentType string, header http.Header, body string) reply {
		t.Helper()
		rep, err := n.do(request{method: method, path: path, contentType: contentType, header: header, body: []byte(body)})
		if err != nil {
			t.Fatal(err)
		}
		return rep
	}
	client := bearer(f.clientToken())

	rep := api(http.MethodPost, "/api/v1/sperring", "application/json", client,
		`{"patient": "`+harness.CX(fnr)+`", "kind": "document", "documentUniqueId": "2.25.424242.1", "reason": "pasientens ønske"}`)
	if rep.status != http.StatusCreated {
		t.Fatalf("create: HTTP %d %s", rep.status, rep.body)
	}
	var created struct {
		sperringRecord
		CreatedAt time.Time `json:"createdAt"`
		CreatedBy string    `json:"createdBy"`
	}
	if err := json.Unmarshal(rep.body, &created); err != nil {
		t.Fatal(err)
	}
	if created.ID == "" || created.Patient != fnr || created.Kind != "document" || created.DocumentUniqueID != "2.25.424242.1" ||
		created.Reason != "pasientens ønske" || created.CreatedAt.IsZero() || created.CreatedBy != helseidtest.DefaultClientID {
		t.Fatalf("created record: %s", rep.body)
	}

	search := func(patient string) []sperringRecord {
		t.Helper()
		rep := api(http.MethodPost, "/api/v1/sperring/_search", "application/json", client, `{"patient": "`+patient+`"}`)
		if rep.status != http.StatusOK {
			t.Fatalf("_search: HTTP %d %s", rep.status, rep.body)
		}
		var got struct {
			Items *[]sperringRecord `json:"items"`
		}
		if err := json.Unmarshal(rep.body, &got); err != nil || got.Items == nil {
			t.Fatalf("_search answer %s: %v", rep.body, err)
		}
		return *got.Items
	}
	if got := search(fnr); len(got) != 1 || got[0].ID != created.ID {
		t.Fatalf("_search of the patient: %+v", got)
	}
	if got := search(other); len(got) != 0 {
		t.Fatalf("_search of another patient: %+v", got)
	}

	if rep := api(http.MethodDelete, "/api/v1/sperring/"+created.ID, "", client, ""); rep.status != http.StatusNoContent {
		t.Fatalf("delete: HTTP %d %s", rep.status, rep.body)
	}
	if got := search(fnr); len(got) != 0 {
		t.Fatalf("_search after delete: %+v", got)
	}

	userToken := bearer(f.userToken(requester{hpr: hprNumbers[0], purpose: "TREAT"}))
	valid := `{"patient": "` + fnr + `", "kind": "patient"}`
	refused := map[string]struct {
		method, path, contentType string
		header                    http.Header
		body                      string
		want                      int
	}{
		"unknown field":                {http.MethodPost, "/api/v1/sperring", "application/json", client, `{"patient": "` + fnr + `", "kind": "patient", "ssn": "` + fnr + `"}`, 400},
		"field of the wrong type":      {http.MethodPost, "/api/v1/sperring", "application/json", client, `{"patient": ` + fnr + `, "kind": "patient"}`, 400},
		"patient too short":            {http.MethodPost, "/api/v1/sperring", "application/json", client, `{"patient": "` + fnr[:10] + `", "kind": "patient"}`, 400},
		"patient of another authority": {http.MethodPost, "/api/v1/sperring", "application/json", client, `{"patient": "` + fnr + `^^^&1.2.3&ISO", "kind": "patient"}`, 400},
		"no kind":                      {http.MethodPost, "/api/v1/sperring", "application/json", client, `{"patient": "` + fnr + `"}`, 400},
		"document without uniqueId":    {http.MethodPost, "/api/v1/sperring", "application/json", client, `{"patient": "` + fnr + `", "kind": "document"}`, 400},
		"practitioner with a name":     {http.MethodPost, "/api/v1/sperring", "application/json", client, `{"patient": "` + fnr + `", "kind": "practitioner", "hprNumber": "Ola"}`, 400},
		"id chosen by the caller":      {http.MethodPost, "/api/v1/sperring", "application/json", client, `{"id": "spr-x", "patient": "` + fnr + `", "kind": "patient"}`, 400},
		"two objects":                  {http.MethodPost, "/api/v1/sperring", "application/json", client, valid + valid, 400},
		"not JSON":                     {http.MethodPost, "/api/v1/sperring", "application/json", client, `patient=` + fnr, 400},
		"not application/json":         {http.MethodPost, "/api/v1/sperring", "text/plain", client, valid, 415},
		"larger than 16 KiB": {http.MethodPost, "/api/v1/sperring", "application/json", client,
			`{"patient": "` + fnr + `", "kind": "patient", "reason": "` + strings.Repeat("x", 17<<10) + `"}`, 413},
		"no token":                       {http.MethodPost, "/api/v1/sperring", "application/json", nil, valid, 401},
		"a practitioner's token":         {http.MethodPost, "/api/v1/sperring", "application/json", userToken, valid, 403},
		"search without token":           {http.MethodPost, "/api/v1/sperring/_search", "application/json", nil, `{"patient": "` + fnr + `"}`, 401},
		"search with a bad patient":      {http.MethodPost, "/api/v1/sperring/_search", "application/json", client, `{"patient": "x` + fnr + `"}`, 400},
		"delete without token":           {http.MethodDelete, "/api/v1/sperring/" + created.ID, "", nil, "", 401},
		"delete of a deleted record":     {http.MethodDelete, "/api/v1/sperring/" + created.ID, "", client, "", 404},
		"delete of an id that is not":    {http.MethodDelete, "/api/v1/sperring/" + "%3Cscript%3E", "", client, "", 404},
		"patient in the URL is no route": {http.MethodGet, "/api/v1/sperring?patient=" + fnr, "", client, "", 404},
	}
	for name, tc := range refused {
		t.Run(name, func(t *testing.T) {
			rep := api(tc.method, tc.path, tc.contentType, tc.header, tc.body)
			if rep.status != tc.want && !(tc.want == 404 && rep.status == 405) {
				t.Fatalf("HTTP %d, want %d: %s", rep.status, tc.want, rep.body)
			}
			if bytes.Contains(rep.body, []byte(fnr)) {
				t.Fatalf("the answer echoes the patient: %s", rep.body)
			}
			if strings.HasPrefix(tc.path, "/api/v1/sperring?") {
				return // not a sperring API route: the router's 404
			}
			var p problem
			if !strings.HasPrefix(rep.contentType, "application/problem+json") || json.Unmarshal(rep.body, &p) != nil || p.Status != rep.status || p.Title == "" {
				t.Fatalf("not a problem document (%s): %s", rep.contentType, rep.body)
			}
		})
	}
	if got := search(fnr); len(got) != 0 {
		t.Fatalf("refused requests created records: %+v", got)
	}
}

// TestRegistrationChangesConfidentiality replaces documents (RPLC) with
// ones of the opposite coding: a NORS replacement is hidden, and a plain
// replacement of a NORS document shown, by the next request.
func TestRegistrationChangesConfidentiality(t *testing.T) {
	f := newFixture(t)
	n := startNode(t, "a", f, "", nil)
	r := mathrand.New(mathrand.NewPCG(3, 4))
	w := newWorld(r, shape{patients: 1})
	p := w.patients[0]
	plain, blocked := w.newDoc(r, p, false), w.newDoc(r, p, true)
	f.provide(t, n, w.submission(p, []*doc{plain, blocked}, false))
	d := &drawer{w: w, f: f, maxResults: 100}
	asker := requester{hpr: hprNumbers[0], purpose: "TREAT"}
	expect := func(what string) {
		t.Helper()
		d.expect(t, n, p, asker, what)
	}
	expect("registered")

	toNORS := w.newDoc(r, p, true)
	toNORS.replaces = plain
	f.provide(t, n, w.submission(p, []*doc{toNORS}, false))
	plain.deprecated = true
	expect("a plain document replaced by a NORS one")

	toPlain := w.newDoc(r, p, false)
	toPlain.replaces = blocked
	f.provide(t, n, w.submission(p, []*doc{toPlain}, false))
	blocked.deprecated = true
	expect("a NORS document replaced by a plain one")
}

// TestBlockFollowsLineage: a patient's block of a document covers its
// successors, however they succeed it: its replacement (RPLC), an addendum
// to that (APND) and a transformation (XFRM), each hidden from the next
// request as a TREAT practitioner sees it, and shown under BTG like the
// document itself.
func TestBlockFollowsLineage(t *testing.T) {
	f := newFixture(t)
	n := startNode(t, "a", f, "", nil)
	r := mathrand.New(mathrand.NewPCG(7, 8))
	w := newWorld(r, shape{patients: 1})
	p := w.patients[0]
	orig, other := w.newDoc(r, p, false), w.newDoc(r, p, false)
	f.provide(t, n, w.submission(p, []*doc{orig, other}, false))
	d := &drawer{w: w, f: f, maxResults: 100}
	expect := func(what string) {
		t.Helper()
		for _, asker := range []requester{{hpr: hprNumbers[0], purpose: "TREAT"}, {hpr: hprNumbers[0], purpose: "BTG"}} {
			d.expect(t, n, p, asker, what+", as "+asker.purpose)
		}
	}
	w.create(t, f, n, &record{p: p, kind: "document", uid: orig.uid})
	expect("the original blocked")

	rplc := w.newDoc(r, p, false)
	rplc.replaces = orig
	f.provide(t, n, w.submission(p, []*doc{rplc}, false))
	orig.deprecated = true
	expect("its replacement registered")

	apnd := w.newDoc(r, p, false)
	apnd.replaces, apnd.rel = rplc, "APND"
	xfrm := w.newDoc(r, p, false)
	xfrm.replaces, xfrm.rel = rplc, "XFRM"
	f.provide(t, n, w.submission(p, []*doc{apnd, xfrm}, false))
	expect("an addendum and a transformation of the replacement registered")
	for _, succ := range []*doc{rplc, apnd, xfrm} {
		if w.visible(succ, requester{hpr: hprNumbers[0], purpose: "TREAT"}, nil) {
			t.Fatalf("the oracle shows successor %s: the test checks nothing", succ.uid)
		}
	}
}

var (
	reExternalUniqueID = regexp.MustCompile(`identificationScheme="urn:uuid:2e82c1f6-a085-4c72-9da3-8640a32e42ab" registryObject="([^"]+)" value="([^"]+)"`)
	reMaskedTitle      = regexp.MustCompile(`<Name><LocalizedString value="Sperret"/></Name><VersionInfo`)
)

// TestObfuscate runs with KJDD_BLOCKED_VISIBILITY=obfuscate: documents
// blocked at document level are listed as "Sperret" under masked ids that
// stay the same between listings, never under their own; the masked ids
// cannot be retrieved (answered exactly as unknown ids); patient-level
// sperring still lists nothing; BTG sees the real documents.
func TestObfuscate(t *testing.T) {
	f := newFixture(t)
	env := map[string]string{"KJDD_BLOCKED_VISIBILITY": "obfuscate"}
	n := startNode(t, "a", f, "", env)
	ref := startNode(t, "reference", f, "", env)
	r := mathrand.New(mathrand.NewPCG(5, 6))
	w := newWorld(r, shape{patients: 2})
	p, q := w.patients[0], w.patients[1]
	plain, nors, recorded := w.newDoc(r, p, false), w.newDoc(r, p, true), w.newDoc(r, p, false)
	qDoc := w.newDoc(r, q, false)
	f.provide(t, n, w.submission(p, []*doc{plain, nors, recorded}, false))
	f.provide(t, n, w.submission(q, []*doc{qDoc}, false))
	w.create(t, f, n, &record{p: p, kind: "document", uid: recorded.uid})
	w.create(t, f, n, &record{p: q, kind: "patient"})

	treat := requester{hpr: hprNumbers[0], purpose: "TREAT"}
	d := &drawer{w: w, f: f, maxResults: 100}
	list := func(pt *patient, rq requester) (reply, map[string]string) {
		t.Helper()
		dr := d.probe(pt, rq)
		rep, err := n.do(dr.req)
		if err != nil {
			t.Fatal(err)
		}
		msg, err := harness.ParseMessage(rep.contentType, rep.body)
		if err != nil {
			t.Fatal(err)
		}
		if err := harness.CheckMessage(msg); err != nil {
			t.Fatalf("obfuscated listing fails the schemas: %v", err)
		}
		ids := map[string]string{} // uniqueId -> entryUUID
		for _, m := range reExternalUniqueID.FindAllSubmatch(rep.body, -1) {
			ids[string(m[2])] = string(m[1])
		}
		return rep, ids
	}

	rep, ids := list(p, treat)
	for _, hidden := range []*doc{nors, recorded} {
		if bytes.Contains(rep.body, []byte(hidden.uid)) || bytes.Contains(rep.body, []byte(hidden.uuid)) {
			t.Fatalf("the listing names blocked %s under its own ids", hidden.uid)
		}
	}
	var masked []string
	for uid := range ids {
		if uid != plain.uid {
			masked = append(masked, uid)
		}
	}
	if len(ids) != 3 || ids[plain.uid] != plain.uuid || len(masked) != 2 || len(reMaskedTitle.FindAll(rep.body, -1)) != 2 {
		t.Fatalf("want the plain document and two masked entries, got %v", ids)
	}
	if _, again := list(p, treat); len(again) != 3 || again[masked[0]] != ids[masked[0]] || again[masked[1]] != ids[masked[1]] {
		t.Fatalf("masked ids changed between listings: %v then %v", ids, again)
	}

	for _, uid := range append(masked, nors.uid, recorded.uid) {
		req := f.iti43(treat, []string{uid})
		got, err := n.do(req)
		if err != nil {
			t.Fatal(err)
		}
		want, err := ref.do(req)
		if err != nil {
			t.Fatal(err)
		}
		if normalise(got) != normalise(want) {
			t.Fatalf("retrieve of %s differs from a retrieve of an unknown id:\n got %s\nwant %s", uid, normalise(got), normalise(want))
		}
	}

	_, qIDs := list(q, treat)
	if len(qIDs) != 0 {
		t.Fatalf("patient-level sperring listed %v", qIDs)
	}
	refRep, err := ref.do(d.probe(q, treat).req)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := normalise(mustDo(t, n, d.probe(q, treat).req)), normalise(refRep); got != want {
		t.Fatalf("a patient-blocked listing differs from an unknown patient's:\n got %s\nwant %s", got, want)
	}

	if _, btg := list(p, requester{hpr: hprNumbers[0], purpose: "BTG"}); len(btg) != 3 || btg[nors.uid] != nors.uuid || btg[recorded.uid] != recorded.uuid {
		t.Fatalf("BTG listing: %v", btg)
	}
}

func mustDo(t *testing.T, n *node, req request) reply {
	t.Helper()
	rep, err := n.do(req)
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

// TestSperringRecordsBlockWhatTheyName: a document record is compared
// with the registry's uniqueIds in canonical form, so one written with
// urn:oid: blocks the registered document; a uniqueId that is no valid OID
// (a trailing dot) is refused naming the field; a record naming another
// patient's registered document is refused (it could block nothing); one
// naming a document not registered yet is accepted and says so; every
// create says what the record blocks.
func TestSperringRecordsBlockWhatTheyName(t *testing.T) {
	f := newFixture(t)
	n := startNode(t, "a", f, "", nil)
	r := mathrand.New(mathrand.NewPCG(11, 12))
	w := newWorld(r, shape{patients: 2})
	p, q := w.patients[0], w.patients[1]
	byURN, other := w.newDoc(r, p, false), w.newDoc(r, p, false)
	qDoc := w.newDoc(r, q, false)
	f.provide(t, n, w.submission(p, []*doc{byURN, other}, false))
	f.provide(t, n, w.submission(q, []*doc{qDoc}, false))
	d := &drawer{w: w, f: f, maxResults: 100}
	asker := requester{hpr: hprNumbers[0], purpose: "TREAT"}
	expect := func(what string) {
		t.Helper()
		for _, pt := range []*patient{p, q} {
			dr := d.probe(pt, asker)
			rep, err := n.do(dr.req)
			if err != nil {
				t.Fatal(err)
			}
			if problems := w.check(dr, rep); len(problems) > 0 {
				t.Fatalf("%s: %v", what, problems)
			}
		}
	}
	type blocks struct {
		Kind             string `json:"kind"`
		DocumentUniqueID string `json:"documentUniqueId"`
		Registered       *bool  `json:"registered"`
		HPRNumber        string `json:"hprNumber"`
		Covers           string `json:"covers"`
	}
	create := func(rec sperringRecord) (sperringRecord, blocks) {
		t.Helper()
		body, _ := json.Marshal(rec)
		rep := mustDo(t, n, request{path: "/api/v1/sperring", contentType: "application/json", header: bearer(f.clientToken()), body: body})
		if rep.status != http.StatusCreated {
			t.Fatalf("create: HTTP %d %s", rep.status, rep.body)
		}
		var got struct {
			sperringRecord
			Blocks *blocks `json:"blocks"`
		}
		if err := json.Unmarshal(rep.body, &got); err != nil || got.ID == "" || got.Blocks == nil || got.Blocks.Covers == "" {
			t.Fatalf("create answer %s: %v", rep.body, err)
		}
		return got.sperringRecord, *got.Blocks
	}

	rec, b := create(sperringRecord{Patient: p.fnr, Kind: "document", DocumentUniqueID: "urn:oid:" + byURN.uid})
	if rec.DocumentUniqueID != byURN.uid || b.Kind != "document" || b.DocumentUniqueID != byURN.uid || b.Registered == nil || !*b.Registered {
		t.Fatalf("a record naming urn:oid:<registered uid>: record %+v, blocks %+v; want the canonical uid, registered", rec, b)
	}
	w.records[rec.ID] = &record{id: rec.ID, p: p, kind: "document", uid: byURN.uid}
	p.records = append(p.records, w.records[rec.ID])
	expect("a record naming the document as urn:oid:")

	for name, uid := range map[string]string{
		"trailing dot":           other.uid + ".",
		"urn:oid: with a dot":    "urn:oid:" + other.uid + ".",
		"empty arc":              strings.Replace(other.uid, ".", "..", 1),
		"urn:oid: twice":         "urn:oid:urn:oid:" + other.uid,
		"space inside":           other.uid[:4] + " " + other.uid[4:],
		"leading zero in an arc": strings.Replace(other.uid, ".", ".0", 1),
	} {
		t.Run("refused/"+name, func(t *testing.T) {
			f.refuseSperring(t, n, sperringRecord{Patient: p.fnr, Kind: "document", DocumentUniqueID: uid}, http.StatusBadRequest, "documentUniqueId")
		})
	}
	f.refuseSperring(t, n, sperringRecord{Patient: p.fnr, Kind: "document", DocumentUniqueID: qDoc.uid}, http.StatusConflict, "documentUniqueId")
	f.refuseSperring(t, n, sperringRecord{Patient: p.fnr, Kind: "document", DocumentUniqueID: "urn:oid:" + qDoc.uid}, http.StatusConflict, "documentUniqueId")
	f.refuseSperring(t, n, sperringRecord{Patient: p.fnr[:10], Kind: "patient"}, http.StatusBadRequest, "patient")
	expect("after the refused records")

	// The EPJ may block a document before it registers it.
	later := w.newDoc(r, p, false)
	rec, b = create(sperringRecord{Patient: p.fnr, Kind: "document", DocumentUniqueID: later.uid})
	if b.DocumentUniqueID != later.uid || b.Registered == nil || *b.Registered {
		t.Fatalf("a record naming a document not registered yet: blocks %+v, want registered false", b)
	}
	w.records[rec.ID] = &record{id: rec.ID, p: p, kind: "document", uid: later.uid}
	p.records = append(p.records, w.records[rec.ID])
	f.provide(t, n, w.submission(p, []*doc{later}, false))
	expect("the document registered after its record")

	if _, b := create(sperringRecord{Patient: q.fnr, Kind: "practitioner", HPRNumber: hprNumbers[1]}); b.Kind != "practitioner" || b.HPRNumber != hprNumbers[1] || b.Registered != nil {
		t.Fatalf("practitioner record blocks %+v", b)
	}
	if _, b := create(sperringRecord{Patient: q.fnr, Kind: "patient"}); b.Kind != "patient" || b.DocumentUniqueID != "" || b.HPRNumber != "" {
		t.Fatalf("patient record blocks %+v", b)
	}
}
