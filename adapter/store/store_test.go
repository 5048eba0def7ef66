package store

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"

	"kjdd/xds/query"
	"kjdd/xds/rim"
)

// seedRegistry stores, for testPatient: a SubmissionSet, three entries (one
// Deprecated), a Folder holding entry 1 and the HasMember associations;
// for testOtherPatient one entry.
func seedRegistry(t *testing.T, s *Store) {
	t.Helper()
	mustRegister(t, s, func(tx *Tx) error {
		ctx := context.Background()
		ss := submissionSet(1, testPatient)
		f := folder(1, testPatient)
		steps := []func() error{
			func() error { return tx.InsertSubmissionSet(ctx, ss) },
			func() error { return tx.InsertDocumentEntry(ctx, entry(1, testPatient, rim.StatusApproved)) },
			func() error { return tx.InsertDocumentEntry(ctx, entry(2, testPatient, rim.StatusApproved)) },
			func() error { return tx.InsertDocumentEntry(ctx, entry(3, testPatient, rim.StatusDeprecated)) },
			func() error { return tx.InsertFolder(ctx, f) },
			func() error {
				return tx.InsertAssociation(ctx, association(1, rim.AssocHasMember, ss.EntryUUID, uuid("0de0", 1)))
			},
			func() error {
				return tx.InsertAssociation(ctx, association(2, rim.AssocHasMember, f.EntryUUID, uuid("0de0", 1)))
			},
			func() error {
				return tx.InsertAssociation(ctx, association(3, rim.AssocRPLC, uuid("0de0", 2), uuid("0de0", 3)))
			},
		}
		for _, step := range steps {
			if err := step(); err != nil {
				return err
			}
		}
		return nil
	})
	mustRegister(t, s, func(tx *Tx) error {
		return tx.InsertDocumentEntry(context.Background(), entry(9, testOtherPatient, rim.StatusApproved))
	})
}

