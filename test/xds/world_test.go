package xds

import (
	"bytes"
	"crypto/sha1"
	"encoding/hex"
	"io"
	"math/big"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"text/template"

	"kjdd/adapter/epj/epjtest"
	"kjdd/test/internal/harness"
)

func TestMain(m *testing.M) { os.Exit(harness.Run(m)) }

// The error severity of RegistryErrors (ebRS 3.0).
const severityError = "urn:oasis:names:tc:ebxml-regrep:ErrorSeverityType:Error"

// Identifiers of the world. The community and kjdd's own repository are
// what the harness starts kjdd with; the others are this test's.
const (
	home    = harness.HomeCommunityID
	ownRepo = harness.RepositoryUniqueID
	// epjRepo is the EPJ's repository, served by the fake.
	epjRepo = "2.16.578.1.12.4.5.100.1.3"
	// downRepo is an EPJ repository configured in kjdd that is not running.
	downRepo = "2.16.578.1.12.4.5.100.1.4"
	// unknownRepo is configured nowhere.
	unknownRepo = "2.16.578.1.12.4.5.100.1.99"
	// foreignCommunity is another hospital's community.
	foreignCommunity = "2.16.578.1.12.4.5.200.1"
	// unknownDocument is a documentUniqueId no one registered.
	unknownDocument = "2.16.578.1.12.4.5.100.1.9.999999"
)

// NHN's synthetic test patients (valid fødselsnummer check digits).
const (
	patientA = "13116900216"
	patientB = "12119000465"
	patientC = "08077000292"
)

// urnOID is an OID as XCA emits it.
func urnOID(oid string) string { return "urn:oid:" + oid }

// place is where a document's content lives.
type place int

const (
	// inEPJ: registered by ITI-42, held by the fake EPJ.
	inEPJ place = iota
	// busyEPJ: held by the fake EPJ, which answers HTTP 503 for it.
	busyEPJ
	// missingInEPJ: registered by ITI-42 for the EPJ, which does not hold it.
	missingInEPJ
	// stoppedEPJ: registered by ITI-42 for a repository that is not running.
	stoppedEPJ
	// inKJDD: registered with its content by ITI-41 (kjdd's own repository).
	inKJDD
)

// document is one document of the world: its registered metadata and
// where its content lives.
type document struct {
	name      string
	uniqueID  string
	entryUUID string
	// memberUUID is the SubmissionSet HasMember association's id.
	memberUUID string
	mimeType   string
	place      place
	// content is the bytes, or generated from seed and size when nil
	// (epjtest's generator).
	content []byte
	size    int64
	seed    byte
	// sha1 is the hex SHA-1 of the content, computed by newDocument.
	sha1 string
}

// repository is the repositoryUniqueId the document is registered with.
func (d *document) repository() string {
	switch d.place {
	case stoppedEPJ:
		return downRepo
	case inKJDD:
		return ownRepo
	}
	return epjRepo
}

// epjDoc is the document as the fake EPJ holds it.
func (d *document) epjDoc() epjtest.Doc {
	doc := epjtest.Doc{MimeType: d.mimeType, Content: d.content, Size: d.size, Seed: d.seed}
	if d.place == busyEPJ {
		doc.Status = http.StatusServiceUnavailable
	}
	return doc
}

// open reads the content (the same bytes the fake EPJ serves).
func (d *document) open() io.Reader { return d.epjDoc().Open() }

// newDocument describes a document; its hash and size are computed from
// its content, so that ITI-42 metadata matches what the EPJ serves.
func newDocument(t testing.TB, name string, n int, p place, mimeType string, content []byte, size int64) *document {
	t.Helper()
	d := &document{
		name: name, uniqueID: "2.16.578.1.12.4.5.100.1.9." + strconv.Itoa(n),
		entryUUID: harness.NewUUIDURN(), memberUUID: harness.NewUUIDURN(),
		mimeType: mimeType, place: p, content: content, size: size, seed: byte(n),
	}
	h := sha1.New()
	written, err := io.Copy(h, d.open())
	if err != nil {
		t.Fatal(err)
	}
	d.size, d.sha1 = written, hex.EncodeToString(h.Sum(nil))
	return d
}

// pdf is a small PDF-like document (the bytes are what matters here).
func pdf(title string) []byte {
	return []byte("%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog /Title (" + title +
		") >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n")
}

// largeSize is the size of the generated document.
const largeSize = 30 << 20

// gateway is kjdd with the EPJ behind it and patient A's documents
// registered: the world of the retrieve and ITI-38 tests.
type gateway struct {
	srv  *harness.Server
	docs map[string]*document
	// epjSet is the SubmissionSet of the ITI-42 registration.
	epjSet submission
}

