package registry

import (
	"bytes"
	"context"
	"crypto/sha1"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"kjdd/adapter/store"
	"kjdd/test/testkit/pgtest"
	"kjdd/xds/hl7"
	"kjdd/xds/query"
	"kjdd/xds/rim"
	"kjdd/xds/validate"
)

const (
	patientA   = "13116900216^^^&2.16.578.1.12.4.1.4.1&ISO"
	patientB   = "12119000465^^^&2.16.578.1.12.4.1.4.1&ISO"
	ownRepo    = "2.16.578.1.12.4.5.100.1.2"
	epjRepo    = "2.16.578.1.12.4.2.77.1"
	homeOID    = "2.16.578.1.12.4.5.100.1"
	testAuthor = "565505933^GREVLING^KVART^^^^^^&2.16.578.1.12.4.1.4.4&ISO"
)

var fixedNow = time.Date(2026, time.November, 21, 12, 0, 0, 0, time.UTC)

type memBlob []byte

func (b memBlob) Open() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(b)), nil }

func sha1Hex(b []byte) string {
	s := sha1.Sum(b)
	return hex.EncodeToString(s[:])
}

// testStores returns the databases the registry tests run on: a SQLite file
// and, when KJDD_TEST_POSTGRES_URL is set, a PostgreSQL schema of its own.
func testStores(t *testing.T) map[string]string {
	t.Helper()
	dsns := map[string]string{"sqlite": "sqlite:" + filepath.Join(t.TempDir(), "kjdd.db")}
	base := os.Getenv("KJDD_TEST_POSTGRES_URL")
	if base == "" {
		return dsns
	}
	dsns["postgres"] = pgtest.Schema(t, base, "kjdd_regtest_")
	return dsns
}