func TestSourceReads(t *testing.T) {
	ctx := context.Background()
	for _, b := range backends(t) {
		t.Run(b.name, func(t *testing.T) {
			s := b.open(t)
			seedRegistry(t, s)

			entries := map[string]struct {
				run  func() ([]*rim.DocumentEntry, error)
				want []string
			}{
				"by patient, every status": {
					run:  func() ([]*rim.DocumentEntry, error) { return s.DocumentEntriesByPatient(ctx, testPatient, nil) },
					want: []string{uuid("0de0", 1), uuid("0de0", 2), uuid("0de0", 3)},
				},
				"by patient, approved": {
					run: func() ([]*rim.DocumentEntry, error) {
						return s.DocumentEntriesByPatient(ctx, testPatient, []string{rim.StatusApproved})
					},
					want: []string{uuid("0de0", 1), uuid("0de0", 2)},
				},
				"by patient, deprecated": {
					run: func() ([]*rim.DocumentEntry, error) {
						return s.DocumentEntriesByPatient(ctx, testPatient, []string{rim.StatusDeprecated})
					},
					want: []string{uuid("0de0", 3)},
				},
				"other patient": {
					run:  func() ([]*rim.DocumentEntry, error) { return s.DocumentEntriesByPatient(ctx, testOtherPatient, nil) },
					want: []string{uuid("0de0", 9)},
				},
				"unknown patient": {
					run:  func() ([]*rim.DocumentEntry, error) { return s.DocumentEntriesByPatient(ctx, "1^^^&1.2&ISO", nil) },
					want: []string{},
				},
				"by entryUUID, duplicates asked once": {
					run: func() ([]*rim.DocumentEntry, error) {
						return s.DocumentEntries(ctx, query.Lookup{EntryUUIDs: []string{uuid("0de0", 2), uuid("0de0", 9), uuid("0de0", 2), "urn:uuid:unknown"}})
					},
					want: []string{uuid("0de0", 2), uuid("0de0", 9)},
				},
				"by uniqueId": {
					run: func() ([]*rim.DocumentEntry, error) {
						return s.DocumentEntries(ctx, query.Lookup{UniqueIDs: []string{"2.25.1000.3"}})
					},
					want: []string{uuid("0de0", 3)},
				},
				"both lists give the union": {
					run: func() ([]*rim.DocumentEntry, error) {
						return s.DocumentEntries(ctx, query.Lookup{EntryUUIDs: []string{uuid("0de0", 1)}, UniqueIDs: []string{"2.25.1000.1", "2.25.1000.2"}})
					},
					want: []string{uuid("0de0", 1), uuid("0de0", 2)},
				},
				"empty lookup": {
					run:  func() ([]*rim.DocumentEntry, error) { return s.DocumentEntries(ctx, query.Lookup{}) },
					want: []string{},
				},
			}
			for name, tc := range entries {
				t.Run(name, func(t *testing.T) {
					got, err := tc.run()
					if err != nil {
						t.Fatal(err)
					}
					if ids := entryUUIDs(got); !slices.Equal(ids, tc.want) {
						t.Fatalf("got %v, want %v", ids, tc.want)
					}
				})
			}

			t.Run("objects round trip", func(t *testing.T) {
				got, err := s.DocumentEntries(ctx, query.Lookup{EntryUUIDs: []string{uuid("0de0", 1)}})
				if err != nil || len(got) != 1 {
					t.Fatalf("got %v, %v", got, err)
				}
				if want := entry(1, testPatient, rim.StatusApproved); !reflect.DeepEqual(withoutRevision(got[0]), want) {
					t.Fatalf("got %+v\nwant %+v", got[0], want)
				}
			})
			t.Run("submission sets", func(t *testing.T) {
				byPatient, err := s.SubmissionSetsByPatient(ctx, testPatient, []string{rim.StatusApproved})
				if err != nil || len(byPatient) != 1 || byPatient[0].UniqueID != "2.25.2000.1" {
					t.Fatalf("by patient: %v, %v", byPatient, err)
				}
				byUID, err := s.SubmissionSets(ctx, query.Lookup{UniqueIDs: []string{"2.25.2000.1"}})
				if err != nil || len(byUID) != 1 || !reflect.DeepEqual(withoutRevision(byUID[0]), submissionSet(1, testPatient)) {
					t.Fatalf("by uniqueId: %+v, %v", byUID, err)
				}
			})
			t.Run("folders", func(t *testing.T) {
				byPatient, err := s.FoldersByPatient(ctx, testPatient, nil)
				if err != nil || len(byPatient) != 1 {
					t.Fatalf("by patient: %v, %v", byPatient, err)
				}
				none, err := s.FoldersByPatient(ctx, testOtherPatient, nil)
				if err != nil || len(none) != 0 {
					t.Fatalf("other patient: %v, %v", none, err)
				}
				byUUID, err := s.Folders(ctx, query.Lookup{EntryUUIDs: []string{uuid("f01d", 1)}})
				if err != nil || len(byUUID) != 1 || !reflect.DeepEqual(withoutRevision(byUUID[0]), folder(1, testPatient)) {
					t.Fatalf("by uuid: %+v, %v", byUUID, err)
				}
			})
			t.Run("associations of either end", func(t *testing.T) {
				assocs := map[string]struct {
					uuids []string
					want  []string
				}{
					"target of two":       {uuids: []string{uuid("0de0", 1)}, want: []string{uuid("a550", 1), uuid("a550", 2)}},
					"source":              {uuids: []string{uuid("f01d", 1)}, want: []string{uuid("a550", 2)}},
					"both ends, once":     {uuids: []string{uuid("0de0", 2), uuid("0de0", 3)}, want: []string{uuid("a550", 3)}},
					"nothing":             {uuids: []string{uuid("0de0", 9)}, want: nil},
					"no uuids":            {uuids: nil, want: nil},
					"source and target":   {uuids: []string{uuid("055e", 1), uuid("0de0", 3)}, want: []string{uuid("a550", 1), uuid("a550", 3)}},
					"by entryUUID itself": {uuids: []string{uuid("a550", 3)}, want: nil},
				}
				for name, tc := range assocs {
					t.Run(name, func(t *testing.T) {
						got, err := s.AssociationsOf(ctx, tc.uuids)
						if err != nil {
							t.Fatal(err)
						}
						var ids []string
						for _, a := range got {
							ids = append(ids, a.EntryUUID)
						}
						slices.Sort(ids)
						if !slices.Equal(ids, tc.want) {
							t.Fatalf("got %v, want %v", ids, tc.want)
						}
					})
				}
				direct, err := s.Associations(ctx, []string{uuid("a550", 3)})
				if err != nil || len(direct) != 1 || direct[0].Type != rim.AssocRPLC {
					t.Fatalf("Associations: %+v, %v", direct, err)
				}
			})
			t.Run("count", func(t *testing.T) {
				if n, err := s.CountDocumentEntries(ctx); err != nil || n != 4 {
					t.Fatalf("count = %d, %v; want 4", n, err)
				}
			})
		})
	}
}

