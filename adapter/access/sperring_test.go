package access

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"kjdd/adapter/store"
	"kjdd/consent"
	"kjdd/helseid"
	"kjdd/xds/rim"
)

// Synthetic identity numbers (NHN's PJD test data), never real people.
const (
	patientA = "13116900216" // blocked: document record on a-2, practitioner 111
	patientB = "12119000465" // blocked: patient level
	patientC = "17855599120" // no records
	hprBlock = "111"
	hprOther = "222"
)

// foreignPatient is an id of another assigning authority (IHE test data):
// no sperring record can name it.
const foreignPatient = "1ce3e4ad1f0f4a6^^^&1.3.6.1.4.1.21367.2005.13.20.1000&ISO"

func cx(n string) string { return n + "^^^&2.16.578.1.12.4.1.4.1&ISO" }

var norsCode = rim.Code{Code: "NORS", Scheme: "2.16.578.1.12.4.1.1.9603"}

func doc(uid, patient string, conf ...rim.Code) *rim.DocumentEntry {
	if len(conf) == 0 {
		conf = []rim.Code{{Code: "N", Scheme: "2.16.840.1.113883.5.25"}}
	}
	return &rim.DocumentEntry{
		EntryUUID: "urn:uuid:" + uid, UniqueID: uid, PatientID: patient, Title: "Epikrise " + uid,
		Status: rim.StatusApproved, ConfidentialityCodes: conf,
		ClassCode: rim.Code{Code: "A00-1", Scheme: "2.16.578.1.12.4.1.1.9602"},
	}
}

// candidates are the entries of every case, in this order.
func candidates() []*rim.DocumentEntry {
	return []*rim.DocumentEntry{
		doc("a-1", cx(patientA)),
		doc("a-2", cx(patientA)),
		doc("a-3", cx(patientA), norsCode),
		doc("b-1", cx(patientB)),
		doc("c-1", cx(patientC)),
		doc("c-2", cx(patientC), rim.Code{Code: "N", Scheme: "2.16.840.1.113883.5.25"}, norsCode),
		doc("x-1", foreignPatient),
		doc("x-2", foreignPatient, norsCode),
	}
}

