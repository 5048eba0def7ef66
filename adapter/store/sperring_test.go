package store

import (
	"bytes"
	"context"
	"errors"
	"os"
	"regexp"
	"sync"
	"testing"
	"time"

	"kjdd/consent"
	"kjdd/xds/rim"
)

const (
	sperringPatient      = "13116900216"
	sperringOtherPatient = "12119000465"
)

func sperringKeys(seed byte) SperringKeys {
	return SperringKeys{Index: bytes.Repeat([]byte{seed}, 32), Seal: bytes.Repeat([]byte{seed + 1}, 32)}
}

func openSperring(t *testing.T, s *Store, keys SperringKeys) *SperringRecords {
	t.Helper()
	r, err := s.SperringRecords(context.Background(), keys)
	if err != nil {
		t.Fatalf("sperring records: %v", err)
	}
	return r
}

func mustCreate(t *testing.T, r *SperringRecords, rec consent.Sperring) consent.Sperring {
	t.Helper()
	got, err := r.Create(context.Background(), rec)
	if err != nil {
		t.Fatalf("create %s: %v", rec.Kind, err)
	}
	return got
}

func mustInputs(t *testing.T, r *SperringRecords, patient string) consent.Inputs {
	t.Helper()
	in, err := r.Inputs(context.Background(), patient)
	if err != nil {
		t.Fatalf("inputs: %v", err)
	}
	return in
}

func TestSperringRecordsLifecycle(t *testing.T) {
	ctx := context.Background()
	for _, b := range backends(t) {
		t.Run(b.name, func(t *testing.T) {
			r := openSperring(t, b.open(t), sperringKeys(1))
			if in := mustInputs(t, r, sperringPatient); in.Version != 0 || len(in.Records) != 0 || in.Patient != sperringPatient {
				t.Fatalf("fresh patient: %+v, want version 0 and no records", in)
			}
			doc := mustCreate(t, r, consent.Sperring{Patient: sperringPatient, Kind: consent.KindDocument, DocumentUniqueID: "2.25.1000.1", Reason: "pasientens ønske", CreatedBy: "epj"})
			hpr := mustCreate(t, r, consent.Sperring{Patient: sperringPatient, Kind: consent.KindPractitioner, HPRNumber: "565505933"})
			mustCreate(t, r, consent.Sperring{Patient: sperringOtherPatient, Kind: consent.KindPatient})
			if doc.ID == "" || doc.ID == hpr.ID || doc.CreatedAt.IsZero() {
				t.Fatalf("created records lack distinct ids or a time: %+v %+v", doc, hpr)
			}

			in := mustInputs(t, r, sperringPatient)
			if in.Version != 2 || len(in.Records) != 2 {
				t.Fatalf("after two creates: version %d, %d records; want 2, 2", in.Version, len(in.Records))
			}
			if in.Records[0] != doc || in.Records[1] != hpr {
				t.Fatalf("inputs records differ from the created ones:\n got %+v\nwant %+v", in.Records, []consent.Sperring{doc, hpr})
			}
			found, err := r.Search(ctx, sperringPatient)
			if err != nil || len(found) != 2 || found[0].ID != doc.ID {
				t.Fatalf("search: %v, %+v", err, found)
			}

			patient, err := r.Delete(ctx, doc.ID)
			if err != nil || patient != sperringPatient {
				t.Fatalf("delete: patient %q, %v", patient, err)
			}
			if _, err := r.Delete(ctx, doc.ID); !errors.Is(err, ErrNotFound) {
				t.Fatalf("second delete: %v, want ErrNotFound", err)
			}
			if _, err := r.Delete(ctx, "spr-unknown"); !errors.Is(err, ErrNotFound) {
				t.Fatalf("delete of an unknown id: %v, want ErrNotFound", err)
			}
			if _, err := r.Delete(ctx, hpr.ID); err != nil {
				t.Fatal(err)
			}
			in = mustInputs(t, r, sperringPatient)
			if in.Version != 4 || len(in.Records) != 0 {
				t.Fatalf("after deleting every record: version %d, %d records; want 4, 0", in.Version, len(in.Records))
			}
			if other := mustInputs(t, r, sperringOtherPatient); other.Version != 1 || len(other.Records) != 1 {
				t.Fatalf("other patient changed: %+v", other)
			}
			if err := r.Ready(ctx); err != nil {
				t.Fatalf("ready: %v", err)
			}
		})
	}
}

