package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"kjdd/adapter/store"
	"kjdd/test/internal/harness"
	"kjdd/test/testkit/fixture"
	"kjdd/xds/rim"
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
	entries := make([]*rim.DocumentEntry, 0, batch)
	for i := 0; i < n; i++ {
		patient := targetPatient
		if i >= targetEntries {
			patient = fmt.Sprintf("load%08d^^^&1.3.6.1.4.1.21367.2005.3.7&ISO", (i-targetEntries)/entriesPerPatient)
		}
		entries = append(entries, fixture.DocumentEntry(i, patient, harness.RepositoryUniqueID))
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
