package store

import (
	"context"
	"errors"
	"testing"

	"kjdd/xds/rim"
)

var errRollback = errors.New("roll back")

// TestKeyListsFollowOtherInstances: instance A remembers the keys of a
// patient's objects, and every way instance B can change them (a
// registration, a status change, a bulk load) is seen by A's next query.
func TestKeyListsFollowOtherInstances(t *testing.T) {
	ctx := context.Background()
	approved := []string{rim.StatusApproved}
	for _, b := range fileBackends(t) {
		t.Run(b.name, func(t *testing.T) {
			a, other := b.open(t), b.open(t)
			count := func(statuses []string) int {
				t.Helper()
				es, err := a.DocumentEntriesByPatient(ctx, testPatient, statuses)
				if err != nil {
					t.Fatal(err)
				}
				return len(es)
			}
			sets := func() int {
				t.Helper()
				ss, err := a.SubmissionSetsByPatient(ctx, testPatient, approved)
				if err != nil {
					t.Fatal(err)
				}
				return len(ss)
			}
			register := func(fn func(tx *Tx) error) {
				t.Helper()
				if err := other.Register(ctx, fn); err != nil {
					t.Fatal(err)
				}
			}
			register(func(tx *Tx) error {
				if err := tx.InsertSubmissionSet(ctx, submissionSet(1, testPatient)); err != nil {
					return err
				}
				for n := 1; n <= 2; n++ {
					if err := tx.InsertDocumentEntry(ctx, entry(n, testPatient, rim.StatusApproved)); err != nil {
						return err
					}
				}
				return nil
			})
			for range 2 { // the second time from the remembered keys
				if n, s := count(approved), sets(); n != 2 || s != 1 {
					t.Fatalf("%d entries and %d sets, want 2 and 1", n, s)
				}
			}
			v, err := registryVersion(ctx, a.d, a.reads, testPatient)
			if err != nil || v == 0 {
				t.Fatalf("registry version %d, %v; want one raised by the registration", v, err)
			}
			if _, ok := a.keyLists.get(keyListKey{tableDocumentEntries, testPatient, rim.StatusApproved}, v); !ok {
				t.Fatal("the keys were not remembered under the patient's version")
			}

			// Each kind of insert on its own raises the version.
			register(func(tx *Tx) error { return tx.InsertDocumentEntry(ctx, entry(3, testPatient, rim.StatusApproved)) })
			if n, s := count(approved), sets(); n != 3 || s != 1 {
				t.Fatalf("after B registered an entry: %d entries and %d sets, want 3 and 1", n, s)
			}
			register(func(tx *Tx) error { return tx.InsertSubmissionSet(ctx, submissionSet(2, testPatient)) })
			if n, s := count(approved), sets(); n != 3 || s != 2 {
				t.Fatalf("after B registered a set: %d entries and %d sets, want 3 and 2", n, s)
			}

			folders := func() int {
				t.Helper()
				fs, err := a.FoldersByPatient(ctx, testPatient, approved)
				if err != nil {
					t.Fatal(err)
				}
				return len(fs)
			}
			if n := folders(); n != 0 {
				t.Fatalf("%d folders, want none", n)
			}
			register(func(tx *Tx) error { return tx.InsertFolder(ctx, folder(1, testPatient)) })
			if n := folders(); n != 1 {
				t.Fatalf("after B registered a folder: %d folders, want 1", n)
			}

			register(func(tx *Tx) error { return tx.SetStatus(ctx, entry(1, "", "").EntryUUID, rim.StatusDeprecated) })
			if n, d := count(approved), count([]string{rim.StatusDeprecated}); n != 2 || d != 1 {
				t.Fatalf("after B deprecated one: %d approved and %d deprecated, want 2 and 1", n, d)
			}

			if err := other.BulkInsertDocumentEntries(ctx, []*rim.DocumentEntry{entry(4, testPatient, rim.StatusApproved), entry(5, testOtherPatient, rim.StatusApproved)}); err != nil {
				t.Fatal(err)
			}
			if n := count(approved); n != 3 {
				t.Fatalf("after B's bulk load: %d approved, want 3", n)
			}

			if err := other.Register(ctx, func(tx *Tx) error {
				if err := tx.InsertDocumentEntry(ctx, entry(6, testPatient, rim.StatusApproved)); err != nil {
					return err
				}
				return errRollback
			}); err == nil {
				t.Fatal("the rolled-back registration reported no error")
			}
			if n := count(approved); n != 3 {
				t.Fatalf("after a rolled-back registration: %d approved, want 3", n)
			}
		})
	}
}