func TestSetStatus(t *testing.T) {
	ctx := context.Background()
	for _, b := range backends(t) {
		t.Run(b.name, func(t *testing.T) {
			s := b.open(t)
			seedRegistry(t, s)
			tests := map[string]struct {
				uuid    string
				read    func() (string, error)
				wantErr error
			}{
				"document entry": {uuid: uuid("0de0", 1), read: func() (string, error) {
					got, err := s.DocumentEntries(ctx, query.Lookup{EntryUUIDs: []string{uuid("0de0", 1)}})
					if err != nil || len(got) != 1 {
						return "", fmt.Errorf("%v %v", got, err)
					}
					return got[0].Status, nil
				}},
				"folder": {uuid: uuid("f01d", 1), read: func() (string, error) {
					got, err := s.Folders(ctx, query.Lookup{EntryUUIDs: []string{uuid("f01d", 1)}})
					if err != nil || len(got) != 1 {
						return "", fmt.Errorf("%v %v", got, err)
					}
					return got[0].Status, nil
				}},
				"association": {uuid: uuid("a550", 2), read: func() (string, error) {
					got, err := s.Associations(ctx, []string{uuid("a550", 2)})
					if err != nil || len(got) != 1 {
						return "", fmt.Errorf("%v %v", got, err)
					}
					return got[0].Status, nil
				}},
				"unknown": {uuid: "urn:uuid:nope", wantErr: ErrNotFound},
			}
			for name, tc := range tests {
				t.Run(name, func(t *testing.T) {
					err := s.Register(ctx, func(tx *Tx) error { return tx.SetStatus(ctx, tc.uuid, rim.StatusDeprecated) })
					if tc.wantErr != nil {
						if !errors.Is(err, tc.wantErr) {
							t.Fatalf("err = %v, want %v", err, tc.wantErr)
						}
						return
					}
					if err != nil {
						t.Fatal(err)
					}
					got, err := tc.read()
					if err != nil || got != rim.StatusDeprecated {
						t.Fatalf("status in JSON = %q, %v", got, err)
					}
				})
			}
			// The indexed column moved too: the entry left the Approved list.
			approved, err := s.DocumentEntriesByPatient(ctx, testPatient, []string{rim.StatusApproved})
			if err != nil {
				t.Fatal(err)
			}
			if ids := entryUUIDs(approved); !slices.Equal(ids, []string{uuid("0de0", 2)}) {
				t.Fatalf("approved after deprecation = %v", ids)
			}
			// Other fields of the JSON are untouched.
			got, _ := s.DocumentEntries(ctx, query.Lookup{EntryUUIDs: []string{uuid("0de0", 1)}})
			want := entry(1, testPatient, rim.StatusDeprecated)
			if !reflect.DeepEqual(withoutRevision(got[0]), want) {
				t.Fatalf("after SetStatus got %+v\nwant %+v", got[0], want)
			}
		})
	}
}

