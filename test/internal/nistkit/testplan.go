package nistkit

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/beevik/etree"
)

// Kind is the transaction a test step performs.
type Kind string

// Step kinds found in the testkit.
const (
	KindStoredQuery        Kind = "StoredQueryTransaction"        // ITI-18
	KindRegister           Kind = "RegisterTransaction"           // ITI-42
	KindProvideAndRegister Kind = "ProvideAndRegisterTransaction" // ITI-41
	KindRetrieve           Kind = "RetrieveTransaction"           // ITI-43
	KindXCQ                Kind = "XCQTransaction"                // ITI-38
	KindXCR                Kind = "XCRTransaction"                // ITI-39
	KindPatientFeed        Kind = "PatientIdentityFeedTransaction"
	KindNull               Kind = "NullTransaction"
	KindNewPatientID       Kind = "NewPatientId"
)

// TestPlan is one testplan.xml.
type TestPlan struct {
	Test  string
	Steps []Step
}

// UseID takes a value assigned when another section ran: its patient id
// (AssignedPatientId), an object's entryUUID (AssignedUuids) or uniqueId
// (AssignedUids).
type UseID struct {
	TestDir, ID, Symbol, Step, Section string
}

// UseReport takes a value another test reported.
type UseReport struct {
	Test, Section, Step, ReportName, UseAs string
}

// Report names a value of this step's result (a simple XPath).
type Report struct {
	Name, Section, XPath string
}

// Assert is an XPath assertion on the step's result.
type Assert struct {
	ID, Desc, XPath string
}

// Attachment is a document sent with a ProvideAndRegister step.
type Attachment struct {
	ID, File string
}

// ReferenceDocument is the content a retrieve must return for a uniqueId.
type ReferenceDocument struct {
	UID, File string
}

// Expected is ExpectedContents: object counts by kind (-1 = not given) and
// the composite checks NIST names.
type Expected struct {
	Documents, SubmissionSets, Folders, Associations, ObjectRefs int
	None                                                         bool
	// Named are composite checks such as SSwithOneDoc, kept by name.
	Named []string
}

// Step is one TestStep.
type Step struct {
	ID               string
	Kind             Kind
	ExpectedStatus   string
	ExpectedErrors   []string
	MetadataFile     string
	UseIDs           []UseID
	UseReports       []UseReport
	Reports          []Report
	Asserts          []Assert
	Attachments      []Attachment
	References       []ReferenceDocument
	ExpectedMimeType string
	Expected         *Expected
	NoPatientID      bool
	AltPatientID     bool
	AssignUuids      bool
}

// ParseTestPlan parses a testplan.xml.
func ParseTestPlan(b []byte) (*TestPlan, error) {
	doc := etree.NewDocument()
	if err := doc.ReadFromBytes(b); err != nil {
		return nil, err
	}
	root := doc.Root()
	if root == nil || root.Tag != "TestPlan" {
		return nil, errors.New("root element is not TestPlan")
	}
	tp := &TestPlan{}
	if e := root.SelectElement("Test"); e != nil {
		tp.Test = strings.TrimSpace(e.Text())
	}
	for _, se := range root.SelectElements("TestStep") {
		st, err := parseStep(se)
		if err != nil {
			return nil, fmt.Errorf("step %q: %w", se.SelectAttrValue("id", ""), err)
		}
		tp.Steps = append(tp.Steps, st)
	}
	if len(tp.Steps) == 0 {
		return nil, errors.New("test plan has no TestStep")
	}
	return tp, nil
}

