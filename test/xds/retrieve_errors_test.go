package xds

import (
	"testing"

	"kjdd/test/internal/harness"
)

// edit changes a DocumentRequest away from what a correct caller writes.
type edit func(*docRequest)

// inRepository names another repository.
func inRepository(oid string) edit { return func(r *docRequest) { r.repo = oid } }

// withUniqueID names another document.
func withUniqueID(uid string) edit { return func(r *docRequest) { r.uid = uid } }

// inCommunity names another HomeCommunityId; "" leaves it out.
func inCommunity(h string) edit { return func(r *docRequest) { r.home = h } }

// reqSpec is a DocumentRequest for one of the gateway's documents, edited.
type reqSpec struct {
	doc   string
	edits []edit
}

func req(doc string, edits ...edit) reqSpec { return reqSpec{doc, edits} }

// failureCase is a retrieve and the answer it must get.
type failureCase struct {
	name   string
	reqs   []reqSpec
	status string
	docs   []string
	errors []string
}

// retrieveFailures apply to ITI-43 and ITI-39 alike: each way a
// DocumentRequest fails gets its own code, and several DocumentRequests
// are answered each on its own.
var retrieveFailures = []failureCase{
	{name: "unknown repository",
		reqs:   []reqSpec{req("letter", inRepository(unknownRepo))},
		status: harness.StatusFailure, errors: []string{errUnknownRepository}},
	{name: "unknown document in the EPJ repository",
		reqs:   []reqSpec{req("letter", withUniqueID(unknownDocument))},
		status: harness.StatusFailure, errors: []string{errUnknownDocument}},
	{name: "registered document the EPJ does not hold",
		reqs:   []reqSpec{req("absent")},
		status: harness.StatusFailure, errors: []string{errUnknownDocument}},
	{name: "unknown document in kjdd's own repository",
		reqs:   []reqSpec{req("stored", withUniqueID(unknownDocument))},
		status: harness.StatusFailure, errors: []string{errUnknownDocument}},
	{name: "EPJ document asked of kjdd's own repository",
		reqs:   []reqSpec{req("letter", inRepository(ownRepo))},
		status: harness.StatusFailure, errors: []string{errUnknownDocument}},
	{name: "EPJ answers HTTP 503",
		reqs:   []reqSpec{req("busy")},
		status: harness.StatusFailure, errors: []string{errRepository}},
	{name: "EPJ repository stopped",
		reqs:   []reqSpec{req("offline")},
		status: harness.StatusFailure, errors: []string{errRepository}},
	{name: "some documents succeed, others fail",
		reqs: []reqSpec{req("letter"), req("note", inRepository(unknownRepo)), req("busy"),
			req("stored"), req("absent")},
		status: harness.StatusPartial, docs: []string{"letter", "stored"},
		errors: []string{errUnknownRepository, errRepository, errUnknownDocument}},
	{name: "every document fails",
		reqs: []reqSpec{req("letter", inRepository(unknownRepo)), req("absent"), req("offline"),
			req("busy")},
		status: harness.StatusFailure, errors: []string{errUnknownRepository, errUnknownDocument, errRepository, errRepository}},
	{name: "every document succeeds",
		reqs:   []reqSpec{req("letter"), req("note"), req("stored")},
		status: harness.StatusSuccess, docs: []string{"letter", "note", "stored"}},
}

// crossGatewayFailures are ITI-39's own: the community named in each
// DocumentRequest.
var crossGatewayFailures = []failureCase{
	{name: "another community",
		reqs:   []reqSpec{req("letter", inCommunity(urnOID(foreignCommunity)))},
		status: harness.StatusFailure, errors: []string{errUnknownCommunity}},
	{name: "another community as a bare OID",
		reqs:   []reqSpec{req("letter", inCommunity(foreignCommunity))},
		status: harness.StatusFailure, errors: []string{errUnknownCommunity}},
	{name: "no HomeCommunityId",
		reqs:   []reqSpec{req("letter", inCommunity(""))},
		status: harness.StatusFailure, errors: []string{errMissingCommunity}},
	{name: "this community as a bare OID is accepted",
		reqs:   []reqSpec{req("letter", inCommunity(home))},
		status: harness.StatusSuccess, docs: []string{"letter"}},
	{name: "some documents succeed, others name no or another community",
		reqs: []reqSpec{req("letter"), req("note", inCommunity(urnOID(foreignCommunity))),
			req("busy", inCommunity("")), req("stored", inCommunity(home))},
		status: harness.StatusPartial, docs: []string{"letter", "stored"},
		errors: []string{errUnknownCommunity, errMissingCommunity}},
}

// TestRetrieveErrors sends retrieves that fail in part or in whole, over
// ITI-43 and ITI-39, and requires the status IHE defines (Success,
// PartialSuccess, Failure), the documents that could be retrieved, and one
// RegistryError with the specific code per failed DocumentRequest (on
// ITI-39 located at this community).
func TestRetrieveErrors(t *testing.T) {
	g := newGateway(t)
	run := func(t *testing.T, tx transaction, tc failureCase) {
		reqs := make([]docRequest, len(tc.reqs))
		for i, s := range tc.reqs {
			reqs[i] = ask(tx, g.pick(t, s.doc)[0])
			for _, e := range s.edits {
				e(&reqs[i])
			}
		}
		resp := g.retrieve(t, tx, reqs...)
		checkRetrieve(t, tx, resp, retrieveWant{status: tc.status, docs: g.pick(t, tc.docs...), errors: tc.errors})
	}
	for _, tx := range []transaction{iti43, iti39} {
		for _, tc := range retrieveFailures {
			t.Run(tx.name+" "+tc.name, func(t *testing.T) { run(t, tx, tc) })
		}
	}
	for _, tc := range crossGatewayFailures {
		t.Run(iti39.name+" "+tc.name, func(t *testing.T) { run(t, iti39, tc) })
	}
}