func TestSperringRecordsRefuseInvalid(t *testing.T) {
	r := openSperring(t, backends(t)[1].open(t), sperringKeys(1))
	cases := map[string]consent.Sperring{
		"id set by the caller":           {ID: "spr-mine", Patient: sperringPatient, Kind: consent.KindPatient},
		"patient not normalised":         {Patient: sperringPatient + "^^^&2.16.578.1.12.4.1.4.1&ISO", Kind: consent.KindPatient},
		"patient too short":              {Patient: "1311690021", Kind: consent.KindPatient},
		"document without uniqueId":      {Patient: sperringPatient, Kind: consent.KindDocument},
		"practitioner without HPR":       {Patient: sperringPatient, Kind: consent.KindPractitioner},
		"practitioner with a letter HPR": {Patient: sperringPatient, Kind: consent.KindPractitioner, HPRNumber: "56550593x"},
		"unknown kind":                   {Patient: sperringPatient, Kind: "everything"},
		"control character in reason":    {Patient: sperringPatient, Kind: consent.KindPatient, Reason: "a\nb"},
	}
	digits := regexp.MustCompile(`\d{10,}`)
	for name, rec := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := r.Create(context.Background(), rec)
			if !errors.Is(err, consent.ErrInvalid) {
				t.Fatalf("create: %v, want consent.ErrInvalid", err)
			}
			if digits.MatchString(err.Error()) {
				t.Fatalf("error quotes an identity number: %v", err)
			}
		})
	}
	if in := mustInputs(t, r, sperringPatient); in.Version != 0 {
		t.Fatalf("refused creates changed the version to %d", in.Version)
	}
	for _, p := range []string{"", "1311690021", "131169 00216"} {
		if _, err := r.Inputs(context.Background(), p); !errors.Is(err, consent.ErrInvalid) {
			t.Errorf("inputs of %q: %v, want consent.ErrInvalid", p, err)
		}
	}
}

