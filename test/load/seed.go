package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"kjdd/adapter/store"
	"kjdd/test/internal/harness"
	"kjdd/xds"
)

// targetEntries is how many entries the queried patient has.
const targetEntries = 20

// entriesPerPatient spreads the other entries over many patients, so the
// registry looks like a hospital's, not one huge record.
const entriesPerPatient = 10

// targetPatient is the patient the load queries: a synthetic fødselsnummer
// (month + 80, Skatteetaten's test numbers), since sperring is decided on
// national ids and an entry of any other patient id is never shown.
const targetPatient = "01817010055^^^&2.16.578.1.12.4.1.4.1&ISO"

// seedStore creates the SQLite store of dir with n DocumentEntries, the
// first targetEntries of them the target patient's.
func seedStore(dir string, n int, logf func(string, ...any)) (string, error) {
	db := filepath.Join(dir, "kjdd.db")
	for _, suffix := range []string{"", "-wal", "-shm"} {
		_ = os.Remove(db + suffix)
	}
	ctx := context.Background()
	st, err := store.Open(ctx, "sqlite:"+db)
	if err != nil {
		return "", err
	}
	defer st.Close()
	const batch = 10_000
	start := time.Now()
	entries := make([]*xds.DocumentEntry, 0, batch)
	for i := 0; i < n; i++ {
		patient := targetPatient
		if i >= targetEntries {
			patient = fmt.Sprintf("load%08d^^^&1.3.6.1.4.1.21367.2005.3.7&ISO", (i-targetEntries)/entriesPerPatient)
		}
		entries = append(entries, entry(i, patient))
		if len(entries) == batch || i == n-1 {
			if err := st.BulkInsertDocumentEntries(ctx, entries); err != nil {
				return "", err
			}
			entries = entries[:0]
			if (i+1)%100_000 == 0 {
				logf("seeded %d/%d entries (%s)", i+1, n, time.Since(start).Round(time.Second))
			}
		}
	}
	got, err := st.CountDocumentEntries(ctx)
	if err != nil {
		return "", err
	}
	if got != int64(n) {
		return "", fmt.Errorf("store holds %d entries, want %d", got, n)
	}
	logf("seeded %d entries in %s", n, time.Since(start).Round(time.Millisecond))
	return db, nil
}

// entry is a complete, realistic DocumentEntry (IHE profile).
func entry(i int, patient string) *xds.DocumentEntry {
	return &xds.DocumentEntry{
		EntryUUID:                  fmt.Sprintf("urn:uuid:00000000-0000-4000-8000-%012d", i),
		UniqueID:                   fmt.Sprintf("2.25.%d", 1_000_000_000+i),
		PatientID:                  patient,
		ObjectType:                 xds.ObjectTypeStable,
		MimeType:                   "application/pdf",
		Status:                     xds.StatusApproved,
		Title:                      fmt.Sprintf("Epikrise %d", i),
		ClassCode:                  xds.Code{Code: "A00-1", Scheme: "2.16.578.1.12.4.1.1.9602", Display: "Epikriser og sammenfatninger"},
		TypeCode:                   xds.Code{Code: "A01-2", Scheme: "2.16.578.1.12.4.1.1.9602", Display: "Kriseplan"},
		FormatCode:                 xds.Code{Code: "urn:ihe:iti:xds:2017:mimeTypeSufficient", Scheme: "1.3.6.1.4.1.19376.1.2.3", Display: "mimeType Sufficient"},
		HealthcareFacilityTypeCode: xds.Code{Code: "86.211", Scheme: "2.16.578.1.12.4.1.1.1303", Display: "Alminnelige somatiske sykehus"},
		PracticeSettingCode:        xds.Code{Code: "4", Scheme: "2.16.578.1.12.4.1.1.8653", Display: "Indremedisin"},
		ConfidentialityCodes:       []xds.Code{{Code: "N", Scheme: "2.16.840.1.113883.5.25", Display: "normal"}},
		Authors: []xds.Author{{
			Person:       "502116685^Lege^Load^^^^^^&2.16.578.1.12.4.1.4.4&ISO",
			Institutions: []string{"Testsykehuset HF^^^^^&2.16.578.1.12.4.1.4.101&ISO^^^^983974880"},
		}},
		CreationTime:       fmt.Sprintf("2025%02d%02d120000", 1+i%12, 1+i%28),
		LanguageCode:       "nb-NO",
		SourcePatientID:    patient,
		Hash:               "da39a3ee5e6b4b0d3255bfef95601890afd80709",
		Size:               1024,
		HasSize:            true,
		RepositoryUniqueID: harness.RepositoryUniqueID,
	}
}