// sperringStore is a real SQL store (memory SQLite) holding the records of
// the cases.
func sperringStore(t testing.TB) (*store.Store, *store.SperringRecords) {
	t.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, "sqlite::memory:")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	recs, err := st.SperringRecords(ctx, store.SperringKeys{Index: bytes.Repeat([]byte{1}, 32), Seal: bytes.Repeat([]byte{2}, 32)})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range []consent.Sperring{
		{Patient: patientA, Kind: consent.KindDocument, DocumentUniqueID: "a-2"},
		{Patient: patientA, Kind: consent.KindPractitioner, HPRNumber: hprBlock},
		{Patient: patientB, Kind: consent.KindPatient},
	} {
		if _, err := recs.Create(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	return st, recs
}

func caller(hpr, purpose string) *Caller {
	return &Caller{Transaction: ITI18, Principal: &helseid.Principal{
		Kind: helseid.TokenJWTUser, HPRNumber: hpr, Purpose: helseid.Code{Code: purpose},
	}}
}

func uids(es []*rim.DocumentEntry) []string {
	var out []string
	for _, e := range es {
		out = append(out, e.UniqueID)
	}
	return out
}

func TestSperringVisible(t *testing.T) {
	_, recs := sperringStore(t)
	resolver := consent.NewResolver(recs, consent.NewMemoryCache(0, 0), consent.ResolverSettings{})
	hide := consent.Policy{OverridePurposes: consent.DefaultOverridePurposes}
	key := bytes.Repeat([]byte{9}, 32)
	obfuscate := consent.Policy{OverridePurposes: consent.DefaultOverridePurposes, Visibility: consent.VisibilityObfuscate, ObfuscationKey: key}
	masked := func(uid string) string { return consent.Obfuscate(doc(uid, cx(patientA)), key).UniqueID }

	cases := map[string]struct {
		policy         consent.Policy
		caller         *Caller
		want           []string
		wantOverridden []string
		wantHidden     []string
	}{
		"TREAT sees what nobody blocked": {
			policy: hide, caller: caller(hprOther, "TREAT"),
			want:       []string{"a-1", "c-1", "x-1"},
			wantHidden: []string{"a-2", "a-3", "b-1", "c-2", "x-2"},
		},
		"COC is ordinary access": {
			policy: hide, caller: caller(hprOther, "COC"), want: []string{"a-1", "c-1", "x-1"},
		},
		"ETREAT does not override unless configured": {
			policy: hide, caller: caller(hprOther, "ETREAT"), want: []string{"a-1", "c-1", "x-1"},
		},
		"blocked practitioner sees nothing of that patient": {
			policy: hide, caller: caller(hprBlock, "TREAT"), want: []string{"c-1", "x-1"},
		},
		"blocked practitioner matched despite zero padding": {
			policy: hide, caller: caller("000"+hprBlock, "TREAT"), want: []string{"c-1", "x-1"},
		},
		"no HPR number cannot rule out a practitioner block": {
			policy: hide, caller: caller("", "TREAT"), want: []string{"c-1", "x-1"},
		},
		"BTG overrides document level": {
			policy: hide, caller: caller(hprOther, "BTG"),
			want:           []string{"a-1", "a-2", "a-3", "c-1", "c-2", "x-1", "x-2"},
			wantOverridden: []string{"a-2", "a-3", "c-2", "x-2"},
		},
		"BTG never overrides practitioner or patient level": {
			policy: hide, caller: caller(hprBlock, "btg"),
			want: []string{"c-1", "c-2", "x-1", "x-2"}, wantOverridden: []string{"c-2", "x-2"},
		},
		"ETREAT overrides when configured": {
			policy: consent.Policy{OverridePurposes: []string{"ETREAT"}}, caller: caller(hprOther, "ETREAT"),
			want: []string{"a-1", "a-2", "a-3", "c-1", "c-2", "x-1", "x-2"}, wantOverridden: []string{"a-2", "a-3", "c-2", "x-2"},
		},
		"obfuscate lists masked copies in place": {
			policy: obfuscate, caller: caller(hprOther, "TREAT"),
			want: []string{"a-1", masked("a-2"), masked("a-3"), "c-1", masked("c-2"), "x-1", masked("x-2")},
		},
		"obfuscate never reveals a practitioner-blocked patient": {
			policy: obfuscate, caller: caller(hprBlock, "TREAT"), want: []string{"c-1", masked("c-2"), "x-1", masked("x-2")},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			ctx, rec := WithDecisionRecorder(context.Background())
			got, err := Sperring{Resolver: resolver, Policy: tc.policy}.Visible(ctx, tc.caller, candidates())
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(uids(got), tc.want) {
				t.Fatalf("visible %v, want %v", uids(got), tc.want)
			}
			d := rec.Decision()
			if !slices.Equal(d.Overridden, tc.wantOverridden) || d.Override != (len(tc.wantOverridden) > 0) {
				t.Fatalf("recorded overrides %v (flag %v), want %v", d.Overridden, d.Override, tc.wantOverridden)
			}
			if tc.wantHidden != nil && !slices.Equal(d.Hidden, tc.wantHidden) {
				t.Fatalf("recorded hidden %v, want %v", d.Hidden, tc.wantHidden)
			}
			if n := len(d.Shown) + len(d.Hidden) + len(d.Obfuscated) + len(d.Overridden); n != len(candidates()) || d.Denied {
				t.Fatalf("recorded %d of %d entries (denied %v): %+v", n, len(candidates()), d.Denied, d)
			}
			for i, e := range got {
				if want := candidates()[slices.IndexFunc(candidates(), func(c *rim.DocumentEntry) bool {
					return c.UniqueID == e.UniqueID || masked(c.UniqueID) == e.UniqueID
				})].PatientID; e.PatientID != want {
					t.Fatalf("visible entry %d is of patient %q, want %q", i, e.PatientID, want)
				}
			}
			// One patient's entries alone (what a query asks, decided
			// without grouping) give that patient's part of the whole.
			for _, patient := range []string{cx(patientA), cx(patientB), cx(patientC), foreignPatient} {
				var alone []*rim.DocumentEntry
				var want []string
				for _, c := range candidates() {
					if c.PatientID == patient {
						alone = append(alone, c)
					}
				}
				for _, e := range got {
					if e.PatientID == patient {
						want = append(want, e.UniqueID)
					}
				}
				ctx, rec := WithDecisionRecorder(context.Background())
				part, err := Sperring{Resolver: resolver, Policy: tc.policy}.Visible(ctx, tc.caller, alone)
				if err != nil {
					t.Fatal(err)
				}
				if !slices.Equal(uids(part), want) {
					t.Fatalf("patient %s alone: visible %v, want %v", patient, uids(part), want)
				}
				if d := rec.Decision(); len(d.Shown)+len(d.Hidden)+len(d.Obfuscated)+len(d.Overridden) != len(alone) {
					t.Fatalf("patient %s alone: recorded %+v for %d entries", patient, d, len(alone))
				}
			}
		})
	}
}

