package store

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"kjdd/test/testkit/pgtest"
	"kjdd/xds/rim"
)

// backend opens fresh, empty stores of one kind. open may be called more
// than once per test: every call after the first opens the same database
// (a second instance).
type backend struct {
	name string
	dsn  string
}

// backends returns the databases every store test runs against: a SQLite
// file, a SQLite memory database and, when KJDD_TEST_POSTGRES_URL is set, a
// schema of its own in that PostgreSQL database.
func backends(t *testing.T) []backend {
	t.Helper()
	bs := []backend{
		{name: "sqlite", dsn: "sqlite:" + filepath.Join(t.TempDir(), "kjdd.db")},
		{name: "sqlite-memory", dsn: "sqlite::memory:"},
	}
	if pg := os.Getenv("KJDD_TEST_POSTGRES_URL"); pg != "" {
		bs = append(bs, backend{name: "postgres", dsn: pgtest.Schema(t, pg, "kjdd_test_")})
	}
	return bs
}

// fileBackends are the backends two processes can share.
func fileBackends(t *testing.T) []backend {
	t.Helper()
	var out []backend
	for _, b := range backends(t) {
		if b.name != "sqlite-memory" {
			out = append(out, b)
		}
	}
	return out
}

func (b backend) open(t *testing.T) *Store {
	t.Helper()
	s, err := Open(context.Background(), b.dsn)
	if err != nil {
		t.Fatalf("open %s: %v", b.name, err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

const (
	testPatient      = "13116900216^^^&2.16.578.1.12.4.1.4.1&ISO"
	testOtherPatient = "12119000465^^^&2.16.578.1.12.4.1.4.1&ISO"
)

func uuid(kind string, n int) string {
	return fmt.Sprintf("urn:uuid:00000000-0000-4000-8000-%s%08d", kind, n)
}

func entry(n int, patient, status string) *rim.DocumentEntry {
	id := uuid("0de0", n)
	return &rim.DocumentEntry{
		EntryUUID:            id,
		LogicalID:            id,
		Version:              "1",
		UniqueID:             fmt.Sprintf("2.25.1000.%d", n),
		PatientID:            patient,
		ObjectType:           rim.ObjectTypeStable,
		MimeType:             "application/pdf",
		Status:               status,
		Title:                fmt.Sprintf("Epikrise %d", n),
		ClassCode:            rim.Code{Code: "A00-1", Scheme: "2.16.578.1.12.4.1.1.9602", Display: "Epikriser og sammenfatninger"},
		ConfidentialityCodes: []rim.Code{{Code: "N", Scheme: "2.16.840.1.113883.5.25"}},
		Hash:                 "da39a3ee5e6b4b0d3255bfef95601890afd80709",
		HasSize:              true,
		ExtraSlots:           []rim.Slot{{Name: "urn:kjdd:test", Values: []string{"kept"}}},
	}
}

func submissionSet(n int, patient string) *rim.SubmissionSet {
	id := uuid("055e", n)
	return &rim.SubmissionSet{
		EntryUUID: id, LogicalID: id, UniqueID: fmt.Sprintf("2.25.2000.%d", n), SourceID: "2.25.3000",
		PatientID: patient, Status: rim.StatusApproved, SubmissionTime: "20261121120000",
		ContentTypeCode: rim.Code{Code: "A00-1", Scheme: "2.16.578.1.12.4.1.1.9602"},
	}
}

func folder(n int, patient string) *rim.Folder {
	id := uuid("f01d", n)
	return &rim.Folder{
		EntryUUID: id, LogicalID: id, UniqueID: fmt.Sprintf("2.25.4000.%d", n), PatientID: patient,
		Status: rim.StatusApproved, CodeList: []rim.Code{{Code: "B00-1", Scheme: "2.16.578.1.12.4.1.1.9602"}},
	}
}

func association(n int, typ, source, target string) *rim.Association {
	return &rim.Association{EntryUUID: uuid("a550", n), Type: typ, Source: source, Target: target, Status: rim.StatusApproved}
}

func mustRegister(t *testing.T, s *Store, fn func(tx *Tx) error) {
	t.Helper()
	if err := s.Register(context.Background(), fn); err != nil {
		t.Fatalf("register: %v", err)
	}
}

func entryUUIDs(es []*rim.DocumentEntry) []string {
	out := make([]string, len(es))
	for i, e := range es {
		out[i] = e.EntryUUID
	}
	return out
}

// withoutRevision returns a shallow copy of a model object with its
// Revision cleared: what the store read, to compare with what was stored
// (the Revision names the stored version; it is not part of the object).
func withoutRevision[T any](o *T) *T {
	c := *o
	reflect.ValueOf(&c).Elem().FieldByName("Revision").SetZero()
	return &c
}

// queryPlan is SQLite's EXPLAIN QUERY PLAN of query: one detail per step.
func queryPlan(t *testing.T, s *Store, query string, args []any) []string {
	t.Helper()
	rows, err := s.db.Query("EXPLAIN QUERY PLAN "+query, args...)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = rows.Close() }()
	var plan []string
	for rows.Next() {
		var id, parent, notused int
		var detail string
		if err := rows.Scan(&id, &parent, &notused, &detail); err != nil {
			t.Fatal(err)
		}
		plan = append(plan, detail)
	}
	return plan
}
