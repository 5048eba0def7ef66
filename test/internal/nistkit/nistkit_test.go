package nistkit

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/beevik/etree"

	"kjdd/test/testkit/paths"
	"kjdd/test/testkit/xsd"
)

func testsDir(t testing.TB) string {
	t.Helper()
	d, err := paths.Conformance("nist-testkit", "tests")
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func allPlans(t testing.TB) map[string][]byte {
	t.Helper()
	root := testsDir(t)
	out := map[string][]byte{}
	err := filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || d.Name() != "testplan.xml" {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, filepath.Dir(p))
		out[filepath.ToSlash(rel)] = b
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(out) < 100 {
		t.Fatalf("found only %d test plans", len(out))
	}
	return out
}

func TestParseEveryTestPlan(t *testing.T) {
	empty := etree.NewElement("AdhocQueryResponse")
	for key, b := range allPlans(t) {
		t.Run(key, func(t *testing.T) {
			tp, err := ParseTestPlan(b)
			if err != nil {
				t.Fatal(err)
			}
			for _, st := range tp.Steps {
				if st.Kind == "" {
					t.Errorf("step %s has no kind", st.ID)
				}
				for _, a := range st.Asserts {
					if _, _, err := EvalAssert(a.XPath, empty, nil); errors.Is(err, ErrUnsupportedXPath) {
						t.Errorf("assert %s: %v", a.ID, err)
					}
				}
				for _, r := range st.Reports {
					if _, err := EvalValues(r.XPath, empty); errors.Is(err, ErrUnsupportedXPath) {
						t.Errorf("report %s: %v", r.Name, err)
					}
				}
				if st.Expected != nil {
					if bad := st.Expected.Check(Counts{}); len(bad) > 0 && strings.Contains(strings.Join(bad, ";"), "unsupported") &&
						!strings.HasPrefix(key, "11966") && !strings.HasPrefix(key, "12029") && !strings.HasPrefix(key, "1199") {
						// DocApp/DocDep only occur in replace/append tests outside this suite.
						t.Errorf("expectation: %v", bad)
					}
				}
			}
		})
	}
}

func TestParseTestPlanFields(t *testing.T) {
	tp, err := ParseTestPlan(allPlans(t)["12312/missing_home"])
	if err != nil {
		t.Fatal(err)
	}
	st := tp.Steps[0]
	if st.Kind != KindXCR || st.ExpectedStatus != "Failure" || len(st.ExpectedErrors) != 1 || st.ExpectedErrors[0] != "XDSMissingHomeCommunityId" {
		t.Fatalf("step = %+v", st)
	}
	if len(st.UseReports) != 2 || st.UseReports[1].ReportName != "repuid" || st.UseReports[1].UseAs != "$repositoryuid$" {
		t.Errorf("use reports = %+v", st.UseReports)
	}
	tp, err = ParseTestPlan(allPlans(t)["11909/uniqueid"])
	if err != nil {
		t.Fatal(err)
	}
	exp := tp.Steps[0].Expected
	if exp == nil || exp.Associations != 1 || exp.Documents != 2 || exp.Folders != -1 {
		t.Errorf("expected = %+v", exp)
	}
	if u := tp.Steps[0].UseIDs[0]; u.TestDir != "../../12346/doc_for_rplc" || u.Section != "AssignedUids" || u.Symbol != "$uniqueid$" {
		t.Errorf("use id = %+v", u)
	}
}

const response = `<query:AdhocQueryResponse xmlns:query="urn:oasis:names:tc:ebxml-regrep:xsd:query:3.0" xmlns:rim="urn:oasis:names:tc:ebxml-regrep:xsd:rim:3.0" status="s">
<rim:RegistryObjectList>
<rim:ObjectRef id="a" home="urn:oid:1.2"/>
<rim:ObjectRef id="b" home="urn:oid:9"/>
<rim:ExtrinsicObject id="d"><rim:Slot name="repositoryUniqueId"><rim:ValueList><rim:Value>1.2.3</rim:Value></rim:ValueList></rim:Slot>
<rim:ExternalIdentifier identificationScheme="urn:uuid:2e82c1f6-a085-4c72-9da3-8640a32e42ab" value="9.9"/></rim:ExtrinsicObject>
</rim:RegistryObjectList></query:AdhocQueryResponse>`

func TestEvalAssert(t *testing.T) {
	doc := etree.NewDocument()
	if err := doc.ReadFromString(response); err != nil {
		t.Fatal(err)
	}
	vars := map[string]string{"$home$": "urn:oid:1.2"}
	tests := map[string]struct {
		expr string
		want bool
	}{
		"count matches":     {`count(//XCQTransaction[@step="finddocs"]/Result/*[local-name(.)='AdhocQueryResponse']/*[local-name(.)='RegistryObjectList']/*[local-name(.)='ObjectRef']) = 2`, true},
		"count quoted":      {`count(//X/Result[1]/*[local-name()='AdhocQueryResponse']/*[local-name()='RegistryObjectList']/*[local-name()='ExtrinsicObject']) = "1"`, true},
		"count differs":     {`count(//X/Result/*[local-name(.)='AdhocQueryResponse']/*[local-name(.)='RegistryObjectList']/*[local-name(.)='ObjectRef']) = 3`, false},
		"first home":        {`//XCQTransaction[1]/Result[1]/*[namespace-uri()='urn:oasis:names:tc:ebxml-regrep:xsd:query:3.0' and local-name()='AdhocQueryResponse'][1]/*[namespace-uri()='urn:oasis:names:tc:ebxml-regrep:xsd:rim:3.0' and local-name()='RegistryObjectList'][1]/*[namespace-uri()='urn:oasis:names:tc:ebxml-regrep:xsd:rim:3.0' and local-name()='ObjectRef'][1]/@home = '$home$'`, true},
		"second home wrong": {`//X[1]/Result[1]/*[local-name()='AdhocQueryResponse'][1]/*[local-name()='RegistryObjectList'][1]/*[local-name()='ObjectRef'][2]/@home = '$home$'`, false},
		"wrong namespace":   {`count(//X/Result/*[namespace-uri()='urn:other' and local-name()='AdhocQueryResponse']) = 0`, true},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got, detail, err := EvalAssert(tc.expr, doc.Root(), vars)
			if err != nil {
				t.Fatal(err)
			}
			if got != tc.want {
				t.Fatalf("got %v (%s), want %v", got, detail, tc.want)
			}
		})
	}
	vals, err := EvalValues(`//*[local-name()='ExtrinsicObject']/*[local-name()='Slot'][@name='repositoryUniqueId']/*[local-name()='ValueList']/*[local-name()='Value']`, doc.Root())
	if err != nil || len(vals) != 1 || vals[0] != "1.2.3" {
		t.Fatalf("report values %q, %v", vals, err)
	}
	vals, err = EvalValues(`//*[local-name()='ExtrinsicObject'][1]/*[local-name()='ExternalIdentifier'][@identificationScheme='urn:uuid:2e82c1f6-a085-4c72-9da3-8640a32e42ab']/@value`, doc.Root())
	if err != nil || len(vals) != 1 || vals[0] != "9.9" {
		t.Fatalf("uid report %q, %v", vals, err)
	}
	if _, _, err := EvalAssert("sum(//a) > 2", doc.Root(), nil); !errors.Is(err, ErrUnsupportedXPath) {
		t.Fatalf("unsupported expression: %v", err)
	}
}