func TestSperringFailsClosed(t *testing.T) {
	st, recs := sperringStore(t)
	cached := consent.NewResolver(recs, consent.NewMemoryCache(0, 0), consent.ResolverSettings{})
	storeOnly := consent.NewResolver(recs, nil, consent.ResolverSettings{})
	policy := consent.Policy{OverridePurposes: consent.DefaultOverridePurposes}
	ctx := context.Background()
	// Warm the cache for patient A only, then make the store unreadable.
	if _, err := cached.Inputs(ctx, patientA); err != nil {
		t.Fatal(err)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}

	cases := map[string]struct {
		s       Sperring
		caller  *Caller
		entries []*rim.DocumentEntry
		want    error
	}{
		"nil caller":                {s: Sperring{Resolver: cached, Policy: policy}, caller: nil, entries: candidates(), want: ErrNoPrincipal},
		"caller without principal":  {s: Sperring{Resolver: cached, Policy: policy}, caller: &Caller{Transaction: ITI38}, entries: candidates(), want: ErrNoPrincipal},
		"no principal, no entries":  {s: Sperring{Resolver: cached, Policy: policy}, caller: &Caller{}, entries: nil, want: ErrNoPrincipal},
		"no resolver":               {s: Sperring{Policy: policy}, caller: caller(hprOther, "BTG"), entries: candidates()},
		"store down, nothing cache": {s: Sperring{Resolver: storeOnly, Policy: policy}, caller: caller(hprOther, "BTG"), entries: candidates(), want: consent.ErrUnavailable},
		"store down, one patient cached, another not": {
			s: Sperring{Resolver: cached, Policy: policy}, caller: caller(hprOther, "BTG"),
			entries: []*rim.DocumentEntry{doc("a-1", cx(patientA)), doc("c-1", cx(patientC))}, want: consent.ErrUnavailable,
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			rctx, rec := WithDecisionRecorder(ctx)
			got, err := tc.s.Visible(rctx, tc.caller, tc.entries)
			if err == nil || got != nil {
				t.Fatalf("visible %v, err %v; want nothing and an error", uids(got), err)
			}
			if tc.want != nil && !errors.Is(err, tc.want) {
				t.Fatalf("err %v, want %v", err, tc.want)
			}
			if strings.Contains(err.Error(), patientA) || strings.Contains(err.Error(), patientC) {
				t.Fatalf("error names a patient: %v", err)
			}
			if !rec.Decision().Denied {
				t.Fatal("recorder does not say the request was denied")
			}
		})
	}

	// The cached patient alone is denied too: the store is the truth, and
	// without it a cached copy cannot be known to be current (a change
	// whose write-through failed would otherwise be missed; issue 10).
	got, err := Sperring{Resolver: cached, Policy: policy}.Visible(ctx, caller(hprOther, "TREAT"), []*rim.DocumentEntry{doc("a-1", cx(patientA)), doc("a-2", cx(patientA))})
	if err == nil || got != nil || !errors.Is(err, consent.ErrUnavailable) {
		t.Fatalf("cached patient with the store down: %v, %v; want denied", uids(got), err)
	}
}

// TestSperringBehindPatientBound is the composition serve uses: a caller
// bound to one patient sees that patient's entries only, decided by
// sperring.
func TestSperringBehindPatientBound(t *testing.T) {
	_, recs := sperringStore(t)
	p := PatientBound{Next: Sperring{
		Resolver: consent.NewResolver(recs, consent.NewMemoryCache(0, 0), consent.ResolverSettings{}),
		Policy:   consent.Policy{OverridePurposes: consent.DefaultOverridePurposes},
	}}
	c := caller(hprOther, "BTG")
	c.Principal.PatientID = cx(patientA)
	got, err := p.Visible(context.Background(), c, candidates())
	if err != nil || !slices.Equal(uids(got), []string{"a-1", "a-2", "a-3"}) {
		t.Fatalf("visible %v, %v; want patient A's entries by override", uids(got), err)
	}
}