func newTestRegistry(t *testing.T, dsn string) (*Registry, *store.Store) {
	t.Helper()
	st, err := store.Open(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	r := New(st, Options{
		HomeCommunityID:    homeOID,
		RepositoryUniqueID: ownRepo,
		Validation:         validate.DefaultOptions(validate.ITI41),
		Now:                func() time.Time { return fixedNow },
	}, nil, nil)
	return r, st
}

// builder makes Norwegian-profile-valid submissions with symbolic ids.
type builder struct {
	n   int
	sub *rim.Submission
}

var uidSeq = struct {
	sync.Mutex
	n int
}{}

func nextUID(kind string) string {
	uidSeq.Lock()
	defer uidSeq.Unlock()
	uidSeq.n++
	return fmt.Sprintf("2.25.99%s.%d", kind, uidSeq.n)
}

func newSubmission(patient string) *builder {
	ss := &rim.SubmissionSet{
		EntryUUID:       "SubmissionSet",
		UniqueID:        nextUID("1"),
		SourceID:        "2.25.99",
		PatientID:       patient,
		SubmissionTime:  "20261121110000",
		ContentTypeCode: rim.Code{Code: "A00-1", Scheme: "2.16.578.1.12.4.1.1.9602", Display: "Epikriser og sammenfatninger"},
		Authors:         []rim.Author{{Institutions: []string{"Demo sykehus HF^^^^^&2.16.578.1.12.4.1.4.101&ISO^^^^923456783"}}},
	}
	return &builder{sub: &rim.Submission{SubmissionSet: ss, SubmissionSets: 1}}
}

// doc adds a DocumentEntry (with content for ITI-41) and its membership,
// and returns the entry.
func (b *builder) doc(content string) *rim.DocumentEntry {
	b.n++
	id := fmt.Sprintf("Document%d", b.n)
	p := b.sub.SubmissionSet.PatientID
	de := &rim.DocumentEntry{
		EntryUUID: id, UniqueID: nextUID("2"), PatientID: p, SourcePatientID: p,
		ObjectType: rim.ObjectTypeStable, MimeType: "text/plain", Title: "Journalnotat",
		ClassCode:                  rim.Code{Code: "B00-1", Scheme: "2.16.578.1.12.4.1.1.9602", Display: "Kontinuerlig/løpende journal"},
		TypeCode:                   rim.Code{Code: "B02-2", Scheme: "2.16.578.1.12.4.1.1.9602", Display: "Journalnotat"},
		FormatCode:                 rim.Code{Code: "urn:ihe:iti:xds:2017:mimeTypeSufficient", Scheme: "1.3.6.1.4.1.19376.1.2.3"},
		HealthcareFacilityTypeCode: rim.Code{Code: "86.101", Scheme: "2.16.578.1.12.4.1.1.1303"},
		PracticeSettingCode:        rim.Code{Code: "S03", Scheme: "2.16.578.1.12.4.1.1.8655"},
		ConfidentialityCodes:       []rim.Code{{Code: "N", Scheme: "2.16.840.1.113883.5.25"}},
		Authors:                    []rim.Author{{Person: testAuthor}},
		CreationTime:               "20261120100000",
		LanguageCode:               "nb-NO",
		ExtraSlots:                 []rim.Slot{{Name: "urn:kjdd:test:extra", Values: []string{"kept"}}},
	}
	b.sub.DocumentEntries = append(b.sub.DocumentEntries, de)
	b.sub.Documents = append(b.sub.Documents, rim.Document{ID: id, Content: memBlob(content)})
	b.member(id)
	return de
}

// asITI42 drops the content and describes it in the metadata instead.
func (b *builder) asITI42() *builder {
	for _, d := range b.sub.Documents {
		for _, de := range b.sub.DocumentEntries {
			if de.EntryUUID == d.ID {
				rc, _ := d.Content.Open()
				c, _ := io.ReadAll(rc)
				de.Hash, de.Size, de.HasSize, de.RepositoryUniqueID = sha1Hex(c), int64(len(c)), true, epjRepo
			}
		}
	}
	b.sub.Documents = nil
	return b
}

func (b *builder) folder() *rim.Folder {
	b.n++
	f := &rim.Folder{
		EntryUUID: fmt.Sprintf("Folder%d", b.n), UniqueID: nextUID("3"), PatientID: b.sub.SubmissionSet.PatientID,
		Title: "Innleggelse", CodeList: []rim.Code{{Code: "B00-1", Scheme: "2.16.578.1.12.4.1.1.9602"}},
	}
	b.sub.Folders = append(b.sub.Folders, f)
	b.member(f.EntryUUID)
	return f
}

func (b *builder) member(target string) {
	b.assoc(rim.AssocHasMember, b.sub.SubmissionSet.EntryUUID, target).SubmissionSetStatus = "Original"
}

func (b *builder) assoc(typ, source, target string) *rim.Association {
	b.n++
	a := &rim.Association{EntryUUID: fmt.Sprintf("Association%d", b.n), Type: typ, Source: source, Target: target}
	b.sub.Associations = append(b.sub.Associations, a)
	return a
}

func mustRegister(t *testing.T, r *Registry, sub *rim.Submission, tx validate.Transaction) {
	t.Helper()
	if _, err := r.Register(context.Background(), sub, tx); err != nil {
		t.Fatalf("register: %v", err)
	}
}

// world is the registry state the failure cases start from.
type world struct {
	docA       *rim.DocumentEntry // patient A, Approved, content "original A"
	deprecated *rim.DocumentEntry // patient A, Deprecated (replaced by replacement)
	folderA    *rim.Folder
	ssA        *rim.SubmissionSet
	docB       *rim.DocumentEntry // patient B, Approved
	folderB    *rim.Folder
	docB42     *rim.DocumentEntry // patient B, registered by ITI-42
}

func seedWorld(t *testing.T, r *Registry) world {
	var w world
	b := newSubmission(patientA)
	w.docA = b.doc("original A")
	w.deprecated = b.doc("to be replaced")
	w.folderA = b.folder()
	w.ssA = b.sub.SubmissionSet
	mustRegister(t, r, b.sub, validate.ITI41)

	rb := newSubmission(patientA)
	repl := rb.doc("replacement")
	rb.assoc(rim.AssocRPLC, repl.EntryUUID, w.deprecated.EntryUUID)
	mustRegister(t, r, rb.sub, validate.ITI41)

	bb := newSubmission(patientB)
	w.docB = bb.doc("document of B")
	w.folderB = bb.folder()
	mustRegister(t, r, bb.sub, validate.ITI41)

	b42 := newSubmission(patientB)
	w.docB42 = b42.doc("held by the EPJ")
	mustRegister(t, r, b42.asITI42().sub, validate.ITI42)
	return w
}

// snapshot renders everything the registry holds for both patients, so
// that a failed registration can be shown to have changed nothing.
func snapshot(t *testing.T, st *store.Store, uniqueIDs []string) string {
	t.Helper()
	ctx := context.Background()
	var b strings.Builder
	var ids []string
	for _, p := range []string{patientA, patientB} {
		des, err := st.DocumentEntriesByPatient(ctx, p, nil)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range des {
			fmt.Fprintf(&b, "DE %s %s %s %s\n", e.EntryUUID, e.UniqueID, e.Status, e.Hash)
			ids = append(ids, e.EntryUUID)
		}
		sets, err := st.SubmissionSetsByPatient(ctx, p, nil)
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range sets {
			fmt.Fprintf(&b, "SS %s %s %s\n", s.EntryUUID, s.UniqueID, s.Status)
			ids = append(ids, s.EntryUUID)
		}
		fs, err := st.FoldersByPatient(ctx, p, nil)
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range fs {
			fmt.Fprintf(&b, "FD %s %s %s %s\n", f.EntryUUID, f.UniqueID, f.Status, f.LastUpdateTime)
			ids = append(ids, f.EntryUUID)
		}
	}
	as, err := st.AssociationsOf(ctx, ids)
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range as {
		fmt.Fprintf(&b, "AS %s %s %s %s %s\n", a.EntryUUID, a.Type, a.Source, a.Target, a.Status)
	}
	n, err := st.CountDocumentEntries(ctx)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(&b, "count %d\n", n)
	for _, uid := range uniqueIDs {
		_, _, err := st.ContentInfo(ctx, uid)
		fmt.Fprintf(&b, "content %s found=%v\n", uid, err == nil)
	}
	return b.String()
}

func codes(err error) []rim.ErrorCode {
	list, _ := rim.AsRegistryErrors(err)
	var out []rim.ErrorCode
	for _, e := range list {
		out = append(out, e.Code)
	}
	slices.Sort(out)
	return slices.Compact(out)
}

func TestRegisterRejects(t *testing.T) {
	tests := map[string]struct {
		tx    validate.Transaction
		build func(w world) *builder
		want  []rim.ErrorCode
	}{
		"invalid metadata": {
			tx: validate.ITI41,
			build: func(world) *builder {
				b := newSubmission(patientA)
				b.doc("x").ClassCode = rim.Code{}
				return b
			},
			want: []rim.ErrorCode{rim.XDSRegistryMetadataError},
		},
		"document without content": {
			tx: validate.ITI41,
			build: func(world) *builder {
				b := newSubmission(patientA)
				b.doc("x")
				b.sub.Documents = nil
				return b
			},
			want: []rim.ErrorCode{rim.XDSMissingDocument},
		},
		"submission set uniqueId already registered": {
			tx: validate.ITI41,
			build: func(w world) *builder {
				b := newSubmission(patientA)
				b.doc("x")
				b.sub.SubmissionSet.UniqueID = w.ssA.UniqueID
				return b
			},
			want: []rim.ErrorCode{rim.XDSDuplicateUniqueIDInRegistry},
		},
		"folder uniqueId already registered": {
			tx: validate.ITI41,
			build: func(w world) *builder {
				b := newSubmission(patientA)
				b.doc("x")
				b.folder().UniqueID = w.folderA.UniqueID
				return b
			},
			want: []rim.ErrorCode{rim.XDSDuplicateUniqueIDInRegistry},
		},
		"identical document already registered": {
			tx: validate.ITI41,
			build: func(w world) *builder {
				b := newSubmission(patientA)
				b.doc("original A").UniqueID = w.docA.UniqueID
				return b
			},
			want: []rim.ErrorCode{rim.XDSDuplicateUniqueIDInRegistry},
		},
		"document uniqueId registered with other content": {
			tx: validate.ITI41,
			build: func(w world) *builder {
				b := newSubmission(patientA)
				b.doc("changed content, longer").UniqueID = w.docA.UniqueID
				return b
			},
			want: []rim.ErrorCode{rim.XDSNonIdenticalHash, rim.XDSNonIdenticalSize},
		},
		"ITI-42 document registered with another hash of the same size": {
			tx: validate.ITI42,
			build: func(w world) *builder {
				b := newSubmission(patientB)
				b.doc("held by the EPJ").UniqueID = w.docB42.UniqueID
				b.asITI42()
				b.sub.DocumentEntries[0].Hash = sha1Hex([]byte("other"))
				return b
			},
			want: []rim.ErrorCode{rim.XDSNonIdenticalHash},
		},
		"ITI-42 document registered with another size": {
			tx: validate.ITI42,
			build: func(w world) *builder {
				b := newSubmission(patientB)
				b.doc("held by the EPJ").UniqueID = w.docB42.UniqueID
				b.asITI42()
				b.sub.DocumentEntries[0].Size++
				return b
			},
			want: []rim.ErrorCode{rim.XDSNonIdenticalSize},
		},
		"supplied hash differs from the content": {
			tx: validate.ITI41,
			build: func(world) *builder {
				b := newSubmission(patientA)
				b.doc("content").Hash = sha1Hex([]byte("something else"))
				return b
			},
			want: []rim.ErrorCode{rim.XDSRepositoryMetadataError},
		},
		"supplied size differs from the content": {
			tx: validate.ITI41,
			build: func(world) *builder {
				b := newSubmission(patientA)
				de := b.doc("content")
				de.Size, de.HasSize = 3, true
				return b
			},
			want: []rim.ErrorCode{rim.XDSRepositoryMetadataError},
		},
		"entryUUID already used in the registry": {
			tx: validate.ITI41,
			build: func(w world) *builder {
				b := newSubmission(patientA)
				de := b.doc("x")
				// Rename the symbolic id to a registered urn:uuid everywhere.
				for _, a := range b.sub.Associations {
					if a.Target == de.EntryUUID {
						a.Target = w.docA.EntryUUID
					}
				}
				b.sub.Documents[0].ID = w.docA.EntryUUID
				de.EntryUUID = w.docA.EntryUUID
				return b
			},
			want: []rim.ErrorCode{rim.XDSRegistryMetadataError},
		},
		"association to an object in neither submission nor registry": {
			tx: validate.ITI41,
			build: func(world) *builder {
				b := newSubmission(patientA)
				de := b.doc("x")
				b.assoc(rim.AssocAPND, de.EntryUUID, "urn:uuid:3f2c7e2a-0d7b-4c1e-9a55-000000000000")
				return b
			},
			want: []rim.ErrorCode{rim.XDSRegistryError},
		},
		"replacement of a deprecated document": {
			tx: validate.ITI41,
			build: func(w world) *builder {
				b := newSubmission(patientA)
				b.assoc(rim.AssocRPLC, b.doc("x").EntryUUID, w.deprecated.EntryUUID)
				return b
			},
			want: []rim.ErrorCode{rim.XDSRegistryDeprecatedDocumentError},
		},
		"transform of a deprecated document": {
			tx: validate.ITI41,
			build: func(w world) *builder {
				b := newSubmission(patientA)
				b.assoc(rim.AssocXFRM, b.doc("x").EntryUUID, w.deprecated.EntryUUID)
				return b
			},
			want: []rim.ErrorCode{rim.XDSRegistryDeprecatedDocumentError},
		},
		"two replacements of one document in one submission": {
			tx: validate.ITI41,
			build: func(w world) *builder {
				b := newSubmission(patientA)
				b.assoc(rim.AssocRPLC, b.doc("x").EntryUUID, w.docA.EntryUUID)
				b.assoc(rim.AssocXFRMRPLC, b.doc("y").EntryUUID, w.docA.EntryUUID)
				return b
			},
			want: []rim.ErrorCode{rim.XDSRegistryDeprecatedDocumentError},
		},
		"replacement of another patient's document": {
			tx: validate.ITI41,
			build: func(w world) *builder {
				b := newSubmission(patientA)
				b.assoc(rim.AssocRPLC, b.doc("x").EntryUUID, w.docB.EntryUUID)
				return b
			},
			want: []rim.ErrorCode{rim.XDSPatientIDDoesNotMatch},
		},
		"addendum to another patient's document": {
			tx: validate.ITI41,
			build: func(w world) *builder {
				b := newSubmission(patientA)
				b.assoc(rim.AssocAPND, b.doc("x").EntryUUID, w.docB.EntryUUID)
				return b
			},
			want: []rim.ErrorCode{rim.XDSPatientIDDoesNotMatch},
		},
		"replacement targets a folder": {
			tx: validate.ITI41,
			build: func(w world) *builder {
				b := newSubmission(patientA)
				b.assoc(rim.AssocRPLC, b.doc("x").EntryUUID, w.folderA.EntryUUID)
				return b
			},
			want: []rim.ErrorCode{rim.XDSRegistryMetadataError},
		},
		"deprecated document added to a folder": {
			tx: validate.ITI41,
			build: func(w world) *builder {
				b := newSubmission(patientA)
				b.doc("x")
				fa := b.assoc(rim.AssocHasMember, w.folderA.EntryUUID, w.deprecated.EntryUUID)
				b.member(fa.EntryUUID)
				return b
			},
			want: []rim.ErrorCode{rim.XDSRegistryDeprecatedDocumentError},
		},
		"deprecated document referenced by the submission set": {
			tx: validate.ITI41,
			build: func(w world) *builder {
				b := newSubmission(patientA)
				b.doc("x")
				b.assoc(rim.AssocHasMember, b.sub.SubmissionSet.EntryUUID, w.deprecated.EntryUUID).SubmissionSetStatus = "Reference"
				return b
			},
			want: []rim.ErrorCode{rim.XDSRegistryDeprecatedDocumentError},
		},
		"document added to another patient's folder": {
			tx: validate.ITI41,
			build: func(w world) *builder {
				b := newSubmission(patientA)
				fa := b.assoc(rim.AssocHasMember, w.folderB.EntryUUID, b.doc("x").EntryUUID)
				b.member(fa.EntryUUID)
				return b
			},
			want: []rim.ErrorCode{rim.XDSPatientIDDoesNotMatch},
		},
		"another patient's document referenced by the submission set": {
			tx: validate.ITI41,
			build: func(w world) *builder {
				b := newSubmission(patientA)
				b.doc("x")
				b.assoc(rim.AssocHasMember, b.sub.SubmissionSet.EntryUUID, w.docB.EntryUUID).SubmissionSetStatus = "Reference"
				return b
			},
			want: []rim.ErrorCode{rim.XDSPatientIDDoesNotMatch},
		},
	}
	for name, dsn := range testStores(t) {
		t.Run(name, func(t *testing.T) {
			r, st := newTestRegistry(t, dsn)
			w := seedWorld(t, r)
			for name, tc := range tests {
				t.Run(name, func(t *testing.T) {
					b := tc.build(w)
					var uids []string
					for _, de := range b.sub.DocumentEntries {
						uids = append(uids, de.UniqueID)
					}
					before := snapshot(t, st, uids)
					warnings, err := r.Register(context.Background(), b.sub, tc.tx)
					if err == nil {
						t.Fatalf("registered; want %v", tc.want)
					}
					if got := codes(err); !slices.Equal(got, tc.want) {
						t.Fatalf("codes %v (%v), want %v", got, err, tc.want)
					}
					if warnings != nil {
						t.Fatalf("warnings with an error: %v", warnings)
					}
					if strings.Contains(err.Error(), "13116900216") || strings.Contains(err.Error(), "12119000465") {
						t.Fatalf("error names a national identity number: %v", err)
					}
					if after := snapshot(t, st, uids); after != before {
						t.Fatalf("registry changed:\nbefore:\n%s\nafter:\n%s", before, after)
					}
				})
			}
		})
	}
}

func TestRegisterITI41StoresContent(t *testing.T) {
	ctx := context.Background()
	for name, dsn := range testStores(t) {
		t.Run(name, func(t *testing.T) {
			r, st := newTestRegistry(t, dsn)
			content := strings.Repeat("Epikrise. ", 40000) // several store chunks
			tests := map[string]func(de *rim.DocumentEntry){
				"nothing supplied": func(*rim.DocumentEntry) {},
				"matching hash and size": func(de *rim.DocumentEntry) {
					de.Hash, de.Size, de.HasSize = sha1Hex([]byte(content)), int64(len(content)), true
				},
				"upper-case hash":             func(de *rim.DocumentEntry) { de.Hash = strings.ToUpper(sha1Hex([]byte(content))) },
				"foreign repository replaced": func(de *rim.DocumentEntry) { de.RepositoryUniqueID = epjRepo },
			}
			for name, mutate := range tests {
				t.Run(name, func(t *testing.T) {
					b := newSubmission(patientA)
					de := b.doc(content)
					mutate(de)
					warnings, err := r.Register(ctx, b.sub, validate.ITI41)
					if err != nil || len(warnings) != 0 {
						t.Fatalf("register: %v, warnings %v", err, warnings)
					}
					got, err := st.DocumentEntries(ctx, query.Lookup{UniqueIDs: []string{de.UniqueID}})
					if err != nil || len(got) != 1 {
						t.Fatalf("stored: %v %v", got, err)
					}
					e := got[0]
					if !strings.EqualFold(e.Hash, sha1Hex([]byte(content))) || e.Size != int64(len(content)) || !e.HasSize {
						t.Fatalf("hash %s size %d hasSize %v", e.Hash, e.Size, e.HasSize)
					}
					if e.Hash != sha1Hex([]byte(content)) && name != "upper-case hash" {
						t.Fatalf("hash %s is not the computed lower-case one", e.Hash)
					}
					if e.RepositoryUniqueID != ownRepo || e.Status != rim.StatusApproved || e.Version != "1" ||
						e.LogicalID != e.EntryUUID || !hl7.IsURNUUID(e.EntryUUID) {
						t.Fatalf("registered as %+v", e)
					}
					if len(e.ExtraSlots) != 1 || e.ExtraSlots[0].Values[0] != "kept" {
						t.Fatalf("extra slots lost: %+v", e.ExtraSlots)
					}
					rc, err := st.OpenContent(ctx, de.UniqueID)
					if err != nil {
						t.Fatal(err)
					}
					back, _ := io.ReadAll(rc)
					_ = rc.Close()
					if string(back) != content {
						t.Fatalf("content differs: %d bytes", len(back))
					}
				})
			}
		})
	}
}

func TestRegisterITI42KeepsRepository(t *testing.T) {
	ctx := context.Background()
	r, st := newTestRegistry(t, testStores(t)["sqlite"])
	b := newSubmission(patientB)
	de := b.doc("in the EPJ")
	b.asITI42()
	mustRegister(t, r, b.sub, validate.ITI42)
	got, err := st.DocumentEntries(ctx, query.Lookup{UniqueIDs: []string{de.UniqueID}})
	if err != nil || len(got) != 1 {
		t.Fatalf("stored: %v %v", got, err)
	}
	if got[0].RepositoryUniqueID != epjRepo || got[0].Hash != sha1Hex([]byte("in the EPJ")) {
		t.Fatalf("registered as %+v", got[0])
	}
	if _, err := st.OpenContent(ctx, de.UniqueID); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("content stored for ITI-42: %v", err)
	}
}

