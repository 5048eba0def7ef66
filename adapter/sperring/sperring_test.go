package sperring

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"io"
	"log/slog"
	"testing"

	"kjdd/adapter/access"
	"kjdd/adapter/httpapi"
	"kjdd/adapter/keys"
	"kjdd/adapter/store"
	"kjdd/consent"
	"kjdd/helseid"
	"kjdd/xds/rim"
)

// Interface guard: the sperring API's back end.
var _ httpapi.SperringService = (*Service)(nil)

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func rootOf(seed byte) keys.Root {
	var r keys.Root
	// base64 of 32 bytes of seed, as KJDD_AUDIT_KEY would carry it.
	if err := r.UnmarshalText([]byte(b64(bytes.Repeat([]byte{seed}, 32)))); err != nil {
		panic(err)
	}
	return r
}

func TestBuildSperring(t *testing.T) {
	ctx := context.Background()
	base := Settings{Keys: rootOf(3).Sperring(), OverridePurposes: []string{consent.PurposeBreakTheGlass}, Visibility: consent.VisibilityHide, Logger: quiet()}
	cases := map[string]struct {
		change  func(s *Settings)
		wantErr bool
	}{
		"defaults":                     {change: func(*Settings) {}},
		"obfuscate":                    {change: func(s *Settings) { s.Visibility = consent.VisibilityObfuscate }},
		"no override":                  {change: func(s *Settings) { s.OverridePurposes = nil }},
		"ordinary access may not":      {change: func(s *Settings) { s.OverridePurposes = []string{consent.PurposeTreat} }, wantErr: true},
		"unknown visibility":           {change: func(s *Settings) { s.Visibility = consent.Visibility(7) }, wantErr: true},
		"another key on the same data": {change: func(s *Settings) { s.Keys = rootOf(4).Sperring() }, wantErr: true},
	}
	st, err := store.Open(ctx, "sqlite::memory:")
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	// The first build records the key's check value in the store.
	if _, err := New(ctx, st, base); err != nil {
		t.Fatal(err)
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			s := base
			tc.change(&s)
			spr, err := New(ctx, st, s)
			if tc.wantErr {
				if err == nil {
					t.Fatal("built")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if _, ok := spr.Policy.(access.PatientBound); !ok {
				t.Fatalf("policy %T, want sperring behind PatientBound", spr.Policy)
			}
			if spr.Service == nil || spr.OnRegistered == nil || len(spr.Collectors) == 0 {
				t.Fatalf("incomplete wiring: %+v", spr)
			}
			if err := spr.Ready(ctx); err != nil {
				t.Fatalf("not ready: %v", err)
			}
		})
	}
}

func b64(b []byte) string { return base64.StdEncoding.EncodeToString(b) }

// TestServiceWritesThrough: a record created or deleted through the API's
// back end is seen by the very next decision, although the decision's
// inputs were cached just before (in-process cache, five-minute TTL).
func TestServiceWritesThrough(t *testing.T) {
	ctx := context.Background()
	st, err := store.Open(ctx, "sqlite::memory:")
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	spr, err := New(ctx, st, Settings{Keys: rootOf(5).Sperring(), Logger: quiet()})
	if err != nil {
		t.Fatal(err)
	}
	const patient = "13116900216"
	caller := &access.Caller{Transaction: access.ITI18, Principal: &helseid.Principal{
		Kind: helseid.TokenJWTUser, HPRNumber: "565505933", Purpose: helseid.Code{Code: consent.PurposeTreat},
	}}
	entry := &rim.DocumentEntry{EntryUUID: "urn:uuid:1", UniqueID: "2.25.1", PatientID: patient + "^^^&2.16.578.1.12.4.1.4.1&ISO"}
	visible := func() int {
		t.Helper()
		got, err := spr.Policy.Visible(ctx, caller, []*rim.DocumentEntry{entry})
		if err != nil {
			t.Fatal(err)
		}
		return len(got)
	}
	if n := visible(); n != 1 {
		t.Fatalf("before any record: %d entries visible, want 1", n)
	}
	rec, _, err := spr.Service.Create(ctx, consent.Sperring{Patient: patient, Kind: consent.KindPatient})
	if err != nil {
		t.Fatal(err)
	}
	if n := visible(); n != 0 {
		t.Fatalf("after a patient-level record: %d entries visible, want 0", n)
	}
	if recs, err := spr.Service.Search(ctx, patient); err != nil || len(recs) != 1 || recs[0].ID != rec.ID {
		t.Fatalf("search: %+v, %v", recs, err)
	}
	if err := spr.Service.Delete(ctx, rec.ID); err != nil {
		t.Fatal(err)
	}
	if n := visible(); n != 1 {
		t.Fatalf("after the record was deleted: %d entries visible, want 1", n)
	}
	if err := spr.Service.Delete(ctx, rec.ID); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("deleting it again: %v, want store.ErrNotFound", err)
	}
	// A registration's patients, national ids or not, are taken to the cache.
	spr.OnRegistered(ctx, []string{entry.PatientID, "not-a-national-id"})
}