func TestRegisterRollsBack(t *testing.T) {
	ctx := context.Background()
	rejected := errors.New("rejected submission")
	for _, b := range backends(t) {
		t.Run(b.name, func(t *testing.T) {
			s := b.open(t)
			seedRegistry(t, s)
			err := s.Register(ctx, func(tx *Tx) error {
				if err := tx.InsertSubmissionSet(ctx, submissionSet(50, testPatient)); err != nil {
					return err
				}
				if err := tx.InsertDocumentEntry(ctx, entry(50, testPatient, rim.StatusApproved)); err != nil {
					return err
				}
				if err := tx.InsertAssociation(ctx, association(50, rim.AssocHasMember, uuid("055e", 50), uuid("0de0", 50))); err != nil {
					return err
				}
				if err := tx.SetStatus(ctx, uuid("0de0", 1), rim.StatusDeprecated); err != nil {
					return err
				}
				if _, _, err := tx.PutContent(ctx, "2.25.1000.50", strings.NewReader("content")); err != nil {
					return err
				}
				// Reads inside the transaction see its writes.
				got, err := tx.DocumentEntries(ctx, query.Lookup{UniqueIDs: []string{"2.25.1000.50"}})
				if err != nil || len(got) != 1 {
					return fmt.Errorf("own write not visible: %v %v", got, err)
				}
				return rejected
			})
			if !errors.Is(err, rejected) {
				t.Fatalf("err = %v, want the function's error", err)
			}
			if n, _ := s.CountDocumentEntries(ctx); n != 4 {
				t.Fatalf("count = %d, want 4 (nothing stored)", n)
			}
			if ss, _ := s.SubmissionSets(ctx, query.Lookup{UniqueIDs: []string{"2.25.2000.50"}}); len(ss) != 0 {
				t.Fatalf("submission set stored: %v", ss)
			}
			if as, _ := s.Associations(ctx, []string{uuid("a550", 50)}); len(as) != 0 {
				t.Fatalf("association stored: %v", as)
			}
			if _, err := s.OpenContent(ctx, "2.25.1000.50"); !errors.Is(err, ErrNotFound) {
				t.Fatalf("content stored: %v", err)
			}
			got, _ := s.DocumentEntries(ctx, query.Lookup{EntryUUIDs: []string{uuid("0de0", 1)}})
			if got[0].Status != rim.StatusApproved {
				t.Fatalf("status change survived the rollback")
			}
		})
	}
}

func TestInsertDuplicates(t *testing.T) {
	ctx := context.Background()
	for _, b := range backends(t) {
		t.Run(b.name, func(t *testing.T) {
			s := b.open(t)
			seedRegistry(t, s)
			tests := map[string]func(tx *Tx) error{
				"document entry uniqueId": func(tx *Tx) error {
					e := entry(60, testPatient, rim.StatusApproved)
					e.UniqueID = "2.25.1000.1"
					return tx.InsertDocumentEntry(ctx, e)
				},
				"document entry entryUUID": func(tx *Tx) error {
					e := entry(1, testPatient, rim.StatusApproved)
					e.UniqueID = "2.25.1000.60"
					return tx.InsertDocumentEntry(ctx, e)
				},
				"submission set uniqueId": func(tx *Tx) error {
					ss := submissionSet(60, testPatient)
					ss.UniqueID = "2.25.2000.1"
					return tx.InsertSubmissionSet(ctx, ss)
				},
				"folder uniqueId": func(tx *Tx) error {
					f := folder(60, testPatient)
					f.UniqueID = "2.25.4000.1"
					return tx.InsertFolder(ctx, f)
				},
				"association entryUUID": func(tx *Tx) error {
					return tx.InsertAssociation(ctx, association(1, rim.AssocHasMember, uuid("055e", 1), uuid("0de0", 2)))
				},
			}
			for name, fn := range tests {
				t.Run(name, func(t *testing.T) {
					if err := s.Register(ctx, fn); !errors.Is(err, ErrDuplicate) {
						t.Fatalf("err = %v, want ErrDuplicate", err)
					}
				})
			}
		})
	}
}

