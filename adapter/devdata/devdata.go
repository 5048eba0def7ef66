// Package devdata registers demo documents for `kjdd serve --dev`: a few
// documents each for Norsk helsenett's synthetic test patients, with
// metadata as a Norwegian hospital's EPJ would send it, so that a first look
// at kjdd (and the README's examples) finds something to list and open.
package devdata

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"kjdd/adapter/registry"
	"kjdd/xds/hl7"
	"kjdd/xds/rim"
	"kjdd/xds/validate"
)

// Patients are the fødselsnumre of NHN's synthetic test patients the demo
// documents belong to. They are test identities, not real persons.
var Patients = []string{"13116900216", "12119000465", "08077000292"}

// SperretPatient is the demo patient one of whose documents carries the
// confidentialityCode NORS (document-level sperring).
const SperretPatient = "13116900216"

// demoRoot is the OID under which the demo objects' uniqueIds are made:
// a UUID-derived OID (ITI TF-3 4.2.3.2.26, ISO/IEC 9834-8), unique without
// registration and plainly not the hospital's own.
const demoRoot = "2.25.204853883400378151000889251189749598865"

// Code systems and OIDs of the Norwegian profile used below.
const (
	volven9602   = "2.16.578.1.12.4.1.1.9602"
	volven9603   = "2.16.578.1.12.4.1.1.9603"
	volven1303   = "2.16.578.1.12.4.1.1.1303"
	volven8655   = "2.16.578.1.12.4.1.1.8655"
	hl7Conf      = "2.16.840.1.113883.5.25"
	ihfFormatOID = "1.3.6.1.4.1.19376.1.2.3"
)

// The demo hospital. Names and numbers are fictional; the organisation
// number has a valid check digit because the Norwegian profile checks it.
var (
	demoAuthors = []rim.Author{{
		Person: "565505933^GREVLING^KVART^^^^^^&" + hl7.OIDHPR + "&ISO",
		Institutions: []string{
			"Demo sykehus HF^^^^^&" + hl7.OIDOrgNumber + "&ISO^^^^923456783",
			"Medisinsk avdeling^^^^^&" + hl7.OIDRESH + "&ISO^^^^4001031",
		},
		// Coded roles use the CX form of ITI TF-3 4.2.3.1.4.2: Volven 9060
		// "Kategori helsepersonell", LE = lege.
		Roles: []string{"LE^^^&2.16.578.1.12.4.1.1.9060&ISO"},
	}}
	submissionAuthors = []rim.Author{{
		Institutions: []string{"Demo sykehus HF^^^^^&" + hl7.OIDOrgNumber + "&ISO^^^^923456783"},
	}}
	facility        = rim.Code{Code: "86.101", Scheme: volven1303, Display: "Alminnelige somatiske sykehus"}
	practiceSetting = rim.Code{Code: "S03", Scheme: volven8655, Display: "Indremedisin"}
	formatCode      = rim.Code{Code: "urn:ihe:iti:xds:2017:mimeTypeSufficient", Scheme: ihfFormatOID, Display: "mimeType Sufficient"}
	normal          = rim.Code{Code: "N", Scheme: hl7Conf, Display: "Normal"}
	sperret         = rim.Code{Code: "NORS", Scheme: volven9603, Display: "Sperret"}
)

// template is one kind of demo document.
type template struct {
	class, classDisplay string
	typ, typDisplay     string
	title               string
	mimeType            string
	lines               []string
}

var templates = []template{
	{
		class: "A00-1", classDisplay: "Epikriser og sammenfatninger", typ: "A03-2", typDisplay: "Epikrise",
		title: "Epikrise, Medisinsk avdeling", mimeType: "application/pdf",
		lines: []string{
			"Innlagt: akutt, via legevakt. Utskrevet til hjemmet.",
			"Diagnose: Pneumoni, uspesifisert (J18.9).",
			"Forløp: Behandlet med intravenøs antibiotika i tre døgn,",
			"deretter peroral behandling. Feberfri fra dag to.",
			"Videre plan: Kontroll hos fastlege om to uker.",
		},
	},
	{
		class: "B00-1", classDisplay: "Kontinuerlig/løpende journal", typ: "B02-2", typDisplay: "Journalnotat",
		title: "Journalnotat, innkomst", mimeType: "application/pdf",
		lines: []string{
			"Innkomstnotat. Tre dagers anamnese med feber og hoste.",
			"Funn: Temp 39,1. Knatrelyder basalt høyre side.",
			"Vurdering: Klinisk pneumoni. Rtg. thorax rekvirert.",
		},
	},
	{
		class: "B00-1", classDisplay: "Kontinuerlig/løpende journal", typ: "B03-2", typDisplay: "Poliklinisk notat",
		title: "Poliklinisk notat, kontroll", mimeType: "application/pdf",
		lines: []string{
			"Kontroll etter utskrivning. God allmenntilstand.",
			"Lungestetoskopi: normale funn. Ingen videre kontroller.",
		},
	},
	{
		class: "C00-1", classDisplay: "Prøvesvar, vev og væsker", typ: "C01-2", typDisplay: "Medisinsk biokjemi",
		title: "Prøvesvar, medisinsk biokjemi", mimeType: "text/plain",
		lines: []string{
			"Analyse          Resultat  Enhet    Referanse",
			"CRP              86        mg/L     < 5",
			"Leukocytter      13,2      10^9/L   3,5 - 10,0",
			"Hemoglobin       13,8      g/dL     11,7 - 15,3",
			"Kreatinin        71        µmol/L   45 - 90",
		},
	},
	{
		class: "E00-1", classDisplay: "Bildediagnostikk", typ: "E01-2", typDisplay: "Bildediagnostiske svar",
		title: "Røntgen thorax", mimeType: "text/plain",
		lines: []string{
			"Rtg. thorax to plan.",
			"Fortetning i høyre underlapp, forenlig med pneumoni.",
			"Ingen pleuravæske. Normal hjertestørrelse.",
		},
	},
}

