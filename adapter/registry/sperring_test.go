package registry

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"kjdd/adapter/access"
	"kjdd/adapter/store"
	"kjdd/xds/rim"
	"kjdd/xds/validate"
)

func TestAuthorizeIsTheSperringAPI(t *testing.T) {
	st, err := store.Open(context.Background(), "sqlite::memory:")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	cases := map[string]struct {
		gate    access.Gate
		wantErr bool
	}{
		"gate decides, as the sperring API": {gate: access.Compose(access.Open{}, access.ShowAll{})},
		"no gate refuses":                   {gate: nil, wantErr: true},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			r := New(st, Options{HomeCommunityID: homeOID, RepositoryUniqueID: ownRepo}, nil, tc.gate)
			// A caller claiming another transaction is still authenticated
			// as the sperring API.
			c, err := r.Authorize(context.Background(), access.Credentials{Transaction: access.ITI18})
			if tc.wantErr {
				if err == nil {
					t.Fatal("authorized without a gate")
				}
				return
			}
			if err != nil || c.Transaction != access.SperringAPI {
				t.Fatalf("caller %+v, %v; want the sperring API's", c, err)
			}
		})
	}
}

// TestOnRegisteredAfterCommit: the hook hears of every committed
// registration, with its patient, and of nothing that was refused.
func TestOnRegisteredAfterCommit(t *testing.T) {
	st, err := store.Open(context.Background(), "sqlite::memory:")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	var mu sync.Mutex
	var heard [][]string
	r := New(st, Options{
		HomeCommunityID:    homeOID,
		RepositoryUniqueID: ownRepo,
		Validation:         validate.DefaultOptions(validate.ITI41),
		Now:                func() time.Time { return fixedNow },
		OnRegistered: func(_ context.Context, patients []string) {
			mu.Lock()
			heard = append(heard, patients)
			mu.Unlock()
		},
	}, nil, access.Compose(access.Open{}, access.ShowAll{}))

	b := newSubmission(patientA)
	first := b.doc("first")
	b.doc("second")
	mustRegister(t, r, b.sub, validate.ITI41)

	// Refused: the same uniqueId again.
	dup := newSubmission(patientA)
	dup.doc("first").UniqueID = first.UniqueID
	if _, err := r.Register(context.Background(), dup.sub, validate.ITI41); err == nil {
		t.Fatal("duplicate uniqueId registered")
	}

	// Accepted: a NORS replacement, for another patient's record.
	rb := newSubmission(patientB)
	rb.doc("b").ConfidentialityCodes = []rim.Code{{Code: "NORS", Scheme: "2.16.578.1.12.4.1.1.9603"}}
	mustRegister(t, r, rb.sub, validate.ITI41)

	want := [][]string{{patientA}, {patientB}}
	if !slices.EqualFunc(heard, want, slices.Equal) {
		t.Fatalf("hook heard %v, want %v", heard, want)
	}
}
