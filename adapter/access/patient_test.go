package access

import (
	"context"
	"testing"

	"kjdd/helseid"
	"kjdd/xds/rim"
)

func TestPatientBound(t *testing.T) {
	const (
		a = "13116900216^^^&2.16.578.1.12.4.1.4.1&ISO"
		b = "12119000465^^^&2.16.578.1.12.4.1.4.1&ISO"
	)
	entries := []*rim.DocumentEntry{{UniqueID: "1.1", PatientID: a}, {UniqueID: "1.2", PatientID: b}, {UniqueID: "1.3", PatientID: a}}
	tests := map[string]struct {
		caller *Caller
		want   []string
	}{
		"ok/bound to a sees only a": {caller: &Caller{Principal: &helseid.Principal{PatientID: a}}, want: []string{"1.1", "1.3"}},
		"ok/urn:oid form compares equal": {caller: &Caller{Principal: &helseid.Principal{
			PatientID: "13116900216^^^&urn:oid:2.16.578.1.12.4.1.4.1&ISO"}}, want: []string{"1.1", "1.3"}},
		"ok/other authority is another patient": {caller: &Caller{Principal: &helseid.Principal{
			PatientID: "13116900216^^^&2.16.578.1.12.4.1.4.2&ISO"}}, want: nil},
		"ok/unbound caller passes through": {caller: &Caller{Principal: &helseid.Principal{}}, want: []string{"1.1", "1.2", "1.3"}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got, err := PatientBound{Next: ShowAll{}}.Visible(context.Background(), tc.caller, entries)
			if err != nil {
				t.Fatal(err)
			}
			var ids []string
			for _, e := range got {
				ids = append(ids, e.UniqueID)
			}
			if len(ids) != len(tc.want) {
				t.Fatalf("visible = %v, want %v", ids, tc.want)
			}
			for i := range ids {
				if ids[i] != tc.want[i] {
					t.Fatalf("visible = %v, want %v", ids, tc.want)
				}
			}
		})
	}
}
