package consent

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"

	"kjdd/test/testkit/paths"
	"kjdd/xds/rim"
)

// Synthetic national identity numbers as they appear in NHN's PJD test
// data (conformance/samples): never real people.
const (
	patientA = "13116900216"
	patientB = "17855599120"
)

// sharedDir returns the shared project directory (../shared beside the
// module root), so tests never copy shared data into the project.
func sharedDir(t testing.TB) string {
	t.Helper()
	p, err := paths.Shared()
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// recordStore is the test's RecordStore: the port's contract (versions that
// increase on every change, deletes included) over a map, with a switch to
// make it fail. The SQL store implements the same port in the adapter.
type recordStore struct {
	mu      sync.Mutex
	records map[string][]Sperring
	version map[string]int64
	seq     int64
	nextID  int
	failing atomic.Bool
	calls   atomic.Int64 // Inputs reads
}

var errStoreDown = errors.New("store down")

func newRecordStore() *recordStore {
	return &recordStore{records: map[string][]Sperring{}, version: map[string]int64{}}
}

func (s *recordStore) Inputs(_ context.Context, patient string) (Inputs, error) {
	s.calls.Add(1)
	if s.failing.Load() {
		return Inputs{}, errStoreDown
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return Inputs{Patient: patient, Version: s.version[patient], Records: slices.Clone(s.records[patient])}, nil
}

// Version is the patient's version, as the store's primary-key read.
func (s *recordStore) Version(_ context.Context, patient string) (int64, error) {
	if s.failing.Load() {
		return 0, errStoreDown
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.version[patient], nil
}

// add creates a record and returns it with its id.
func (s *recordStore) add(t testing.TB, r Sperring) Sperring {
	t.Helper()
	if err := r.Validate(); err != nil {
		t.Fatalf("invalid test record: %v", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.nextID++
	r.ID = fmt.Sprintf("rec-%d", s.nextID)
	s.records[r.Patient] = append(s.records[r.Patient], r)
	s.seq++
	s.version[r.Patient] = s.seq
	return r
}

// remove deletes a record by id.
func (s *recordStore) remove(patient, id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.records[patient] = slices.DeleteFunc(s.records[patient], func(r Sperring) bool { return r.ID == id })
	s.seq++
	s.version[patient] = s.seq
}

// entry returns a DocumentEntry of patient with the given uniqueId and
// confidentiality codes, filled the way the Norwegian profile fills it.
func entry(patient, uniqueID string, conf ...rim.Code) *rim.DocumentEntry {
	if len(conf) == 0 {
		conf = []rim.Code{{Code: "N", Scheme: "2.16.840.1.113883.5.25", Display: "Normal"}}
	}
	return &rim.DocumentEntry{
		EntryUUID:  "urn:uuid:" + uuidFor(uniqueID),
		LogicalID:  "urn:uuid:" + uuidFor(uniqueID),
		Version:    "1",
		UniqueID:   uniqueID,
		PatientID:  patient + "^^^&" + OIDFodselsnummer + "&ISO",
		ObjectType: rim.ObjectTypeStable,
		MimeType:   "application/pdf",
		Status:     rim.StatusApproved,
		Home:       "urn:oid:2.16.578.1.12.4.5.100.1",
		Title:      "Epikrise etter innleggelse",
		Comments:   "Pasienten ble innlagt med brystsmerter",
		ClassCode:  rim.Code{Code: "A00-1", Scheme: "2.16.578.1.12.4.1.1.9602", Display: "Epikriser og sammenfatninger"},
		TypeCode:   rim.Code{Code: "A03-2", Scheme: "2.16.578.1.12.4.1.1.9602", Display: "Epikrise"},
		FormatCode: rim.Code{Code: "urn:no:ehelse:document:pdf", Scheme: "2.16.578.1.12.4.1.1.9621", Display: "PDF"},
		HealthcareFacilityTypeCode: rim.Code{
			Code: "86.101", Scheme: "2.16.578.1.12.4.1.1.1303", Display: "Alminnelige somatiske sykehus",
		},
		PracticeSettingCode:  rim.Code{Code: "PV", Scheme: "2.16.578.1.12.4.1.1.8655", Display: "Psykisk helsevern voksne"},
		ConfidentialityCodes: conf,
		EventCodes:           []rim.Code{{Code: "F32", Scheme: "2.16.578.1.12.4.1.1.7110", Display: "Depressiv episode"}},
		Authors: []rim.Author{{
			Person:       "565505933^GREVLING^KVART^^^^^^&2.16.578.1.12.4.1.4.4&ISO",
			Institutions: []string{"Finnmarkssykehuset HF^^^^^&2.16.578.1.12.4.1.4.101&ISO^^^^983974880"},
		}},
		CreationTime:       "20240315101500",
		ServiceStartTime:   "20240310080000",
		ServiceStopTime:    "20240315090000",
		LanguageCode:       "nb-NO",
		SourcePatientID:    patient + "^^^&" + OIDFodselsnummer + "&ISO",
		SourcePatientInfo:  []string{"PID-5|Danser^Line", "PID-7|19691113", "PID-8|F"},
		LegalAuthenticator: "565505933^GREVLING^KVART^^^^^^&2.16.578.1.12.4.1.4.4&ISO",
		Hash:               "da39a3ee5e6b4b0d3255bfef95601890afd80709",
		Size:               1024,
		HasSize:            true,
		RepositoryUniqueID: "2.16.578.1.12.4.5.100.1.2",
		ReferenceIDs:       []string{"A123^^^&2.16.578.1.12.4.5.100.1&ISO^urn:ihe:iti:xds:2013:accession"},
		ExtraSlots:         []rim.Slot{{Name: "urn:no:dips:internal", Values: []string{"secret"}}},
	}
}

// nors is the NORS confidentiality code as the profile writes it.
var nors = rim.Code{Code: "NORS", Scheme: CodeSystemSperring, Display: "Sperret"}

// uuidFor makes a stable, well-formed UUID from a test uniqueId.
func uuidFor(s string) string {
	b := sha256.Sum256([]byte(s))
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}
