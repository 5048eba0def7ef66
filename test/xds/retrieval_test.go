package xds

import (
	"crypto/sha1"
	"encoding/hex"
	"strings"
	"testing"

	"github.com/beevik/etree"

	"kjdd/test/internal/harness"
)

// docRequest is one DocumentRequest; an empty home leaves HomeCommunityId
// out.
type docRequest struct {
	home, repo, uid string
}

// ask is the DocumentRequest for d as tx's caller writes it: ITI-39 names
// the community (urn:oid:), ITI-43 does not.
func ask(tx transaction, d *document) docRequest {
	r := docRequest{repo: d.repository(), uid: d.uniqueID}
	if tx.xca {
		r.home = urnOID(home)
	}
	return r
}

// retrieveRequest is a RetrieveDocumentSetRequest for reqs.
func retrieveRequest(reqs []docRequest) string {
	var b strings.Builder
	b.WriteString(`<xdsb:RetrieveDocumentSetRequest xmlns:xdsb="urn:ihe:iti:xds-b:2007">`)
	for _, r := range reqs {
		b.WriteString(`<xdsb:DocumentRequest>`)
		if r.home != "" {
			b.WriteString(`<xdsb:HomeCommunityId>` + harness.XMLEscape(r.home) + `</xdsb:HomeCommunityId>`)
		}
		b.WriteString(`<xdsb:RepositoryUniqueId>` + harness.XMLEscape(r.repo) + `</xdsb:RepositoryUniqueId>`)
		b.WriteString(`<xdsb:DocumentUniqueId>` + harness.XMLEscape(r.uid) + `</xdsb:DocumentUniqueId>`)
		b.WriteString(`</xdsb:DocumentRequest>`)
	}
	b.WriteString(`</xdsb:RetrieveDocumentSetRequest>`)
	return b.String()
}

const nsXDSB = "urn:ihe:iti:xds-b:2007"

// documentResponse is one DocumentResponse of a retrieve answer.
type documentResponse struct {
	home, repo, uid, mimeType string
	content                   []byte
}

// documentResponses reads the DocumentResponses of resp, contents
// decoded (the harness has put each MTOM part in place of its
// xop:Include).
func documentResponses(t testing.TB, resp *harness.Response) []documentResponse {
	t.Helper()
	contents, err := resp.Documents()
	if err != nil {
		t.Fatalf("documents of the answer: %v", err)
	}
	var out []documentResponse
	for _, dr := range resp.Body.ChildElements() {
		if dr.Tag != "DocumentResponse" || dr.NamespaceURI() != nsXDSB {
			continue
		}
		r := documentResponse{
			home:     childText(dr, "HomeCommunityId"),
			repo:     childText(dr, "RepositoryUniqueId"),
			uid:      childText(dr, "DocumentUniqueId"),
			mimeType: childText(dr, "mimeType"),
		}
		r.content = contents[r.uid]
		out = append(out, r)
	}
	return out
}

// childText is the trimmed text of e's xds-b child named tag, or "".
func childText(e *etree.Element, tag string) string {
	for _, c := range e.ChildElements() {
		if c.Tag == tag && c.NamespaceURI() == nsXDSB {
			return strings.TrimSpace(c.Text())
		}
	}
	return ""
}

// retrieveWant is what a retrieve must answer.
type retrieveWant struct {
	status string
	// docs are the documents returned, in any order.
	docs []*document
	// errors are the RegistryError codes, one per failed DocumentRequest,
	// in any order.
	errors []string
}

// checkRetrieve checks a retrieve answer: status, an MTOM message with one
// attachment per document, each document's bytes (SHA-1 and size),
// mimeType, repository and (ITI-39) community, and exactly the expected
// errors, each of severity Error and, on ITI-39, located at this
// community.
func checkRetrieve(t testing.TB, tx transaction, resp *harness.Response, want retrieveWant) {
	t.Helper()
	if resp.Status() != want.status {
		t.Errorf("status %q, want %q (errors %+v)", resp.Status(), want.status, resp.RegistryErrors())
	}
	if !resp.MTOM {
		t.Errorf("%s answered with plain SOAP, want MTOM (multipart/related)", tx.name)
	}
	if len(resp.Attachments) != len(want.docs) {
		t.Errorf("answer has %d MIME attachments, want one per document (%d)", len(resp.Attachments), len(want.docs))
	}
	got := documentResponses(t, resp)
	wantByUID := map[string]*document{}
	for _, d := range want.docs {
		wantByUID[d.uniqueID] = d
	}
	seen := map[string]bool{}
	for _, r := range got {
		d, ok := wantByUID[r.uid]
		switch {
		case !ok:
			t.Errorf("answer has document %s, which it should not", r.uid)
			continue
		case seen[r.uid]:
			t.Errorf("answer has document %s (%s) twice", r.uid, d.name)
			continue
		}
		seen[r.uid] = true
		sum := sha1.Sum(r.content)
		if h := hex.EncodeToString(sum[:]); h != d.sha1 || int64(len(r.content)) != d.size {
			t.Errorf("%s: got %d bytes with SHA-1 %s, want %d bytes with SHA-1 %s", d.name, len(r.content), h, d.size, d.sha1)
		}
		if r.mimeType != d.mimeType {
			t.Errorf("%s: mimeType %q, want %q", d.name, r.mimeType, d.mimeType)
		}
		if r.repo != d.repository() {
			t.Errorf("%s: RepositoryUniqueId %q, want %q", d.name, r.repo, d.repository())
		}
		if tx.xca && r.home != urnOID(home) {
			t.Errorf("%s: HomeCommunityId %q, want %q", d.name, r.home, urnOID(home))
		}
	}
	for _, d := range want.docs {
		if !seen[d.uniqueID] {
			t.Errorf("answer lacks document %s (%s)", d.name, d.uniqueID)
		}
	}
	checkErrors(t, tx, resp, want.errors)
}