func TestPrepareEverySeed(t *testing.T) {
	xsd.Require(t)
	seeds, err := paths.Repo("test", "nist", "testdata", "seed")
	if err != nil {
		t.Fatal(err)
	}
	files, _ := filepath.Glob(filepath.Join(seeds, "*", "*.xml"))
	if len(files) < 20 {
		t.Fatalf("found %d seeds", len(files))
	}
	vars := map[string]string{
		"$patientid$": NewPatientID(), "$altpatientid$": NewPatientID(), "$rplc_doc_uuid$": NewUUIDURN(),
	}
	var docs [][]byte
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		out1, a1, err := Prepare(b, vars)
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		_, a2, err := Prepare(b, vars)
		if err != nil {
			t.Fatal(err)
		}
		for sym, u := range a1.UIDs {
			if a2.UIDs[sym] == u {
				t.Errorf("%s: uniqueId of %s repeated across runs", f, sym)
			}
			if len(u) > 64 {
				t.Errorf("%s: uniqueId %s longer than 64", f, u)
			}
		}
		if len(a1.UIDs) == 0 || len(a1.UUIDs) == 0 {
			t.Errorf("%s: assigned nothing: %+v", f, a1)
		}
		// Every reference must point at an assigned object or an existing uuid.
		d := etree.NewDocument()
		if err := d.ReadFromBytes(out1); err != nil {
			t.Fatal(err)
		}
		for _, e := range descendantsOrSelf(d.Root()) {
			for _, name := range referenceAttrs {
				if v := e.SelectAttrValue(name, ""); v != "" && !strings.HasPrefix(v, "urn:uuid:") {
					t.Errorf("%s: %s/@%s = %q not assigned", filepath.Base(f), e.Tag, name, v)
				}
			}
		}
		docs = append(docs, out1)
	}
	if err := xsd.ValidateAll(docs...); err != nil {
		t.Fatal(err)
	}
}

