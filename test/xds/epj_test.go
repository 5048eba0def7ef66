package xds

import (
	"testing"

	"kjdd/test/internal/harness"
)

// pick returns the gateway's documents by name.
func (g *gateway) pick(t testing.TB, names ...string) []*document {
	t.Helper()
	out := make([]*document, 0, len(names))
	for _, n := range names {
		d, ok := g.docs[n]
		if !ok {
			t.Fatalf("no document %q in the world", n)
		}
		out = append(out, d)
	}
	return out
}

// retrieve sends one retrieve of reqs over tx.
func (g *gateway) retrieve(t testing.TB, tx transaction, reqs ...docRequest) *harness.Response {
	t.Helper()
	return send(t, g.srv, tx, retrieveRequest(reqs))
}

// TestEPJDocumentRetrieve retrieves documents registered by ITI-42, whose
// content kjdd fetches from the EPJ's repository (ITI-43 over loopback)
// and streams through, alone and together with a document kjdd holds
// itself, over ITI-43 and ITI-39: the bytes, mimeType and identifiers
// must arrive unchanged in an MTOM answer.
func TestEPJDocumentRetrieve(t *testing.T) {
	g := newGateway(t)
	cases := []struct {
		name string
		tx   transaction
		docs []string
	}{
		{"ITI-43 small PDF from the EPJ", iti43, []string{"letter"}},
		{"ITI-43 text document from the EPJ", iti43, []string{"note"}},
		{"ITI-43 30 MB document from the EPJ", iti43, []string{"large"}},
		{"ITI-43 EPJ and kjdd documents in one request", iti43, []string{"letter", "stored", "note"}},
		{"ITI-39 small PDF from the EPJ", iti39, []string{"letter"}},
		{"ITI-39 text document from the EPJ", iti39, []string{"note"}},
		{"ITI-39 30 MB document from the EPJ", iti39, []string{"large"}},
		{"ITI-39 EPJ and kjdd documents in one request", iti39, []string{"note", "letter", "stored"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			docs := g.pick(t, tc.docs...)
			reqs := make([]docRequest, len(docs))
			for i, d := range docs {
				reqs[i] = ask(tc.tx, d)
			}
			resp := g.retrieve(t, tc.tx, reqs...)
			checkRetrieve(t, tc.tx, resp, retrieveWant{status: harness.StatusSuccess, docs: docs})
		})
	}
}