// newGateway starts the fake EPJ, a kjdd that fetches from it (and from a
// stopped repository), and registers patient A's documents: by ITI-42
// those whose content stays in the EPJ, by ITI-41 one held by kjdd.
func newGateway(t *testing.T) *gateway {
	t.Helper()
	all := []*document{
		newDocument(t, "letter", 1, inEPJ, "application/pdf", pdf("Epikrise"), 0),
		newDocument(t, "note", 2, inEPJ, "text/plain", []byte("Poliklinisk notat\nKontroll om tre måneder.\n"), 0),
		newDocument(t, "large", 3, inEPJ, "application/pdf", nil, largeSize),
		newDocument(t, "busy", 4, busyEPJ, "application/pdf", pdf("Kriseplan"), 0),
		newDocument(t, "absent", 5, missingInEPJ, "application/pdf", pdf("Henvisning"), 0),
		newDocument(t, "offline", 6, stoppedEPJ, "application/pdf", pdf("Sykepleiesammenfatning"), 0),
		newDocument(t, "stored", 7, inKJDD, "text/plain", []byte("Dokument lagret i kjdd\n"), 0),
	}
	held := map[string]epjtest.Doc{}
	var epjDocs []*document
	g := &gateway{docs: map[string]*document{}}
	for _, d := range all {
		g.docs[d.name] = d
		if d.place == inEPJ || d.place == busyEPJ {
			held[d.uniqueID] = d.epjDoc()
		}
		if d.place != inKJDD {
			epjDocs = append(epjDocs, d)
		}
	}
	epj := epjtest.NewServer(held)
	t.Cleanup(epj.Close)
	// A repository that ran once and stopped: its port refuses connections.
	stopped := epjtest.NewServer(nil)
	stopped.Close()

	g.srv = harness.Start(t, harness.Options{Env: map[string]string{
		"KJDD_EPJ_REPOSITORIES": epjRepo + "=" + epj.URL + "," + downRepo + "=" + stopped.URL,
		"KJDD_LOG_LEVEL":        "warn",
	}})
	g.epjSet = register(t, g.srv, patientA, epjDocs)
	register(t, g.srv, patientA, []*document{g.docs["stored"]})
	return g
}

// submission is a registered SubmissionSet.
type submission struct {
	entryUUID, uniqueID string
}

var submissionTemplate = template.Must(template.New("submission.xml.tmpl").
	Funcs(template.FuncMap{"xml": harness.XMLEscape}).
	ParseFiles(filepath.Join("testdata", "submission.xml.tmpl")))

// register submits docs for patient (a fødselsnummer) in one SubmissionSet
// and requires Success: ITI-41 with the content when docs are kjdd's own,
// else ITI-42 with hash, size and repositoryUniqueId.
func register(t testing.TB, srv *harness.Server, patient string, docs []*document) submission {
	t.Helper()
	own := docs[0].place == inKJDD
	type entry struct {
		EntryUUID, MemberUUID, UniqueID, MimeType, Title, Hash, Repository string
		Size                                                               int64
	}
	data := struct {
		Patient, SetUUID, SetUniqueID string
		Documents                     []entry
	}{Patient: harness.CX(patient), SetUUID: harness.NewUUIDURN(), SetUniqueID: "2.25." + uuidDecimal(t)}
	for _, d := range docs {
		if (d.place == inKJDD) != own {
			t.Fatal("register: one submission is either ITI-41 or ITI-42")
		}
		e := entry{EntryUUID: d.entryUUID, MemberUUID: d.memberUUID, UniqueID: d.uniqueID,
			MimeType: d.mimeType, Title: "Dokument " + d.name}
		if !own {
			e.Hash, e.Size, e.Repository = d.sha1, d.size, d.repository()
		}
		data.Documents = append(data.Documents, e)
	}
	var sor bytes.Buffer
	if err := submissionTemplate.Execute(&sor, data); err != nil {
		t.Fatal(err)
	}
	if own {
		files := make([]harness.Document, len(docs))
		for i, d := range docs {
			files[i] = harness.Document{ID: d.entryUUID, ContentType: d.mimeType, Body: d.open()}
		}
		srv.Provide(t, sor.String(), files...)
	} else {
		srv.Register(t, sor.String())
	}
	return submission{entryUUID: data.SetUUID, uniqueID: data.SetUniqueID}
}

// uuidDecimal is a fresh random UUID as a decimal number (an OID arc under
// 2.25, ITU-T X.667).
func uuidDecimal(t testing.TB) string {
	t.Helper()
	b, err := hex.DecodeString(strings.ReplaceAll(strings.TrimPrefix(harness.NewUUIDURN(), "urn:uuid:"), "-", ""))
	if err != nil {
		t.Fatal(err)
	}
	return new(big.Int).SetBytes(b).String()
}