func TestPrepareRejectsUnresolved(t *testing.T) {
	_, _, err := Prepare([]byte(`<a id="x" v="$nope$"/>`), nil)
	if err == nil || !strings.Contains(err.Error(), "$nope$") {
		t.Fatalf("err = %v", err)
	}
}

func FuzzParseTestPlan(f *testing.F) {
	for _, key := range []string{"11897/approved", "12312/missing_home", "12309/finddocs", "11983/submit_no_metadata", "12346/rplc"} {
		f.Add(allPlans(f)[key])
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		tp, err := ParseTestPlan(b)
		if err != nil {
			return
		}
		for _, st := range tp.Steps {
			if st.Expected != nil {
				_ = st.Expected.Check(Counts{})
			}
		}
	})
}

func FuzzEvalAssert(f *testing.F) {
	for _, tp := range allPlans(f) {
		p, err := ParseTestPlan(tp)
		if err != nil {
			continue
		}
		for _, st := range p.Steps {
			for _, a := range st.Asserts {
				f.Add(a.XPath)
			}
		}
	}
	doc := etree.NewDocument()
	if err := doc.ReadFromString(response); err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, expr string) {
		_, _, _ = EvalAssert(expr, doc.Root(), map[string]string{"$home$": "x"})
	})
}

func TestSubstituteLongestNameFirst(t *testing.T) {
	vars := map[string]string{"$patientid": "short", "$patientid$": "a&b", "$p$": "x"}
	got := Substitute(`v="$patientid$" w="$patientid" z="$p$"`, vars, true)
	if want := `v="a&amp;b" w="short" z="x"`; got != want {
		t.Fatalf("got %s, want %s", got, want)
	}
}

func FuzzPrepare(f *testing.F) {
	seeds, err := paths.Repo("test", "nist", "testdata", "seed")
	if err != nil {
		f.Fatal(err)
	}
	for _, name := range []string{"12346/rplc.xml", "12318/init.xml", "11983/submit_no_metadata.xml"} {
		b, err := os.ReadFile(filepath.Join(seeds, name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	vars := map[string]string{"$patientid$": "p^^^&1.2&ISO", "$altpatientid$": "q^^^&1.2&ISO", "$rplc_doc_uuid$": "urn:uuid:00000000-0000-4000-8000-000000000000"}
	f.Fuzz(func(t *testing.T, seed []byte) {
		out, a, err := Prepare(seed, vars)
		if err != nil {
			return
		}
		for sym := range a.UIDs {
			if strings.Contains(string(out), `value="`+sym+`"`) && a.UUIDs[sym] == "" {
				t.Fatalf("symbolic uniqueId %q left in the output", sym)
			}
		}
	})
}
