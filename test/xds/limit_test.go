package xds

import (
	"strconv"
	"testing"

	"kjdd/test/internal/harness"
)

// TestResultLimit runs FindDocuments over ITI-18 and ITI-38 against a
// kjdd limited to 3 results (KJDD_MAX_RESULTS): a patient with 5
// documents gets XDSTooManyResults and not one object, a patient with
// exactly 3 gets all 3.
func TestResultLimit(t *testing.T) {
	srv := harness.Start(t, harness.Options{Env: map[string]string{
		"KJDD_MAX_RESULTS": "3",
		"KJDD_LOG_LEVEL":   "warn",
	}})
	registered := map[string][]*document{}
	n := 100
	for patient, count := range map[string]int{patientB: 5, patientC: 3} {
		var docs []*document
		for i := range count {
			n++
			name := "notat " + strconv.Itoa(i+1)
			docs = append(docs, newDocument(t, name, n, inKJDD, "text/plain", []byte(name+" for the result limit test\n"), 0))
		}
		register(t, srv, patient, docs)
		registered[patient] = docs
	}

	cases := []struct {
		name    string
		patient string
		tooMany bool
	}{
		{"patient with 5 documents is refused", patientB, true},
		{"patient with 3 documents gets them all", patientC, false},
	}
	for _, tx := range []transaction{iti18, iti38} {
		for _, rt := range []string{leafClass, objectRef} {
			for _, tc := range cases {
				t.Run(tx.name+" "+rt+" "+tc.name, func(t *testing.T) {
					resp := send(t, srv, tx, adhocQuery(queryFindDocuments, rt, "", findDocuments(tc.patient)))
					objs := resp.Objects()
					if tc.tooMany {
						if resp.Status() != harness.StatusFailure {
							t.Errorf("status %q, want %q", resp.Status(), harness.StatusFailure)
						}
						checkErrors(t, tx, resp, []string{errTooManyResults})
						if len(objs) != 0 {
							t.Errorf("answer has %d objects, want none with XDSTooManyResults", len(objs))
						}
						return
					}
					if resp.Status() != harness.StatusSuccess {
						t.Errorf("status %q, want %q (errors %+v)", resp.Status(), harness.StatusSuccess, resp.RegistryErrors())
					}
					checkErrors(t, tx, resp, nil)
					kind := "ExtrinsicObject"
					if rt == objectRef {
						kind = "ObjectRef"
					}
					var want []object
					for _, d := range registered[tc.patient] {
						want = append(want, object{kind, d.entryUUID})
					}
					checkObjects(t, resp, want)
				})
			}
		}
	}
}
