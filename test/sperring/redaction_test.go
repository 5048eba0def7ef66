package sperring

import (
	mathrand "math/rand/v2"
	"strings"
	"testing"

	"kjdd/test/internal/harness"
)

// TestLogsHoldNoRequestText sends national ids in every caller-supplied
// string kjdd might quote when it refuses a request (wsa:Action,
// wsa:MessageID, wsa:To, wsa:ReplyTo, a stored query's slot name, an
// unknown XML element, a metadata slot of a registration, a sperring API
// field name, a patient split by a space) through the binary's endpoints,
// with the log at debug, and requires that its log holds none of them,
// whether the request was refused or answered.
func TestLogsHoldNoRequestText(t *testing.T) {
	f := newFixture(t)
	n := startNode(t, "a", f, "", map[string]string{"KJDD_LOG_LEVEL": "debug"})
	r := mathrand.New(mathrand.NewPCG(21, 22))
	w := newWorld(r, shape{patients: 1})
	p := w.patients[0]
	hostile := map[string]string{}
	id := func(where string) string {
		fnr := syntheticFNR(r)
		hostile[where] = fnr
		return fnr
	}
	user := bearer(f.userToken(requester{hpr: hprNumbers[0], purpose: "TREAT"}))
	client := bearer(f.clientToken())
	query := storedQuery{id: qFindDocuments, slots: []slot{
		{name: "$XDSDocumentEntryPatientId", values: []string{p.cx}},
		{name: "$XDSDocumentEntryStatus", values: []string{statusApproved}},
	}}
	badSlot := query
	badSlot.slots = append(append([]slot(nil), query.slots...), slot{name: "$XDS" + id("slot name"), values: []string{"x"}})
	sends := map[string]request{
		"action on the registry": {path: harness.PathRegistry, contentType: harness.ContentTypeSOAP, header: user,
			body: harness.Envelope("urn:ihe:iti:2007:"+id("action"), query.xml())},
		"action with a split id": {path: harness.PathRegistry, contentType: harness.ContentTypeSOAP, header: user,
			body: harness.Envelope("urn:ihe:iti:2007:"+splitFNR(id("split action")), query.xml())},
		"action with an id in a longer number": {path: harness.PathRegistry, contentType: harness.ContentTypeSOAP, header: user,
			body: harness.Envelope("urn:ihe:iti:2007:"+id("action number")+"7", query.xml())},
		"action on the gateway": {path: harness.PathXCA, contentType: harness.ContentTypeSOAP,
			body: harness.Envelope("urn:"+id("xca action"), query.xml())},
		"message id": {path: harness.PathRegistry, contentType: harness.ContentTypeSOAP, header: user,
			body: harness.Envelope("urn:x:"+id("action beside a message id"), query.xml(), harness.WithMessageID("urn:uuid:"+id("message id")))},
		"to": {path: harness.PathRegistry, contentType: harness.ContentTypeSOAP, header: user,
			body: harness.Envelope(harness.ActionStoredQuery, query.xml(), harness.WithTo("urn:"+id("to")))},
		"reply to": {path: harness.PathRegistry, contentType: harness.ContentTypeSOAP, header: user,
			body: harness.Envelope(harness.ActionStoredQuery, query.xml(), harness.WithReplyTo("http://x/"+id("reply to")))},
		"slot name": {path: harness.PathRegistry, contentType: harness.ContentTypeSOAP, header: user,
			body: harness.Envelope(harness.ActionStoredQuery, badSlot.xml())},
		"unknown element": {path: harness.PathRegistry, contentType: harness.ContentTypeSOAP, header: user,
			body: harness.Envelope(harness.ActionStoredQuery, `<x`+id("element")+` xmlns="urn:x"/>`)},
		"split patient in a query": {path: harness.PathRegistry, contentType: harness.ContentTypeSOAP, header: user,
			body: harness.Envelope(harness.ActionStoredQuery, storedQuery{id: qFindDocuments, slots: []slot{
				{name: "$XDSDocumentEntryPatientId", values: []string{splitFNR(id("split patient")) + "^^^&2.16.578.1.12.4.1.4.1&ISO"}},
				{name: "$XDSDocumentEntryStatus", values: []string{statusApproved}},
			}}.xml())},
		"registration metadata": {path: harness.PathRepository, contentType: harness.ContentTypeSOAP, header: client,
			body: harness.Envelope(harness.ActionProvideAndRegister, strings.Replace(w.submission(p, []*doc{w.newDoc(r, p, false)}, false),
				`<rim:Slot name="creationTime">`, `<rim:Slot name="x`+id("metadata slot")+`"><rim:ValueList><rim:Value>v</rim:Value></rim:ValueList></rim:Slot><rim:Slot name="creationTime">`, 1))},
		"sperring field name": {path: "/api/v1/sperring", contentType: "application/json", header: client,
			body: []byte(`{"patient": "` + p.fnr + `", "kind": "patient", "x` + id("json field") + `": 1}`)},
		"sperring field of the wrong type": {path: "/api/v1/sperring", contentType: "application/json", header: client,
			body: []byte(`{"patient": ` + id("json number") + `, "kind": "patient"}`)},
		"sperring uniqueId": {path: "/api/v1/sperring", contentType: "application/json", header: client,
			body: []byte(`{"patient": "` + p.fnr + `", "kind": "document", "documentUniqueId": "2.16.578.` + id("uniqueId") + `."}`)},
		"sperring without a token": {path: "/api/v1/sperring", contentType: "application/json",
			body: []byte(`{"patient": "` + id("anonymous patient") + `", "kind": "patient"}`)},
	}
	// Some are refused, some answered (kjdd ignores an unknown header
	// value or keeps an extra metadata slot): either way only the log is
	// under test.
	for _, req := range sends {
		mustDo(t, n, req)
	}
	logs := n.srv.Logs()
	if !strings.Contains(logs, "soap fault") || !strings.Contains(logs, "request refused") || !strings.Contains(logs, `"msg":"request"`) {
		t.Fatalf("the requests were not logged as refused; the test proves nothing:\n%s", logs)
	}
	for where, fnr := range hostile {
		if strings.Contains(logs, fnr) || strings.Contains(logs, splitFNR(fnr)) {
			t.Errorf("the log holds the national id sent in the %s", where)
		}
	}
	if strings.Contains(logs, p.fnr) {
		t.Error("the log holds the queried patient's national id")
	}
}

// splitFNR writes a national id as people type it: "131169 00216".
func splitFNR(fnr string) string { return fnr[:6] + " " + fnr[6:] }