func TestMigrationsIdempotent(t *testing.T) {
	ctx := context.Background()
	ms, err := loadMigrations(migrationFiles)
	if err != nil || len(ms) == 0 {
		t.Fatalf("migrations: %v, %v", ms, err)
	}
	for _, b := range fileBackends(t) {
		t.Run(b.name, func(t *testing.T) {
			// Several instances start at once on a fresh database.
			var wg sync.WaitGroup
			errs := make(chan error, 4)
			for range 4 {
				wg.Go(func() {
					s, err := Open(ctx, b.dsn)
					if err == nil {
						err = s.Close()
					}
					errs <- err
				})
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				if err != nil {
					t.Fatalf("concurrent open: %v", err)
				}
			}
			s := b.open(t) // and once more, later
			var n, maxV int
			if err := s.db.QueryRowContext(ctx, `SELECT COUNT(*), MAX(version) FROM schema_migrations`).Scan(&n, &maxV); err != nil {
				t.Fatal(err)
			}
			if n != len(ms) || maxV != ms[len(ms)-1].version {
				t.Fatalf("schema_migrations has %d rows up to %d, want %d up to %d", n, maxV, len(ms), ms[len(ms)-1].version)
			}
		})
	}
}

func TestStatements(t *testing.T) {
	got := statements("-- comment\nCREATE TABLE a (x INT);\n\nCREATE INDEX i\n  ON a (x);\n-- trailing\n")
	want := []string{"CREATE TABLE a (x INT)", "CREATE INDEX i\n  ON a (x)"}
	if !slices.Equal(got, want) {
		t.Fatalf("statements = %q, want %q", got, want)
	}
}

func TestConcurrentRegistration(t *testing.T) {
	ctx := context.Background()
	const perInstance = 25
	for _, b := range fileBackends(t) {
		t.Run(b.name, func(t *testing.T) {
			// Two Stores on one database: two kjdd instances.
			instances := []*Store{b.open(t), b.open(t)}
			var wg sync.WaitGroup
			errs := make(chan error, 2*perInstance)
			for i, s := range instances {
				for j := range perInstance {
					n := 1000 + i*perInstance + j
					wg.Go(func() {
						errs <- s.Register(ctx, func(tx *Tx) error {
							if err := tx.LockPatient(ctx, testPatient); err != nil {
								return err
							}
							if err := tx.InsertSubmissionSet(ctx, submissionSet(n, testPatient)); err != nil {
								return err
							}
							if err := tx.InsertDocumentEntry(ctx, entry(n, testPatient, rim.StatusApproved)); err != nil {
								return err
							}
							_, _, err := tx.PutContent(ctx, fmt.Sprintf("2.25.1000.%d", n), strings.NewReader(strings.Repeat("x", n)))
							return err
						})
					})
				}
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				if err != nil {
					t.Fatalf("concurrent register: %v", err)
				}
			}
			for _, s := range instances {
				if n, err := s.CountDocumentEntries(ctx); err != nil || n != 2*perInstance {
					t.Fatalf("count = %d, %v; want %d", n, err, 2*perInstance)
				}
			}
			// Both instances race to register the same uniqueId: one wins.
			var dupErrs []error
			var mu sync.Mutex
			for i, s := range instances {
				wg.Go(func() {
					err := s.Register(ctx, func(tx *Tx) error {
						e := entry(5000+i, testPatient, rim.StatusApproved)
						e.UniqueID = "2.25.race"
						return tx.InsertDocumentEntry(ctx, e)
					})
					mu.Lock()
					dupErrs = append(dupErrs, err)
					mu.Unlock()
				})
			}
			wg.Wait()
			var ok, dup int
			for _, err := range dupErrs {
				switch {
				case err == nil:
					ok++
				case errors.Is(err, ErrDuplicate):
					dup++
				default:
					t.Fatalf("race: unexpected error %v", err)
				}
			}
			if ok != 1 || dup != 1 {
				t.Fatalf("race: %d succeeded, %d duplicates; want 1 and 1", ok, dup)
			}
		})
	}
}