// TestDecisionRecorderKeepsOverrides: a document decided twice in one
// request keeps its first outcome, unless a later decision showed it by
// override.
func TestDecisionRecorderKeepsOverrides(t *testing.T) {
	var nilRec *DecisionRecorder
	nilRec.add(consent.Decision{Overridden: true})
	if d := nilRec.Decision(); d.Override {
		t.Fatal("a nil recorder recorded something")
	}
	_, rec := WithDecisionRecorder(context.Background())
	e := doc("a-2", cx(patientA))
	rec.add(consent.Decision{Items: []consent.Item{{Entry: e, Outcome: consent.OutcomeHide, Reason: "NORS"}}})
	rec.add(consent.Decision{Items: []consent.Item{{Entry: e, Outcome: consent.OutcomeShow}}})
	if d := rec.Decision(); !slices.Equal(d.Hidden, []string{"a-2"}) || len(d.Shown) != 0 {
		t.Fatalf("second outcome replaced the first: %+v", d)
	}
	rec.add(consent.Decision{Overridden: true, Items: []consent.Item{{Entry: e, Outcome: consent.OutcomeShowByOverride, Reason: "NORS"}}})
	if d := rec.Decision(); !slices.Equal(d.Overridden, []string{"a-2"}) || !d.Override || len(d.Hidden) != 0 {
		t.Fatalf("override not kept: %+v", d)
	}
}

// BenchmarkSperringVisible is the full decision of a 20-entry listing of
// one patient (a few NORS entries, a document record, another
// practitioner blocked): warm from the in-process cache, and after a miss
// that reads the SQL store.
func BenchmarkSperringVisible(b *testing.B) {
	ctx := context.Background()
	_, recs := sperringStore(b)
	var entries []*rim.DocumentEntry
	for i := range 20 {
		if i%7 == 0 {
			entries = append(entries, doc(fmt.Sprintf("a-%d", i), cx(patientA), norsCode))
		} else {
			entries = append(entries, doc(fmt.Sprintf("a-%d", i), cx(patientA)))
		}
	}
	policy := consent.Policy{OverridePurposes: consent.DefaultOverridePurposes}
	c := caller(hprOther, "TREAT")
	resolvers := map[string]*consent.Resolver{
		"warm": consent.NewResolver(recs, consent.NewMemoryCache(0, 0), consent.ResolverSettings{}),
		"miss": consent.NewResolver(recs, nil, consent.ResolverSettings{}),
	}
	for name, r := range resolvers {
		b.Run(name, func(b *testing.B) {
			s := Sperring{Resolver: r, Policy: policy}
			b.ReportAllocs()
			for b.Loop() {
				got, err := s.Visible(ctx, c, entries)
				if err != nil || len(got) != 20-3-1 {
					b.Fatalf("%d visible, %v", len(got), err)
				}
			}
		})
	}
}

// TestSperringPatientHidden: patient-level sperring and a practitioner
// block naming the caller hide the whole patient (so not even the
// patient's SubmissionSets and Folders are listed), never overridden; a
// document-level record does not.
func TestSperringPatientHidden(t *testing.T) {
	_, recs := sperringStore(t)
	s := Sperring{
		Resolver: consent.NewResolver(recs, consent.NewMemoryCache(0, 0), consent.ResolverSettings{}),
		Policy:   consent.Policy{OverridePurposes: consent.DefaultOverridePurposes},
	}
	cases := map[string]struct {
		caller  *Caller
		patient string
		want    bool
		wantErr bool
	}{
		"patient level hides":                    {caller: caller(hprOther, "TREAT"), patient: cx(patientB), want: true},
		"patient level is not overridden by BTG": {caller: caller(hprOther, "BTG"), patient: cx(patientB), want: true},
		"practitioner block hides from that HPR": {caller: caller(hprBlock, "BTG"), patient: cx(patientA), want: true},
		"document level does not hide a patient": {caller: caller(hprOther, "TREAT"), patient: cx(patientA), want: false},
		"no records":                             {caller: caller(hprOther, "TREAT"), patient: cx(patientC), want: false},
		"foreign id cannot be named by a record": {caller: caller(hprOther, "TREAT"), patient: foreignPatient, want: false},
		"no principal is denied":                 {caller: &Caller{}, patient: cx(patientC), want: true, wantErr: true},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got, err := s.PatientHidden(context.Background(), tc.caller, tc.patient)
			if (err != nil) != tc.wantErr || got != tc.want {
				t.Fatalf("PatientHidden = %v, %v; want %v (error %v)", got, err, tc.want, tc.wantErr)
			}
		})
	}
}
