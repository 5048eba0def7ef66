package registry

import (
	"bytes"
	"context"
	"reflect"
	"strings"
	"testing"

	"github.com/beevik/etree"

	"kjdd/adapter/access"
	"kjdd/adapter/store"
	"kjdd/consent"
	"kjdd/helseid"
	"kjdd/xds/query"
	"kjdd/xds/rim"
)

// callerAs stands in for HelseID: every request is the same practitioner's.
type callerAs struct{ p *helseid.Principal }

func (a callerAs) Authenticate(_ context.Context, cred access.Credentials) (*access.Caller, error) {
	return &access.Caller{Transaction: cred.Transaction, Principal: a.p}, nil
}

// TestSharedObjectsStayUnchanged: a Store hands out its cached objects
// themselves, not copies (store/cache.go), so nothing that reads them may
// change them. Every stored query runs through the real sperring gate (one
// document blocked and shown masked, one patient blocked) and its result
// is rendered as LeafClass and ObjectRef; afterwards the objects the cache
// serves must equal fresh decodes by a store without a cache.
func TestSharedObjectsStayUnchanged(t *testing.T) {
	ctx := context.Background()
	for name, dsn := range testStores(t) {
		t.Run(name, func(t *testing.T) {
			r, st := newTestRegistry(t, dsn)
			w := seedWorld(t, r)
			recs, err := st.SperringRecords(ctx, store.SperringKeys{Index: bytes.Repeat([]byte{1}, 32), Seal: bytes.Repeat([]byte{2}, 32)})
			if err != nil {
				t.Fatal(err)
			}
			for _, rec := range []consent.Sperring{
				{Patient: "13116900216", Kind: consent.KindDocument, DocumentUniqueID: w.docA.UniqueID},
				{Patient: "12119000465", Kind: consent.KindPatient},
			} {
				if _, err := recs.Create(ctx, rec); err != nil {
					t.Fatal(err)
				}
			}
			policy := access.PatientBound{Next: access.Sperring{
				Resolver: consent.NewResolver(recs, consent.NewMemoryCache(0, 0), consent.ResolverSettings{}),
				Policy: consent.Policy{OverridePurposes: consent.DefaultOverridePurposes,
					Visibility: consent.VisibilityObfuscate, ObfuscationKey: bytes.Repeat([]byte{9}, 32)},
			}}
			gated := New(st, r.opts, nil, access.Compose(callerAs{&helseid.Principal{
				Kind: helseid.TokenJWTUser, HPRNumber: "565501872", Purpose: helseid.Code{Code: "TREAT"},
			}}, policy))

			ids := registeredIDs(t, st)
			writer := rim.NewWriter(rim.WriterConfig{FragmentCacheBytes: rim.DefaultFragmentCacheBytes})
			masked := 0
			for _, q := range everyStoredQuery(ids) {
				for _, rt := range []string{rim.ReturnLeafClass, rim.ReturnObjectRef} {
					sq := parseQuery(t, q, rt)
					res, err := gated.Query(ctx, access.Credentials{Transaction: access.ITI18}, sq)
					if err != nil {
						if _, ok := rim.AsRegistryErrors(err); !ok {
							t.Fatalf("%s: %v", sq.Name, err)
						}
						continue
					}
					for _, de := range res.DocumentEntries {
						if de.Title == consent.MaskedTitle {
							masked++
						}
					}
					writer.AppendAdhocQueryResponse(nil, res, rt, "", nil)
				}
			}
			if masked == 0 {
				t.Fatal("no query listed the blocked document masked: the obfuscating path was not run")
			}

			fresh, err := store.Open(ctx, dsn, store.WithObjectCache(0))
			if err != nil {
				t.Fatal(err)
			}
			defer fresh.Close()
			for _, p := range []string{patientA, patientB} {
				sameObjects(t, "DocumentEntries", p, st.DocumentEntriesByPatient, fresh.DocumentEntriesByPatient)
				sameObjects(t, "SubmissionSets", p, st.SubmissionSetsByPatient, fresh.SubmissionSetsByPatient)
				sameObjects(t, "Folders", p, st.FoldersByPatient, fresh.FoldersByPatient)
			}
			cached, err := st.AssociationsOf(ctx, ids.all())
			if err != nil {
				t.Fatal(err)
			}
			decoded, err := fresh.AssociationsOf(ctx, ids.all())
			if err != nil {
				t.Fatal(err)
			}
			if len(cached) == 0 || !reflect.DeepEqual(cached, decoded) {
				t.Fatalf("associations served from the cache differ from a fresh read:\n%+v\n%+v", cached, decoded)
			}
			again, err := st.DocumentEntriesByPatient(ctx, patientA, nil)
			if err != nil || len(again) == 0 {
				t.Fatal(err)
			}
			if first, _ := st.DocumentEntriesByPatient(ctx, patientA, nil); first[0] != again[0] {
				t.Fatal("the store did not serve shared objects: this test checks nothing")
			}
		})
	}
}