func TestBulkInsert(t *testing.T) {
	ctx := context.Background()
	for _, b := range backends(t) {
		t.Run(b.name, func(t *testing.T) {
			s := b.open(t)
			const n = 1234 // not a multiple of the batch size
			entries := make([]*rim.DocumentEntry, n)
			for i := range entries {
				patient := fmt.Sprintf("%011d^^^&2.16.578.1.12.4.1.4.1&ISO", i%100)
				entries[i] = entry(i, patient, rim.StatusApproved)
			}
			if err := s.BulkInsertDocumentEntries(ctx, entries); err != nil {
				t.Fatal(err)
			}
			if got, err := s.CountDocumentEntries(ctx); err != nil || got != n {
				t.Fatalf("count = %d, %v", got, err)
			}
			got, err := s.DocumentEntriesByPatient(ctx, fmt.Sprintf("%011d^^^&2.16.578.1.12.4.1.4.1&ISO", 7), nil)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != 13 || !reflect.DeepEqual(withoutRevision(got[0]), entries[7]) {
				t.Fatalf("patient 7: %d entries, first %+v", len(got), got[0])
			}
			// More ids than one IN list holds.
			var ids []string
			for _, e := range entries[:maxInList+10] {
				ids = append(ids, e.EntryUUID)
			}
			byID, err := s.DocumentEntries(ctx, query.Lookup{EntryUUIDs: ids})
			if err != nil || len(byID) != maxInList+10 {
				t.Fatalf("lookup of %d ids: %d, %v", len(ids), len(byID), err)
			}
			if err := s.BulkInsertDocumentEntries(ctx, entries[:1]); !errors.Is(err, ErrDuplicate) {
				t.Fatalf("bulk duplicate: %v", err)
			}
		})
	}
}

// TestQueriesUseIndexes checks with SQLite's planner that every query the
// registry runs is an index search, never a table scan: the property that
// keeps a patient's query independent of the registry's size.
func TestQueriesUseIndexes(t *testing.T) {
	s := backend{name: "sqlite-memory", dsn: "sqlite::memory:"}.open(t)
	queries := map[string]string{}
	for _, table := range []string{tableDocumentEntries, tableSubmissionSets, tableFolders} {
		queries[table+" by patient"], _ = byPatientQuery(table, "p", nil)
		queries[table+" by patient and status"], _ = byPatientQuery(table, "p", []string{"s1", "s2"})
		queries[table+" by entryUUID"] = byColumnQuery(table, "entry_uuid", 3)
		queries[table+" by uniqueId"] = byColumnQuery(table, "unique_id", 3)
	}
	for _, column := range []string{"entry_uuid", "source", "target"} {
		queries["associations by "+column] = byColumnQuery(tableAssociations, column, 3)
	}
	queries["content"] = `SELECT size, sha1, chunks FROM contents WHERE unique_id = ?`
	queries["content chunk"] = `SELECT data FROM content_chunks WHERE unique_id = ? AND seq = ?`
	for _, table := range objectTables {
		queries["set status in "+table] = "SELECT object FROM " + table + " WHERE entry_uuid = ?"
	}
	for name, q := range queries {
		t.Run(name, func(t *testing.T) {
			args := make([]any, strings.Count(q, "?"))
			for i := range args {
				args[i] = "x"
			}
			plan := queryPlan(t, s, q, args)
			joined := strings.Join(plan, "; ")
			if !strings.Contains(joined, "SEARCH ") {
				t.Fatalf("query %q plan %q is not an index search", q, joined)
			}
			for _, step := range plan {
				if strings.HasPrefix(step, "SCAN ") && !strings.Contains(step, "USING") {
					t.Fatalf("query %q scans: %q", q, joined)
				}
			}
		})
	}
}
