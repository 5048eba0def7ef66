package nist

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"kjdd/test/internal/harness"
	"kjdd/test/internal/nistkit"
)

func TestMain(m *testing.M) { os.Exit(harness.Run(m)) }

// fakeRepository is the repositoryUniqueId NIST's Register.b seeds carry
// ("The Repository references in metadata are fake"); kjdd is told about
// it so that ITI-42 accepts the metadata. Its URL is never contacted.
const fakeRepository = "1.19.6.24.109.42.1"

// suite lists every NIST test in scope, in dependency order (seeds first).
// Each section of a test's index.idx runs unless skip names it, with the
// reason. Expectations come from the test plans.
var suite = []struct {
	test string
	what string
	skip map[string]string
}{
	{test: "12346", what: "seed data for stored-query tests (Register.b, patient A)"},
	{test: "12374", what: "seed data, second patient (patient B)", skip: map[string]string{
		"reset_patient_id": "NIST engine bookkeeping, no transaction",
	}},
	{test: "12318", what: "XCA Responding Gateway seed (ITI-41, two documents) and repositoryUniqueId query"},
	{test: "11897", what: "FindDocuments"},
	{test: "11898", what: "FindSubmissionSets"},
	{test: "11899", what: "FindFolders"},
	{test: "11901", what: "GetDocuments"},
	{test: "11902", what: "GetFolders"},
	{test: "11903", what: "GetAssociations"},
	{test: "11904", what: "GetDocumentsAndAssociations"},
	{test: "11905", what: "GetSubmissionSets"},
	{test: "11906", what: "GetSubmissionSetAndContents"},
	{test: "11907", what: "GetFolderAndContents"},
	{test: "11908", what: "GetFoldersForDocument"},
	{test: "11909", what: "GetRelatedDocuments"},
	{test: "12368", what: "XDSResultNotSinglePatient"},
	{test: "15803", what: "GetAll"},
	{test: "12309", what: "ITI-38 FindDocuments ObjectRef, home on every ObjectRef"},
	{test: "12310", what: "ITI-38 FindDocuments LeafClass, home on every ExtrinsicObject"},
	{test: "12311", what: "ITI-38 GetDocuments LeafClass"},
	{test: "12312", what: "ITI-39 single document, missing HomeCommunityId"},
	{test: "12313", what: "ITI-39 two documents"},
	{test: "12093", what: "ITI-38 FindDocuments ObjectRef count"},
	{test: "11996", what: "Register.b XDSUnknownPatientId", skip: map[string]string{
		"submit": "kjdd has no patient identity feed (ITI-8/44): the EPJ is the master of its patients and every well-formed patient id is accepted, so XDSUnknownPatientId cannot be provoked",
	}},
	{test: "11997", what: "Register.b XDSPatientIdDoesNotMatch, then nothing registered"},
	{test: "11998a", what: "Register.b missing required DocumentEntry attribute (nine cases)"},
	{test: "11983", what: "Provide&Register.b XDSMissingDocument / XDSMissingDocumentMetadata, then nothing registered"},
}

func TestNISTTestkit(t *testing.T) {
	srv := harness.Start(t, harness.Options{Env: map[string]string{
		"KJDD_METADATA_PROFILE": "ihe",
		"KJDD_EPJ_REPOSITORIES": fakeRepository + "=http://127.0.0.1:9/unused",
	}})
	env := nistkit.NewEnv(t, srv)
	for _, tc := range suite {
		t.Run(tc.test, func(t *testing.T) {
			for _, section := range sections(t, env, tc.test) {
				t.Run(section, func(t *testing.T) {
					if reason, ok := tc.skip[section]; ok {
						t.Skip(reason)
					}
					env.RunPlan(t, tc.test+"/"+section)
				})
			}
			for s := range tc.skip {
				if !contains(sections(t, env, tc.test), s) {
					t.Errorf("skip names section %q that %s does not have", s, tc.test)
				}
			}
		})
	}
}

// sections reads a test's index.idx: the sections NIST runs, in order.
func sections(t *testing.T, env *nistkit.Env, test string) []string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(env.Tests, test, "index.idx"))
	if err != nil {
		t.Fatal(err)
	}
	out := strings.Fields(string(b))
	if len(out) == 0 {
		t.Fatalf("%s/index.idx lists no sections", test)
	}
	return out
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}
