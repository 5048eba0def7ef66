package consent

import (
	"context"
	"testing"
)

func TestMemoryCache(t *testing.T) {
	ctx := context.Background()
	c := NewMemoryCache(0, 0)
	if _, ok, err := c.Get(ctx, patientA); ok || err != nil {
		t.Fatalf("empty cache: ok=%v err=%v", ok, err)
	}
	rec := Sperring{ID: "rec-1", Patient: patientA, Kind: KindDocument, DocumentUniqueID: idRecorded}
	in := Inputs{Patient: patientA, Version: 2, Records: []Sperring{rec}}
	if err := c.Put(ctx, in); err != nil {
		t.Fatal(err)
	}
	in.Records[0].DocumentUniqueID = "changed by the caller after Put"

	got, ok, err := c.Get(ctx, patientA)
	if err != nil || !ok || got.Version != 2 || got.Records[0] != rec {
		t.Fatalf("Get() = %+v, %v, %v; want version 2 with the record as put", got, ok, err)
	}
	got.Records[0].DocumentUniqueID = "changed by the caller after Get"
	again, _, _ := c.Get(ctx, patientA)
	if again.Records[0] != rec {
		t.Error("a caller's change to the returned inputs reached the cache")
	}

	if err := c.Put(ctx, Inputs{Patient: patientA, Version: 1}); err != nil {
		t.Fatal(err)
	}
	if got, _, _ := c.Get(ctx, patientA); got.Version != 2 {
		t.Errorf("older Put replaced version 2 with %d", got.Version)
	}
	if _, ok, _ := c.Get(ctx, patientB); ok {
		t.Error("hit for a patient never put")
	}
	if err := c.Invalidate(ctx, patientA); err != nil {
		t.Fatal(err)
	}
	if _, ok, _ := c.Get(ctx, patientA); ok {
		t.Error("hit after Invalidate")
	}
	if err := c.Put(ctx, Inputs{Patient: "123"}); err == nil {
		t.Error("Put accepted inputs without a valid patient")
	}
}