func TestRegisterRelationships(t *testing.T) {
	ctx := context.Background()
	tests := map[string]struct {
		typ            string
		wantDeprecated bool
	}{
		"replace deprecates":                {typ: rim.AssocRPLC, wantDeprecated: true},
		"transform and replace deprecates":  {typ: rim.AssocXFRMRPLC, wantDeprecated: true},
		"transform keeps the original":      {typ: rim.AssocXFRM},
		"addendum keeps the original":       {typ: rim.AssocAPND},
		"signature keeps the signed object": {typ: rim.AssocSigns},
	}
	for name, dsn := range testStores(t) {
		t.Run(name, func(t *testing.T) {
			r, st := newTestRegistry(t, dsn)
			for name, tc := range tests {
				t.Run(name, func(t *testing.T) {
					orig := newSubmission(patientA)
					original := orig.doc("version 1")
					mustRegister(t, r, orig.sub, validate.ITI41)

					next := newSubmission(patientA)
					nd := next.doc("version 2")
					next.assoc(tc.typ, nd.EntryUUID, original.EntryUUID)
					mustRegister(t, r, next.sub, validate.ITI41)

					got, err := st.DocumentEntries(ctx, query.Lookup{UniqueIDs: []string{original.UniqueID, nd.UniqueID}})
					if err != nil || len(got) != 2 {
						t.Fatalf("entries: %v %v", got, err)
					}
					wantOriginal := rim.StatusApproved
					if tc.wantDeprecated {
						wantOriginal = rim.StatusDeprecated
					}
					if got[0].Status != wantOriginal || got[1].Status != rim.StatusApproved {
						t.Fatalf("original %s, new %s; want %s and Approved", got[0].Status, got[1].Status, wantOriginal)
					}
					as, err := st.AssociationsOf(ctx, []string{original.EntryUUID})
					if err != nil {
						t.Fatal(err)
					}
					found := false
					for _, a := range as {
						found = found || (a.Type == tc.typ && a.Source == nd.EntryUUID && a.Status == rim.StatusApproved)
					}
					if !found {
						t.Fatalf("association not stored: %+v", as)
					}
				})
			}
		})
	}
}