// sameObjects holds a patient's objects as the cached store serves them to
// a fresh decode.
func sameObjects[T any](t *testing.T, what, patient string, cached, fresh func(context.Context, string, []string) ([]T, error)) {
	t.Helper()
	c, err := cached(context.Background(), patient, nil)
	if err != nil {
		t.Fatal(err)
	}
	f, err := fresh(context.Background(), patient, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(c) == 0 || !reflect.DeepEqual(c, f) {
		t.Fatalf("%s served from the cache differ from a fresh read:\n%+v\n%+v", what, c, f)
	}
}

// worldIDs are the entryUUIDs of everything registered.
type worldIDs struct{ docs, sets, folders []string }

func (w worldIDs) all() []string {
	return append(append(append([]string(nil), w.docs...), w.sets...), w.folders...)
}

func registeredIDs(t *testing.T, st *store.Store) worldIDs {
	t.Helper()
	ctx := context.Background()
	var ids worldIDs
	for _, p := range []string{patientA, patientB} {
		des, err := st.DocumentEntriesByPatient(ctx, p, nil)
		if err != nil {
			t.Fatal(err)
		}
		for _, de := range des {
			ids.docs = append(ids.docs, de.EntryUUID)
		}
		sss, err := st.SubmissionSetsByPatient(ctx, p, nil)
		if err != nil {
			t.Fatal(err)
		}
		for _, ss := range sss {
			ids.sets = append(ids.sets, ss.EntryUUID)
		}
		fs, err := st.FoldersByPatient(ctx, p, nil)
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range fs {
			ids.folders = append(ids.folders, f.EntryUUID)
		}
	}
	return ids
}

// everyStoredQuery is one request of each of the fourteen stored queries
// over the world's objects: query id and slots.
func everyStoredQuery(ids worldIDs) []storedQueryCall {
	list := func(vs ...string) string { return "('" + strings.Join(vs, "','") + "')" }
	statuses := list(rim.StatusApproved, rim.StatusDeprecated)
	var out []storedQueryCall
	for _, p := range []string{patientA, patientB} {
		pid := "'" + p + "'"
		out = append(out,
			storedQueryCall{query.QueryFindDocuments, [][2]string{{"$XDSDocumentEntryPatientId", pid}, {"$XDSDocumentEntryStatus", statuses}}},
			storedQueryCall{query.QueryFindSubmissionSets, [][2]string{{"$XDSSubmissionSetPatientId", pid}, {"$XDSSubmissionSetStatus", statuses}}},
			storedQueryCall{query.QueryFindFolders, [][2]string{{"$XDSFolderPatientId", pid}, {"$XDSFolderStatus", statuses}}},
			storedQueryCall{query.QueryGetAll, [][2]string{{"$patientId", pid}, {"$XDSDocumentEntryStatus", statuses},
				{"$XDSSubmissionSetStatus", statuses}, {"$XDSFolderStatus", statuses}}},
			storedQueryCall{query.QueryFindDocumentsByReferenceID, [][2]string{{"$XDSDocumentEntryPatientId", pid},
				{"$XDSDocumentEntryStatus", statuses}, {"$XDSDocumentEntryReferenceIdList", "('ref^^^^urn:ihe:iti:xds:2013:order')"}}},
		)
	}
	for _, d := range ids.docs {
		out = append(out,
			storedQueryCall{query.QueryGetDocuments, [][2]string{{"$XDSDocumentEntryEntryUUID", list(d)}}},
			storedQueryCall{query.QueryGetDocumentsAndAssociations, [][2]string{{"$XDSDocumentEntryEntryUUID", list(d)}}},
			storedQueryCall{query.QueryGetFoldersForDocument, [][2]string{{"$XDSDocumentEntryEntryUUID", "'" + d + "'"}}},
			storedQueryCall{query.QueryGetRelatedDocuments, [][2]string{{"$XDSDocumentEntryEntryUUID", "'" + d + "'"},
				{"$AssociationTypes", list(rim.AssocRPLC, rim.AssocAPND, rim.AssocXFRM)}}},
			storedQueryCall{query.QueryGetAssociations, [][2]string{{"$uuid", list(d)}}},
			storedQueryCall{query.QueryGetSubmissionSets, [][2]string{{"$uuid", list(d)}}},
		)
	}
	for _, s := range ids.sets {
		out = append(out, storedQueryCall{query.QueryGetSubmissionSetAndContents, [][2]string{{"$XDSSubmissionSetEntryUUID", "'" + s + "'"}}})
	}
	for _, f := range ids.folders {
		out = append(out,
			storedQueryCall{query.QueryGetFolders, [][2]string{{"$XDSFolderEntryUUID", list(f)}}},
			storedQueryCall{query.QueryGetFolderAndContents, [][2]string{{"$XDSFolderEntryUUID", "'" + f + "'"}}},
		)
	}
	return out
}

type storedQueryCall struct {
	id    string
	slots [][2]string // name, value as written in rim:Value
}

// parseQuery reads the call as the AdhocQueryRequest a consumer would send.
func parseQuery(t *testing.T, c storedQueryCall, returnType string) *query.StoredQuery {
	t.Helper()
	var b strings.Builder
	b.WriteString(`<query:AdhocQueryRequest xmlns:query="urn:oasis:names:tc:ebxml-regrep:xsd:query:3.0" xmlns:rim="urn:oasis:names:tc:ebxml-regrep:xsd:rim:3.0">`)
	b.WriteString(`<query:ResponseOption returnComposedObjects="true" returnType="` + returnType + `"/><rim:AdhocQuery id="` + c.id + `">`)
	for _, s := range c.slots {
		b.WriteString(`<rim:Slot name="` + s[0] + `"><rim:ValueList><rim:Value>` + strings.ReplaceAll(s[1], "&", "&amp;") + `</rim:Value></rim:ValueList></rim:Slot>`)
	}
	b.WriteString(`</rim:AdhocQuery></query:AdhocQueryRequest>`)
	doc := etree.NewDocument()
	if err := doc.ReadFromString(b.String()); err != nil {
		t.Fatal(err)
	}
	q, err := query.ParseAdhocQueryRequest(doc.Root())
	if err != nil {
		t.Fatalf("query %s: %v", c.id, err)
	}
	return q
}