// documentsPerPatient says which templates each patient gets (indexes into
// templates), so that the patients differ a little.
var documentsPerPatient = [][]int{
	{0, 1, 2, 3, 4},
	{0, 1, 3},
	{1, 2, 4},
}

// sperretDocument is the document of SperretPatient marked NORS: the
// journal note (its second document).
const sperretDocument = 1

// Seed registers the demo documents through reg, with ITI-41 semantics
// (kjdd's own repository stores the content). It is idempotent: a patient
// whose demo submission is already registered is skipped, so a second Seed
// on the same store does nothing.
func Seed(ctx context.Context, reg *registry.Registry) error {
	for p, fnr := range Patients {
		ssUID := fmt.Sprintf("%s.1.%d", demoRoot, p+1)
		done, err := reg.SubmissionSetRegistered(ctx, ssUID)
		if err != nil {
			return fmt.Errorf("devdata: %w", err)
		}
		if done {
			continue
		}
		sub := submission(p, fnr, ssUID)
		if _, err := reg.Register(ctx, sub, validate.ITI41); err != nil {
			// The error carries only registry codes and uniqueIds.
			return fmt.Errorf("devdata: register demo patient %d: %w", p+1, err)
		}
	}
	return nil
}

// submission builds the demo submission of patient number p.
func submission(p int, fnr, ssUID string) *rim.Submission {
	patientID := fnr + "^^^&" + hl7.OIDFNR + "&ISO"
	ss := &rim.SubmissionSet{
		EntryUUID:       "SubmissionSet01",
		UniqueID:        ssUID,
		SourceID:        demoRoot,
		PatientID:       patientID,
		Title:           "Demodokumenter",
		SubmissionTime:  time.Now().UTC().Format("20060102150405"),
		ContentTypeCode: rim.Code{Code: "A00-1", Scheme: volven9602, Display: "Epikriser og sammenfatninger"},
		Authors:         submissionAuthors,
	}
	sub := &rim.Submission{SubmissionSet: ss, SubmissionSets: 1}
	// A fixed admission date per patient, so that the demo data is the same
	// on every machine.
	admitted := time.Date(2026, time.September, 7+7*p, 10, 30, 0, 0, time.UTC)
	for d, ti := range documentsPerPatient[p] {
		t := templates[ti]
		id := fmt.Sprintf("Document%02d", d+1)
		created := admitted.Add(time.Duration(d) * 26 * time.Hour)
		conf := []rim.Code{normal}
		if fnr == SperretPatient && d == sperretDocument {
			conf = append(conf, sperret)
		}
		de := &rim.DocumentEntry{
			EntryUUID:                  id,
			UniqueID:                   fmt.Sprintf("%s.2.%d.%d", demoRoot, p+1, d+1),
			PatientID:                  patientID,
			SourcePatientID:            patientID,
			ObjectType:                 rim.ObjectTypeStable,
			MimeType:                   t.mimeType,
			Title:                      t.title,
			ClassCode:                  rim.Code{Code: t.class, Scheme: volven9602, Display: t.classDisplay},
			TypeCode:                   rim.Code{Code: t.typ, Scheme: volven9602, Display: t.typDisplay},
			FormatCode:                 formatCode,
			HealthcareFacilityTypeCode: facility,
			PracticeSettingCode:        practiceSetting,
			ConfidentialityCodes:       conf,
			Authors:                    demoAuthors,
			LegalAuthenticator:         demoAuthors[0].Person,
			CreationTime:               created.Format("20060102150405"),
			ServiceStartTime:           admitted.Format("20060102150405"),
			ServiceStopTime:            admitted.Add(72 * time.Hour).Format("20060102150405"),
			LanguageCode:               "nb-NO",
		}
		sub.DocumentEntries = append(sub.DocumentEntries, de)
		sub.Associations = append(sub.Associations, &rim.Association{
			EntryUUID:           fmt.Sprintf("Association%02d", d+1),
			Type:                rim.AssocHasMember,
			Source:              ss.EntryUUID,
			Target:              id,
			SubmissionSetStatus: "Original",
		})
		sub.Documents = append(sub.Documents, rim.Document{ID: id, Content: bytesBlob(content(t, created))})
	}
	return sub
}

// content renders a demo document in its mime type.
func content(t template, created time.Time) []byte {
	head := []string{
		"Demo sykehus HF, Medisinsk avdeling",
		"Syntetisk testpasient (testdata fra Norsk helsenett)",
		"Dato: " + created.Format("02.01.2006"),
		"",
	}
	lines := append(head, t.lines...)
	lines = append(lines, "", "Signert: Kvart Grevling, lege (demo)")
	if t.mimeType == "application/pdf" {
		return simplePDF(t.title, lines)
	}
	return []byte(t.title + "\n\n" + strings.Join(lines, "\n") + "\n")
}

// bytesBlob is content held in memory: demo documents are a few kB.
type bytesBlob []byte

func (b bytesBlob) Open() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(b)), nil }