func TestRegisterAddsToExistingFolder(t *testing.T) {
	ctx := context.Background()
	r, st := newTestRegistry(t, testStores(t)["sqlite"])
	first := newSubmission(patientA)
	f := first.folder()
	first.doc("x")
	r.opts.Now = func() time.Time { return fixedNow.Add(-time.Hour) }
	mustRegister(t, r, first.sub, validate.ITI41)

	r.opts.Now = func() time.Time { return fixedNow }
	next := newSubmission(patientA)
	de := next.doc("y")
	fa := next.assoc(rim.AssocHasMember, f.EntryUUID, de.EntryUUID)
	next.member(fa.EntryUUID)
	mustRegister(t, r, next.sub, validate.ITI41)

	got, err := st.Folders(ctx, query.Lookup{EntryUUIDs: []string{f.EntryUUID}})
	if err != nil || len(got) != 1 {
		t.Fatalf("folder: %v %v", got, err)
	}
	if want := fixedNow.Format(dtmLayout); got[0].LastUpdateTime != want {
		t.Fatalf("lastUpdateTime %s, want %s", got[0].LastUpdateTime, want)
	}
}

// TestRegisterConcurrentReplacements races two replacements of one document:
// exactly one may win, the other must find it Deprecated.
func TestRegisterConcurrentReplacements(t *testing.T) {
	ctx := context.Background()
	for name, dsn := range testStores(t) {
		t.Run(name, func(t *testing.T) {
			r, _ := newTestRegistry(t, dsn)
			st2, err := store.Open(ctx, dsn) // a second kjdd instance
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = st2.Close() })
			r2 := New(st2, r.opts, nil, nil)

			for round := range 5 {
				orig := newSubmission(patientA)
				original := orig.doc(fmt.Sprintf("round %d", round))
				mustRegister(t, r, orig.sub, validate.ITI41)
				var wg sync.WaitGroup
				errs := make([]error, 2)
				for i, reg := range []*Registry{r, r2} {
					b := newSubmission(patientA)
					b.assoc(rim.AssocRPLC, b.doc(fmt.Sprintf("replacement %d", i)).EntryUUID, original.EntryUUID)
					wg.Go(func() { _, errs[i] = reg.Register(ctx, b.sub, validate.ITI41) })
				}
				wg.Wait()
				ok, deprecated := 0, 0
				for _, err := range errs {
					switch {
					case err == nil:
						ok++
					case slices.Equal(codes(err), []rim.ErrorCode{rim.XDSRegistryDeprecatedDocumentError}):
						deprecated++
					default:
						t.Fatalf("round %d: unexpected error %v", round, err)
					}
				}
				if ok != 1 || deprecated != 1 {
					t.Fatalf("round %d: %d succeeded, %d deprecated; want 1 and 1", round, ok, deprecated)
				}
			}
		})
	}
}
