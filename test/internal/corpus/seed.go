package corpus

import (
	"bytes"
	"os"
	"testing"

	"kjdd/test/internal/harness"
	"kjdd/test/internal/nistkit"
	"kjdd/test/testkit/paths"
)

// fnr is the CX of a Norwegian fødselsnummer.
func fnr(n string) string { return n + "^^^&2.16.578.1.12.4.1.4.1&ISO" }

// norwegianDocuments are registered before the pjd samples run.
var norwegianDocuments = []struct {
	patient, uid, conf, title string
}{
	{pjdPatientKJ, "2.16.578.1.12.4.5.100.1.9.1", "N", "Epikrise 1"},
	{pjdPatientKJ, "2.16.578.1.12.4.5.100.1.9.2", "R", "Epikrise 2"},
	{pjdPatientHN, "2.16.578.1.12.4.5.100.1.9.3", "N", "Epikrise 3"},
	{pjdPatientRetrieve, pjdRetrieveDocument, "N", "Kriseplan"},
	{pjdMTOMPatient, pjdMTOMDocument, "N", "Notat"},
}

// seedNorway registers the Norwegian documents through ITI-41. The
// document the iti39 pjd samples retrieve belongs, in NHN's data, to
// 29698496140, a NAV-style synthetic number (month + 40) that kjdd's
// fødselsnummer check refuses; a retrieve names no patient, so it is
// registered here for another test patient.
func (r *replay) seedNorway(t *testing.T) {
	t.Helper()
	p, err := paths.Repo("test", "internal", "corpus", "testdata", "seed", "norway-document.xml")
	if err != nil {
		t.Fatal(err)
	}
	tmpl, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range norwegianDocuments {
		content := []byte("Dokument " + d.title + " (kjdd conformance test)\n")
		sor := nistkit.Substitute(string(tmpl), map[string]string{
			"$patient$": fnr(d.patient), "$docuid$": d.uid, "$ssuid$": nistkit.NewOID(),
			"$title$": d.title, "$conf$": d.conf, "$time$": "20250206141356",
		}, true)
		r.srv.Provide(t, sor, harness.Document{ID: "Document01", ContentType: "text/plain", Body: bytes.NewReader(content)})
		r.contents[d.uid] = content
	}
}

// seedSwissPatient registers NIST's single-document seed for the patient
// of the Swiss projectathon query, so that it has one document to find.
func (r *replay) seedSwissPatient(t *testing.T) {
	t.Helper()
	r.srv.Register(t, SingleDocument(t, swissPatient))
}

// SingleDocument is NIST's single-document seed (test plan 12346,
// single_doc.xml) as an ITI-42 SubmitObjectsRequest for patient (a CX),
// with fresh entryUUIDs and uniqueIds.
func SingleDocument(t testing.TB, patient string) string {
	t.Helper()
	p, err := paths.Repo("test", "nist", "testdata", "seed", "12346", "single_doc.xml")
	if err != nil {
		t.Fatal(err)
	}
	seed, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	sor, _, err := nistkit.Prepare(seed, map[string]string{"$patientid$": patient})
	if err != nil {
		t.Fatal(err)
	}
	return string(sor)
}