func parseStep(se *etree.Element) (Step, error) {
	st := Step{ID: se.SelectAttrValue("id", "")}
	var tx *etree.Element
	for _, c := range se.ChildElements() {
		switch c.Tag {
		case "ExpectedStatus":
			st.ExpectedStatus = strings.TrimSpace(c.Text())
		case "ExpectedErrorMessage", "ExpectedErrorCode":
			st.ExpectedErrors = append(st.ExpectedErrors, strings.TrimSpace(c.Text()))
		case "NoPatientId":
			st.NoPatientID = true
		case "AltPatientId":
			st.AltPatientID = true
		case "NewPatientId":
			st.Kind = KindNewPatientID
		case "Rule", "Goal":
		default:
			if strings.HasSuffix(c.Tag, "Transaction") {
				if tx != nil {
					return st, errors.New("more than one transaction")
				}
				tx = c
			}
		}
	}
	if tx == nil {
		if st.Kind == "" {
			st.Kind = KindNull // a bookkeeping step of the NIST engine
		}
		return st, nil
	}
	st.Kind = Kind(tx.Tag)
	for _, c := range tx.ChildElements() {
		switch c.Tag {
		case "MetadataFile":
			st.MetadataFile = strings.TrimSpace(c.Text())
		case "UseId":
			st.UseIDs = append(st.UseIDs, UseID{
				TestDir: c.SelectAttrValue("testdir", ""), ID: c.SelectAttrValue("id", ""),
				Symbol: c.SelectAttrValue("symbol", ""), Step: c.SelectAttrValue("step", ""),
				Section: c.SelectAttrValue("section", ""),
			})
		case "UseReport":
			st.UseReports = append(st.UseReports, UseReport{
				Test: c.SelectAttrValue("test", ""), Section: c.SelectAttrValue("section", ""),
				Step: c.SelectAttrValue("step", ""), ReportName: c.SelectAttrValue("reportName", ""),
				UseAs: c.SelectAttrValue("useAs", ""),
			})
		case "Report":
			st.Reports = append(st.Reports, Report{
				Name: c.SelectAttrValue("name", ""), Section: c.SelectAttrValue("section", ""),
				XPath: strings.TrimSpace(c.Text()),
			})
		case "Assertions":
			for _, a := range c.SelectElements("Assert") {
				st.Asserts = append(st.Asserts, Assert{
					ID: a.SelectAttrValue("id", ""), Desc: a.SelectAttrValue("desc", ""),
					XPath: strings.TrimSpace(a.Text()),
				})
			}
		case "Document":
			st.Attachments = append(st.Attachments, Attachment{ID: c.SelectAttrValue("id", ""), File: strings.TrimSpace(c.Text())})
		case "ReferenceDocument":
			st.References = append(st.References, ReferenceDocument{UID: c.SelectAttrValue("uid", ""), File: strings.TrimSpace(c.Text())})
		case "ExpectedMimeType":
			st.ExpectedMimeType = strings.TrimSpace(c.Text())
		case "ExpectedContents":
			exp, err := parseExpected(c)
			if err != nil {
				return st, err
			}
			st.Expected = exp
		case "NoPatientId":
			st.NoPatientID = true
		case "AssignUuids":
			st.AssignUuids = true
		}
	}
	return st, nil
}

func parseExpected(e *etree.Element) (*Expected, error) {
	exp := &Expected{Documents: -1, SubmissionSets: -1, Folders: -1, Associations: -1, ObjectRefs: -1}
	for _, c := range e.ChildElements() {
		var target *int
		switch c.Tag {
		case "Documents":
			target = &exp.Documents
		case "SubmissionSets":
			target = &exp.SubmissionSets
		case "Folders":
			target = &exp.Folders
		case "Associations":
			target = &exp.Associations
		case "ObjectRefs":
			target = &exp.ObjectRefs
		case "None":
			exp.None = true
			continue
		default:
			exp.Named = append(exp.Named, c.Tag)
			continue
		}
		n, err := strconv.Atoi(c.SelectAttrValue("count", ""))
		if err != nil || n < 0 {
			return nil, fmt.Errorf("%s: bad count %q", c.Tag, c.SelectAttrValue("count", ""))
		}
		*target = n
	}
	return exp, nil
}

// Counts are the object counts of a response (see harness.Contents).
type Counts struct {
	Documents, SubmissionSets, Folders, Associations, ObjectRefs int
}

// Check compares counts with the expectation and describes every mismatch.
// A Named check it does not know is reported too, so nothing is ignored.
func (e *Expected) Check(c Counts) []string {
	var bad []string
	want := func(name string, want, got int) {
		if want >= 0 && want != got {
			bad = append(bad, fmt.Sprintf("%s: got %d, want %d", name, got, want))
		}
	}
	want("Documents", e.Documents, c.Documents)
	want("SubmissionSets", e.SubmissionSets, c.SubmissionSets)
	want("Folders", e.Folders, c.Folders)
	want("Associations", e.Associations, c.Associations)
	want("ObjectRefs", e.ObjectRefs, c.ObjectRefs)
	if e.None && c != (Counts{}) {
		bad = append(bad, fmt.Sprintf("None: got %+v", c))
	}
	for _, n := range e.Named {
		ss, docs, fols, ok := namedShape(n)
		if !ok {
			bad = append(bad, "unsupported expectation "+n)
			continue
		}
		want(n+" SubmissionSets", ss, c.SubmissionSets)
		want(n+" Documents", docs, c.Documents)
		want(n+" Folders", fols, c.Folders)
	}
	return bad
}

// namedShape gives the object counts NIST's composite expectations name.
func namedShape(name string) (ss, docs, fols int, ok bool) {
	switch name {
	case "SSwithOneDoc":
		return 1, 1, 0, true
	case "SSwithTwoDoc":
		return 1, 2, 0, true
	case "SSwithOneDocOneFol":
		return 1, 1, 1, true
	case "SSwithTwoDocOneFol":
		return 1, 2, 1, true
	}
	return 0, 0, 0, false
}