// TestSperringPatientNeverInClear reads every byte SQLite wrote and every
// column of the sperring tables: the identity number must not be there.
func TestSperringPatientNeverInClear(t *testing.T) {
	ctx := context.Background()
	b := fileBackends(t)[0]
	s := b.open(t)
	r := openSperring(t, s, sperringKeys(7))
	for _, kind := range []consent.Kind{consent.KindPatient, consent.KindPractitioner} {
		rec := consent.Sperring{Patient: sperringPatient, Kind: kind}
		if kind == consent.KindPractitioner {
			rec.HPRNumber = "1234567"
		}
		mustCreate(t, r, rec)
	}
	rows, err := s.db.QueryContext(ctx, `SELECT id, patient_key, patient_sealed, kind, document_unique_id, hpr_number, reason, created_at, created_by FROM sperring_records`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	n := 0
	for rows.Next() {
		cols := make([]string, 9)
		ptrs := make([]any, len(cols))
		for i := range cols {
			ptrs[i] = &cols[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		for _, c := range cols {
			if bytes.Contains([]byte(c), []byte(sperringPatient)) {
				t.Fatalf("a sperring column holds the patient in clear: %q", c)
			}
		}
		n++
	}
	if n != 2 {
		t.Fatalf("%d rows, want 2", n)
	}
	_ = s.Close()
	path := b.dsn[len("sqlite:"):]
	for _, f := range []string{path, path + "-wal"} {
		raw, err := os.ReadFile(f)
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		if bytes.Contains(raw, []byte(sperringPatient)) {
			t.Fatalf("%s holds the patient in clear", f)
		}
	}
}

func TestSperringRecordsRefuseAnotherKey(t *testing.T) {
	for _, b := range fileBackends(t) {
		t.Run(b.name, func(t *testing.T) {
			s := b.open(t)
			r := openSperring(t, s, sperringKeys(1))
			mustCreate(t, r, consent.Sperring{Patient: sperringPatient, Kind: consent.KindPatient})
			if _, err := b.open(t).SperringRecords(context.Background(), sperringKeys(2)); !errors.Is(err, ErrSperringKeyChanged) {
				t.Fatalf("open under another index key: %v, want ErrSperringKeyChanged", err)
			}
			// Same index key, another instance: fine.
			again := openSperring(t, b.open(t), sperringKeys(1))
			if in := mustInputs(t, again, sperringPatient); len(in.Records) != 1 {
				t.Fatalf("second instance sees %d records, want 1", len(in.Records))
			}
		})
	}
}

func TestSperringKeysRefused(t *testing.T) {
	s := backends(t)[1].open(t)
	cases := map[string]SperringKeys{
		"short index key": {Index: []byte("short"), Seal: bytes.Repeat([]byte{1}, 32)},
		"no seal key":     {Index: bytes.Repeat([]byte{1}, 32)},
		"short seal key":  {Index: bytes.Repeat([]byte{1}, 32), Seal: bytes.Repeat([]byte{1}, 16)},
	}
	for name, keys := range cases {
		t.Run(name, func(t *testing.T) {
			if _, err := s.SperringRecords(context.Background(), keys); err == nil {
				t.Fatal("keys accepted")
			}
		})
	}
}

// TestSperringVersionsUnderConcurrency changes one patient's records from
// two instances at once: every change must count, and a reader must never
// see the version go back.
func TestSperringVersionsUnderConcurrency(t *testing.T) {
	ctx := context.Background()
	for _, b := range fileBackends(t) {
		t.Run(b.name, func(t *testing.T) {
			a := openSperring(t, b.open(t), sperringKeys(3))
			c := openSperring(t, b.open(t), sperringKeys(3))
			const perWriter = 15
			var wg sync.WaitGroup
			errs := make(chan error, 4)
			for _, r := range []*SperringRecords{a, c} {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for range perWriter {
						rec, err := r.Create(ctx, consent.Sperring{Patient: sperringPatient, Kind: consent.KindPatient})
						if err == nil {
							_, err = r.Delete(ctx, rec.ID)
						}
						if err != nil {
							errs <- err
							return
						}
					}
				}()
			}
			stop := make(chan struct{})
			readerDone := make(chan struct{})
			go func() {
				defer close(readerDone)
				var last int64
				for {
					select {
					case <-stop:
						return
					default:
					}
					in, err := c.Inputs(ctx, sperringPatient)
					if err != nil {
						errs <- err
						return
					}
					if in.Version < last {
						errs <- errors.New("version went back")
						return
					}
					last = in.Version
					time.Sleep(time.Millisecond)
				}
			}()
			wg.Wait()
			close(stop)
			<-readerDone
			close(errs)
			for err := range errs {
				t.Fatal(err)
			}
			if in := mustInputs(t, a, sperringPatient); in.Version != 4*perWriter || len(in.Records) != 0 {
				t.Fatalf("version %d with %d records, want %d and 0", in.Version, len(in.Records), 4*perWriter)
			}
		})
	}
}

// TestSperringDocumentRecordsMatchTheRegistry: a document record is stored
// with its canonical uniqueId and checked against the registry's
// documents, which keep their uniqueIds as registered (bare or urn:oid:):
// another patient's document is refused, the patient's own (in either
// spelling) and one not registered yet are accepted, and Blocks says which.
func TestSperringDocumentRecordsMatchTheRegistry(t *testing.T) {
	ctx := context.Background()
	for _, b := range backends(t) {
		t.Run(b.name, func(t *testing.T) {
			s := b.open(t)
			own, urn, foreign := entry(1, testPatient, rim.StatusApproved), entry(2, testPatient, rim.StatusDeprecated), entry(3, testOtherPatient, rim.StatusApproved)
			urn.UniqueID = "urn:oid:" + urn.UniqueID
			mustRegister(t, s, func(tx *Tx) error {
				for _, e := range []*rim.DocumentEntry{own, urn, foreign} {
					if err := tx.InsertDocumentEntry(ctx, e); err != nil {
						return err
					}
				}
				return nil
			})
			r := openSperring(t, s, sperringKeys(1))
			const patient = sperringPatient
			registered := func(uid string, want bool) {
				t.Helper()
				rec := mustCreate(t, r, consent.Sperring{Patient: patient, Kind: consent.KindDocument, DocumentUniqueID: uid})
				if rec.DocumentUniqueID != consent.CanonicalUniqueID(uid) {
					t.Errorf("stored uniqueId %q, want %q", rec.DocumentUniqueID, consent.CanonicalUniqueID(uid))
				}
				bl, err := r.Blocks(ctx, rec)
				if err != nil || bl.Registered == nil || *bl.Registered != want || bl.DocumentUniqueID != rec.DocumentUniqueID {
					t.Errorf("Blocks of %q: %+v, %v; want registered %v", uid, bl, err, want)
				}
			}
			registered(own.UniqueID, true)
			registered("urn:oid:"+own.UniqueID, true)
			registered(consent.CanonicalUniqueID(urn.UniqueID), true)
			registered("2.25.1000.99", false)
			for _, uid := range []string{foreign.UniqueID, "URN:OID:" + foreign.UniqueID} {
				if _, err := r.Create(ctx, consent.Sperring{Patient: patient, Kind: consent.KindDocument, DocumentUniqueID: uid}); !errors.Is(err, consent.ErrOtherPatientsDocument) {
					t.Errorf("a record naming another patient's document %q: %v, want ErrOtherPatientsDocument", uid, err)
				}
			}
			if in := mustInputs(t, r, patient); len(in.Records) != 4 {
				t.Errorf("%d records stored, want the 4 accepted", len(in.Records))
			}
		})
	}
}
