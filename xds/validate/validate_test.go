package validate

import (
	"bytes"
	"crypto/sha1"
	"encoding/hex"
	"io"
	"regexp"
	"slices"
	"strings"
	"testing"

	"kjdd/xds/hl7"
	"kjdd/xds/rim"
)

// Realistic Norwegian values: NHN's test patient, Finnmarkssykehuset's
// organisation number and a RESH id from the PJD test data, an HPR number of
// a test practitioner, Volven codes from norway.md §2.3.
const (
	testPatientFNR = "13116900216"
	testPatient    = testPatientFNR + "^^^&" + hl7.OIDFNR + "&ISO"
	testAuthor     = "565505933^GREVLING^KVART^^^^^^&" + hl7.OIDHPR + "&ISO"
	testHospital   = "Finnmarkssykehuset HF^^^^^&" + hl7.OIDOrgNumber + "&ISO^^^^983974880"
	testDepartment = "Laboratoriemedisinsk avdeling - FIN^^^^^&" + hl7.OIDRESH + "&ISO^^^^4211607"
	testRepository = "2.16.578.1.12.4.5.100.1.2"
	testEntryUUID  = "urn:uuid:3b0cbb8e-1f4a-4a36-9c62-8c3f0e2b7d11" // a DocumentEntry in the registry
	volven1303     = volvenPrefix + "1303"
	volven8655     = volvenPrefix + "8655"
	formatCodeIHE  = "http://profiles.ihe.net/fhir/ihe.formatcode.fhir/CodeSystem-formatcode"
)

// testDocument is the content of the ITI-41 fixture's document.
var testDocument = []byte("%PDF-1.7\n% epikrise\n")

// bytesBlob is document content held in memory.
type bytesBlob []byte

// Open implements Blob.
func (b bytesBlob) Open() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(b)), nil }

// validSubmission is an ITI-42 submission that satisfies every IHE and
// Norwegian rule: one epikrise for NHN's test patient, registered by
// Finnmarkssykehuset.
func validSubmission() *rim.Submission {
	sum := sha1.Sum(testDocument)
	de := &rim.DocumentEntry{
		EntryUUID:                  "Document01",
		UniqueID:                   "2.16.578.1.12.4.5.100.1.1.20250206141356",
		PatientID:                  testPatient,
		ObjectType:                 rim.ObjectTypeStable,
		MimeType:                   "application/pdf",
		Title:                      "Epikrise etter innleggelse",
		ClassCode:                  rim.Code{Code: "A00-1", Scheme: CodeSystemVolven9602, Display: "Epikriser og sammenfatninger"},
		TypeCode:                   rim.Code{Code: "A03-2", Scheme: CodeSystemVolven9602, Display: "Epikrise"},
		FormatCode:                 rim.Code{Code: "urn:ihe:iti:xds:2017:mimeTypeSufficient", Scheme: formatCodeIHE, Display: "mimeType Sufficient"},
		HealthcareFacilityTypeCode: rim.Code{Code: "86.101", Scheme: volven1303, Display: "Alminnelige somatiske sykehus"},
		PracticeSettingCode:        rim.Code{Code: "S03", Scheme: volven8655, Display: "Indremedisin"},
		ConfidentialityCodes: []rim.Code{
			{Code: "N", Scheme: CodeSystemHL7Confidentiality, Display: "Normal"},
			{Code: "N", Scheme: CodeSystemVolven9603, Display: "Normal"},
		},
		EventCodes: []rim.Code{{Code: "K1", Scheme: volvenPrefix + "7210", Display: "Innleggelse"}},
		Authors: []rim.Author{{
			Person:             testAuthor,
			Institutions:       []string{testHospital, testDepartment},
			Roles:              []string{"LE^^^&" + volvenPrefix + "9060&ISO"},
			Telecommunications: []string{"^WPN^Internet^kvart.grevling@example.no", "^WPN^PH^^47^^78967000"},
		}},
		CreationTime:       "20250206141356",
		ServiceStartTime:   "20250107151403",
		ServiceStopTime:    "20250122151403",
		LanguageCode:       "nb-NO",
		SourcePatientID:    testPatient,
		LegalAuthenticator: testAuthor,
		Hash:               hex.EncodeToString(sum[:]),
		Size:               int64(len(testDocument)),
		HasSize:            true,
		RepositoryUniqueID: testRepository,
	}
	ss := &rim.SubmissionSet{
		EntryUUID:       "SubmissionSet01",
		UniqueID:        "2.16.578.1.12.4.5.100.1.3.20250206141400",
		SourceID:        "2.16.578.1.12.4.5.100.1",
		PatientID:       testPatient,
		SubmissionTime:  "20250206141400",
		ContentTypeCode: rim.Code{Code: "A00-1", Scheme: CodeSystemVolven9602, Display: "Epikriser og sammenfatninger"},
		Authors:         []rim.Author{{Institutions: []string{testHospital}}},
	}
	return &rim.Submission{
		SubmissionSet:   ss,
		SubmissionSets:  1,
		DocumentEntries: []*rim.DocumentEntry{de},
		Associations: []*rim.Association{{
			EntryUUID: "Association01", Type: rim.AssocHasMember, Source: "SubmissionSet01", Target: "Document01",
			SubmissionSetStatus: "Original",
		}},
	}
}

// validPnR is validSubmission as an ITI-41 request, with its document.
func validPnR() *rim.Submission {
	sub := validSubmission()
	sub.Documents = []rim.Document{{ID: "Document01", Content: bytesBlob(testDocument)}}
	return sub
}

// entry returns the fixture's DocumentEntry.
func entry(sub *rim.Submission) *rim.DocumentEntry { return sub.DocumentEntries[0] }

// addFolder adds a valid Folder, member of the SubmissionSet, and returns it.
func addFolder(sub *rim.Submission) *rim.Folder {
	f := &rim.Folder{
		EntryUUID: "Folder01",
		UniqueID:  "2.16.578.1.12.4.5.100.1.4.1",
		PatientID: testPatient,
		Title:     "Innleggelse januar 2025",
		CodeList:  []rim.Code{{Code: "A00-1", Scheme: CodeSystemVolven9602, Display: "Epikriser og sammenfatninger"}},
	}
	sub.Folders = append(sub.Folders, f)
	sub.Associations = append(sub.Associations, &rim.Association{
		EntryUUID: "Association02", Type: rim.AssocHasMember, Source: "SubmissionSet01", Target: "Folder01",
	})
	return f
}

// addEntry adds a copy of the fixture's DocumentEntry under id, member of
// the SubmissionSet, and returns it.
func addEntry(sub *rim.Submission, id, uniqueID string) *rim.DocumentEntry {
	de := *entry(sub)
	de.EntryUUID, de.UniqueID = id, uniqueID
	sub.DocumentEntries = append(sub.DocumentEntries, &de)
	sub.Associations = append(sub.Associations, &rim.Association{
		EntryUUID: "Association-" + id, Type: rim.AssocHasMember, Source: "SubmissionSet01", Target: id,
		SubmissionSetStatus: "Original",
	})
	return &de
}

// addAssociation adds an association between two objects.
func addAssociation(sub *rim.Submission, typ, source, target string) *rim.Association {
	a := &rim.Association{EntryUUID: "Association99", Type: typ, Source: source, Target: target}
	sub.Associations = append(sub.Associations, a)
	return a
}

// setPatient gives the SubmissionSet and the DocumentEntry the patient id pid.
func setPatient(sub *rim.Submission, pid string) {
	sub.SubmissionSet.PatientID = pid
	entry(sub).PatientID = pid
}

// finding is an expected validation result: the code, the rule id and
// whether it is a warning.
type finding struct {
	code    rim.ErrorCode
	rule    string
	warning bool
}

// findings turns a validation result into comparable findings.
func findings(errs rim.RegistryErrors) []finding {
	out := make([]finding, 0, len(errs))
	for _, e := range errs {
		out = append(out, finding{code: e.Code, rule: Rule(e), warning: e.IsWarning()})
	}
	return out
}

// validationCase is one row of TestValidateSubmission.
type validationCase struct {
	tx     Transaction // ITI42 when zero
	noSub  bool        // validate a nil submission
	opts   func(*Options)
	mutate func(*rim.Submission)
	want   []finding
}

// metaErr is an XDSRegistryMetadataError finding of rule.
func metaErr(rule string) finding { return finding{code: rim.XDSRegistryMetadataError, rule: rule} }

// validationCases has one case (at least) per rule: the valid fixture with
// one thing changed, and the exact findings that change must produce.
var validationCases = map[string]validationCase{
	// Valid variants: nothing to report.
	"valid ITI-42 submission": {},
	"valid ITI-41 submission": {tx: ITI41},
	"valid with a folder":     {mutate: func(s *rim.Submission) { addFolder(s) }},
	"valid replacement":       {mutate: func(s *rim.Submission) { addAssociation(s, rim.AssocRPLC, "Document01", testEntryUUID) }},
	"valid snapshot":          {mutate: func(s *rim.Submission) { addAssociation(s, rim.AssocIsSnapshot, "Document01", testEntryUUID) }},
	"valid signature in batch": {mutate: func(s *rim.Submission) {
		addEntry(s, "Document02", "2.16.578.1.12.4.5.100.1.1.2")
		addAssociation(s, rim.AssocSigns, "Document02", "Document01")
	}},
	"valid D-nummer patient":  {mutate: func(s *rim.Submission) { setPatient(s, "53116900390^^^&"+hl7.OIDDNumber+"&ISO") }},
	"valid FH-nummer patient": {mutate: func(s *rim.Submission) { setPatient(s, "80000000179^^^&"+hl7.OIDFHNumber+"&ISO") }},
	"valid synthetic patient": {mutate: func(s *rim.Submission) { setPatient(s, "06828399789^^^&"+hl7.OIDFNR+"&ISO") }},
	"valid NHN test patient 12119000465": {mutate: func(s *rim.Submission) {
		setPatient(s, "12119000465^^^&"+hl7.OIDFNR+"&ISO")
	}},
	"valid NHN test patient 08077000292": {mutate: func(s *rim.Submission) {
		setPatient(s, "08077000292^^^&"+hl7.OIDFNR+"&ISO")
	}},
	"valid sperret document": {mutate: func(s *rim.Submission) {
		entry(s).ConfidentialityCodes = []rim.Code{{Code: "NORS", Scheme: CodeSystemVolven9603}}
	}},
	"valid urn:oid coding scheme":     {mutate: func(s *rim.Submission) { entry(s).ClassCode.Scheme = "urn:oid:" + CodeSystemVolven9602 }},
	"valid facility type Volven 1305": {mutate: func(s *rim.Submission) { entry(s).HealthcareFacilityTypeCode.Scheme = volvenPrefix + "1305" }},
	"valid author without HPR id":     {mutate: func(s *rim.Submission) { entry(s).Authors[0].Person = "^GREVLING^KVART" }},
	"valid service time at day precision": {mutate: func(s *rim.Submission) {
		entry(s).ServiceStartTime, entry(s).ServiceStopTime = "20250122", "2025012215"
	}},
	"valid on-demand entry outside the Norwegian profile": {
		opts:   func(o *Options) { o.Norwegian = false },
		mutate: func(s *rim.Submission) { entry(s).ObjectType = rim.ObjectTypeOnDemand },
	},
	"ITI-41 leaves hash and size to the repository": {tx: ITI41, mutate: func(s *rim.Submission) {
		entry(s).Hash, entry(s).Size, entry(s).RepositoryUniqueID = "not-a-hash", -1, ""
	}},

	// Options and the submission itself.
	"unknown transaction fails closed": {tx: Transaction(7), want: []finding{{code: rim.XDSRegistryError, rule: ruleOptions}}},
	"unknown lenient rule fails closed": {
		opts: func(o *Options) { o.Lenient = []string{"IHE-NO-SUCH-RULE"} },
		want: []finding{{code: rim.XDSRegistryError, rule: ruleOptions}},
	},
	"patient rules cannot be relaxed": {
		opts: func(o *Options) { o.Lenient = []string{rulePatientIDMatch} },
		want: []finding{{code: rim.XDSRegistryError, rule: ruleOptions}},
	},
	"relaxed rule becomes a warning": {
		opts:   func(o *Options) { o.Lenient = []string{ruleDETitle} },
		mutate: func(s *rim.Submission) { entry(s).Title = strings.Repeat("é", 129) },
		want:   []finding{{code: rim.XDSRegistryMetadataError, rule: ruleDETitle, warning: true}},
	},

	"nil submission": {noSub: true, want: []finding{metaErr(ruleSubmission)}},

	// SubmissionSet.
	"no submission set":   {mutate: func(s *rim.Submission) { s.SubmissionSet, s.SubmissionSets, s.Associations = nil, 0, nil }, want: []finding{metaErr(ruleSSCount)}},
	"two submission sets": {mutate: func(s *rim.Submission) { s.SubmissionSets = 2 }, want: []finding{metaErr(ruleSSCount)}},
	"submission set id is a broken urn:uuid": {mutate: func(s *rim.Submission) {
		s.SubmissionSet.EntryUUID = "urn:uuid:not-a-uuid"
		s.Associations[0].Source = "urn:uuid:not-a-uuid"
	}, want: []finding{metaErr(ruleSSID)}},
	"submission set uniqueId not an OID": {mutate: func(s *rim.Submission) { s.SubmissionSet.UniqueID = "2.16.578.x" }, want: []finding{metaErr(ruleSSUniqueID)}},
	"submission set sourceId missing":    {mutate: func(s *rim.Submission) { s.SubmissionSet.SourceID = "" }, want: []finding{metaErr(ruleSSSourceID)}},
	"submission set patientId missing":   {mutate: func(s *rim.Submission) { s.SubmissionSet.PatientID = "" }, want: []finding{metaErr(ruleSSPatientID)}},
	"patient ids with urn:oid in the assigning authority": {
		mutate: func(s *rim.Submission) { setPatient(s, testPatientFNR+"^^^&urn:oid:"+hl7.OIDFNR+"&ISO") },
		want:   []finding{metaErr(ruleSSPatientID), metaErr(ruleDEPatientID)},
	},
	"submission time is not a date":  {mutate: func(s *rim.Submission) { s.SubmissionSet.SubmissionTime = "20251301" }, want: []finding{metaErr(ruleSSSubmissionTime)}},
	"contentTypeCode missing":        {mutate: func(s *rim.Submission) { s.SubmissionSet.ContentTypeCode = rim.Code{} }, want: []finding{metaErr(ruleSSContentTypeCode)}},
	"submission set title too long":  {mutate: func(s *rim.Submission) { s.SubmissionSet.Title = strings.Repeat("x", 129) }, want: []finding{metaErr(ruleSSTitle)}},
	"submission set author is empty": {mutate: func(s *rim.Submission) { s.SubmissionSet.Authors = []rim.Author{{Roles: []string{"LE"}}} }, want: []finding{metaErr(ruleSSAuthor)}},

	// DocumentEntry attributes (NIST 11998a: each required attribute missing).
	"entry id is a broken urn:uuid": {mutate: func(s *rim.Submission) {
		entry(s).EntryUUID = "urn:uuid:0000"
		s.Associations[0].Target = "urn:uuid:0000"
	}, want: []finding{metaErr(ruleDEID)}},
	"objectType missing": {mutate: func(s *rim.Submission) { entry(s).ObjectType = "" }, want: []finding{metaErr(ruleDEObjectType)}},
	"objectType unknown": {mutate: func(s *rim.Submission) { entry(s).ObjectType = "urn:uuid:7edca82f-054d-47f2-a032-9b2a5b518fff" }, want: []finding{metaErr(ruleDEObjectType)}},
	"on-demand entry with content": {
		tx: ITI41, opts: func(o *Options) { o.Norwegian = false },
		mutate: func(s *rim.Submission) { entry(s).ObjectType = rim.ObjectTypeOnDemand },
		want:   []finding{metaErr(ruleDEObjectType)},
	},
	"mimeType missing":             {mutate: func(s *rim.Submission) { entry(s).MimeType = "" }, want: []finding{metaErr(ruleDEMimeType)}},
	"mimeType is not a media type": {mutate: func(s *rim.Submission) { entry(s).MimeType = "pdf" }, want: []finding{metaErr(ruleDEMimeType)}},
	"uniqueId missing":             {mutate: func(s *rim.Submission) { entry(s).UniqueID = "" }, want: []finding{metaErr(ruleDEUniqueID)}},
	"uniqueId longer than 128":     {mutate: func(s *rim.Submission) { entry(s).UniqueID = "2.16.578." + strings.Repeat("1", 120) }, want: []finding{metaErr(ruleDEUniqueID)}},
	"uniqueId with white space":    {mutate: func(s *rim.Submission) { entry(s).UniqueID = "2.16.578 1" }, want: []finding{metaErr(ruleDEUniqueID)}},
	"entry patientId missing":      {mutate: func(s *rim.Submission) { entry(s).PatientID = "" }, want: []finding{metaErr(ruleDEPatientID)}},
	"entry patientId without authority": {
		mutate: func(s *rim.Submission) { entry(s).PatientID = testPatientFNR },
		want:   []finding{metaErr(ruleDEPatientID), {code: rim.XDSPatientIDDoesNotMatch, rule: rulePatientIDMatch}},
	},
	"sourcePatientId missing":            {mutate: func(s *rim.Submission) { entry(s).SourcePatientID = "" }, want: []finding{metaErr(ruleDESourcePatientID)}},
	"sourcePatientId authority not ISO":  {mutate: func(s *rim.Submission) { entry(s).SourcePatientID = "4711^^^&DIPS&L" }, want: []finding{metaErr(ruleDESourcePatientID)}},
	"sourcePatientId local authority":    {mutate: func(s *rim.Submission) { entry(s).SourcePatientID = "4711^^^DIPS&2.16.578.1.12.4.5.100.1.9&ISO^PI" }},
	"creationTime missing":               {mutate: func(s *rim.Submission) { entry(s).CreationTime = "" }, want: []finding{metaErr(ruleDECreationTime)}},
	"creationTime of 13 digits":          {mutate: func(s *rim.Submission) { entry(s).CreationTime = "2025020614135" }, want: []finding{metaErr(ruleDECreationTime)}},
	"creationTime on 30 February":        {mutate: func(s *rim.Submission) { entry(s).CreationTime = "20250230" }, want: []finding{metaErr(ruleDECreationTime)}},
	"creationTime with a time zone":      {mutate: func(s *rim.Submission) { entry(s).CreationTime = "20250206141356+0100" }, want: []finding{metaErr(ruleDECreationTime)}},
	"languageCode missing":               {mutate: func(s *rim.Submission) { entry(s).LanguageCode = "" }, want: []finding{metaErr(ruleDELanguageCode)}},
	"languageCode with underscore":       {mutate: func(s *rim.Submission) { entry(s).LanguageCode = "nb_NO" }, want: []finding{metaErr(ruleDELanguageCode)}},
	"service starts after it stops":      {mutate: func(s *rim.Submission) { entry(s).ServiceStartTime = "20250123" }, want: []finding{metaErr(ruleDEServiceTime)}},
	"serviceStopTime at hour 24":         {mutate: func(s *rim.Submission) { entry(s).ServiceStopTime = "2025012224" }, want: []finding{metaErr(ruleDEServiceTime)}},
	"entry title too long":               {mutate: func(s *rim.Submission) { entry(s).Title = strings.Repeat("ø", 129) }, want: []finding{metaErr(ruleDETitle)}},
	"classCode missing":                  {mutate: func(s *rim.Submission) { entry(s).ClassCode = rim.Code{} }, want: []finding{metaErr(ruleDEClassCode)}},
	"classCode without codingScheme":     {mutate: func(s *rim.Submission) { entry(s).ClassCode.Scheme = "" }, want: []finding{metaErr(ruleDEClassCode)}},
	"classCode with a name only":         {mutate: func(s *rim.Submission) { entry(s).ClassCode = rim.Code{Display: "Epikriser"} }, want: []finding{metaErr(ruleDEClassCode)}},
	"typeCode missing":                   {mutate: func(s *rim.Submission) { entry(s).TypeCode = rim.Code{} }, want: []finding{metaErr(ruleDETypeCode)}},
	"formatCode missing":                 {mutate: func(s *rim.Submission) { entry(s).FormatCode = rim.Code{} }, want: []finding{metaErr(ruleDEFormatCode)}},
	"healthcareFacilityTypeCode missing": {mutate: func(s *rim.Submission) { entry(s).HealthcareFacilityTypeCode = rim.Code{} }, want: []finding{metaErr(ruleDEFacilityTypeCode)}},
	"practiceSettingCode missing":        {mutate: func(s *rim.Submission) { entry(s).PracticeSettingCode = rim.Code{} }, want: []finding{metaErr(ruleDEPracticeSetting)}},
	"confidentialityCode missing":        {mutate: func(s *rim.Submission) { entry(s).ConfidentialityCodes = nil }, want: []finding{metaErr(ruleDEConfidentialityCode)}},
	"confidentialityCode without scheme": {mutate: func(s *rim.Submission) { entry(s).ConfidentialityCodes[1].Scheme = "" }, want: []finding{metaErr(ruleDEConfidentialityCode)}},
	"eventCode without codingScheme":     {mutate: func(s *rim.Submission) { entry(s).EventCodes[0].Scheme = "" }, want: []finding{metaErr(ruleDEEventCode)}},
	"author with nothing identifying":    {mutate: func(s *rim.Submission) { entry(s).Authors[0] = rim.Author{Roles: []string{"LE"}} }, want: []finding{metaErr(ruleDEAuthor)}},
	"authorPerson authority not ISO":     {mutate: func(s *rim.Submission) { entry(s).Authors[0].Person = "565505933^GREVLING^KVART^^^^^^&" + hl7.OIDHPR }, want: []finding{metaErr(ruleDEAuthor)}},
	"authorPerson with urn:oid authority": {mutate: func(s *rim.Submission) {
		entry(s).Authors[0].Person = "502116685^GEIRAAS^BENEDIKTE^^^^^^&urn:oid:" + hl7.OIDHPR + "&ISO"
	}, want: []finding{metaErr(ruleDEAuthor)}},
	"authorInstitution without name": {
		mutate: func(s *rim.Submission) {
			entry(s).Authors[0].Institutions[0] = "^^^^^&" + hl7.OIDOrgNumber + "&ISO^^^^983974880"
		},
		want: []finding{metaErr(ruleDEAuthor)},
	},
	"authorTelecommunication without address": {mutate: func(s *rim.Submission) { entry(s).Authors[0].Telecommunications[0] = "^WPN^Internet" }, want: []finding{metaErr(ruleDEAuthor)}},
	"legalAuthenticator without id or name":   {mutate: func(s *rim.Submission) { entry(s).LegalAuthenticator = "^^KVART" }, want: []finding{metaErr(ruleDELegalAuthenticator)}},
	"hash missing":                            {mutate: func(s *rim.Submission) { entry(s).Hash = "" }, want: []finding{metaErr(ruleDEHash)}},
	"hash of SHA-256 length":                  {mutate: func(s *rim.Submission) { entry(s).Hash = strings.Repeat("ab", 32) }, want: []finding{metaErr(ruleDEHash)}},
	"size missing":                            {mutate: func(s *rim.Submission) { entry(s).HasSize = false }, want: []finding{metaErr(ruleDESize)}},
	"size negative":                           {mutate: func(s *rim.Submission) { entry(s).Size = -1 }, want: []finding{metaErr(ruleDESize)}},
	"repositoryUniqueId missing":              {mutate: func(s *rim.Submission) { entry(s).RepositoryUniqueID = "" }, want: []finding{metaErr(ruleDERepositoryUniqueID)}},
	"repositoryUniqueId as urn:oid":           {mutate: func(s *rim.Submission) { entry(s).RepositoryUniqueID = "urn:oid:" + testRepository }, want: []finding{metaErr(ruleDERepositoryUniqueID)}},
	"entry not a member of the submission set": {
		mutate: func(s *rim.Submission) { s.Associations = nil },
		want:   []finding{metaErr(ruleDEMembership)},
	},

	// Folder.
	"folder id missing": {mutate: func(s *rim.Submission) {
		addFolder(s).EntryUUID = ""
		s.Associations = s.Associations[:1]
	}, want: []finding{metaErr(ruleFDID)}},
	"folder uniqueId not an OID": {mutate: func(s *rim.Submission) { addFolder(s).UniqueID = "Folder-1" }, want: []finding{metaErr(ruleFDUniqueID)}},
	"folder patientId missing":   {mutate: func(s *rim.Submission) { addFolder(s).PatientID = "" }, want: []finding{metaErr(ruleFDPatientID)}},
	"folder codeList missing":    {mutate: func(s *rim.Submission) { addFolder(s).CodeList = nil }, want: []finding{metaErr(ruleFDCodeList)}},
	"folder title too long":      {mutate: func(s *rim.Submission) { addFolder(s).Title = strings.Repeat("x", 200) }, want: []finding{metaErr(ruleFDTitle)}},
	"folder not a member":        {mutate: func(s *rim.Submission) { addFolder(s); s.Associations = s.Associations[:1] }, want: []finding{metaErr(ruleFDMembership)}},
	"folder member is a folder": {mutate: func(s *rim.Submission) {
		addFolder(s)
		addAssociation(s, rim.AssocHasMember, "Folder01", "SubmissionSet01")
	}, want: []finding{metaErr(ruleAssocHasMember)}},

	// Across the submission.
	"patient ids differ (NIST 11997)": {
		mutate: func(s *rim.Submission) { entry(s).PatientID = "12119000465^^^&" + hl7.OIDFNR + "&ISO" },
		want:   []finding{{code: rim.XDSPatientIDDoesNotMatch, rule: rulePatientIDMatch}},
	},
	"folder for another patient": {
		mutate: func(s *rim.Submission) { addFolder(s).PatientID = "08077000292^^^&" + hl7.OIDFNR + "&ISO" },
		want:   []finding{{code: rim.XDSPatientIDDoesNotMatch, rule: rulePatientIDMatch}},
	},
	"two entries with one id": {
		mutate: func(s *rim.Submission) {
			de := *entry(s)
			de.UniqueID = "2.16.578.1.12.4.5.100.1.1.2"
			s.DocumentEntries = append(s.DocumentEntries, &de)
		},
		want: []finding{metaErr(ruleIDDuplicate)},
	},
	"two entries with one uniqueId": {
		mutate: func(s *rim.Submission) { addEntry(s, "Document02", entry(s).UniqueID) },
		want:   []finding{{code: rim.XDSRegistryDuplicateUniqueIDInMessage, rule: ruleUniqueIDDuplicate}},
	},
	"folder with the submission set's uniqueId": {
		mutate: func(s *rim.Submission) { addFolder(s).UniqueID = s.SubmissionSet.UniqueID },
		want:   []finding{{code: rim.XDSRegistryDuplicateUniqueIDInMessage, rule: ruleUniqueIDDuplicate}},
	},
	"object ref not a urn:uuid": {mutate: func(s *rim.Submission) { s.ObjectRefs = []string{"Document99"} }, want: []finding{metaErr(ruleObjectRef)}},

	// Associations.
	"association type missing": {mutate: func(s *rim.Submission) { addAssociation(s, "", "Document01", testEntryUUID) }, want: []finding{metaErr(ruleAssocType)}},
	"association type of metadata update": {
		mutate: func(s *rim.Submission) {
			addAssociation(s, "urn:ihe:iti:2010:AssociationType:UpdateAvailabilityStatus", "SubmissionSet01", testEntryUUID)
		},
		want: []finding{metaErr(ruleAssocType)},
	},
	"association type in ebRIM 2.1 short form": {
		mutate: func(s *rim.Submission) { s.Associations[0].Type = "HasMember" },
		want:   []finding{metaErr(ruleAssocType)},
	},
	"association source missing": {mutate: func(s *rim.Submission) { addAssociation(s, rim.AssocRPLC, "", testEntryUUID) }, want: []finding{metaErr(ruleAssocRef)}},
	"association target unresolvable": {
		mutate: func(s *rim.Submission) { addAssociation(s, rim.AssocRPLC, "Document01", "Document99") },
		want:   []finding{metaErr(ruleAssocRef)},
	},
	"association to itself": {mutate: func(s *rim.Submission) { addAssociation(s, rim.AssocAPND, "Document01", "Document01") }, want: []finding{metaErr(ruleAssocRef)}},
	"HasMember from a document entry": {
		mutate: func(s *rim.Submission) { addAssociation(s, rim.AssocHasMember, "Document01", testEntryUUID) },
		want:   []finding{metaErr(ruleAssocHasMember)},
	},
	"SubmissionSetStatus Reference for a new entry": {mutate: func(s *rim.Submission) { s.Associations[0].SubmissionSetStatus = "Reference" }, want: []finding{metaErr(ruleAssocSSStatus)}},
	"SubmissionSetStatus missing":                   {mutate: func(s *rim.Submission) { s.Associations[0].SubmissionSetStatus = "" }, want: []finding{metaErr(ruleAssocSSStatus)}},
	"SubmissionSetStatus unknown":                   {mutate: func(s *rim.Submission) { s.Associations[0].SubmissionSetStatus = "Copy" }, want: []finding{metaErr(ruleAssocSSStatus)}},
	"replacement from outside the submission": {
		mutate: func(s *rim.Submission) {
			addAssociation(s, rim.AssocRPLC, "urn:uuid:6f1c1f0a-5d7e-4b8a-9a43-2b7a3c9e0f21", testEntryUUID)
		},
		want: []finding{metaErr(ruleAssocRelation)},
	},
	"transform of an entry in the same submission": {
		mutate: func(s *rim.Submission) {
			addEntry(s, "Document02", "2.16.578.1.12.4.5.100.1.1.2")
			addAssociation(s, rim.AssocXFRM, "Document02", "Document01")
		},
		want: []finding{metaErr(ruleAssocRelation)},
	},

	// Documents of ITI-41 (NIST 11983) and ITI-42.
	"document missing (NIST 11983 submit_no_doc)": {
		tx: ITI41, mutate: func(s *rim.Submission) { s.Documents = nil },
		want: []finding{{code: rim.XDSMissingDocument, rule: ruleDocMissing}},
	},
	"document without metadata (NIST 11983 submit_no_metadata)": {
		tx: ITI41, mutate: func(s *rim.Submission) {
			s.Documents = append(s.Documents, rim.Document{ID: "Document99", Content: bytesBlob("x")})
		},
		want: []finding{{code: rim.XDSMissingDocumentMetadata, rule: ruleDocMetadata}},
	},
	"document supplied twice": {
		tx: ITI41, mutate: func(s *rim.Submission) { s.Documents = append(s.Documents, s.Documents[0]) },
		want: []finding{{code: rim.XDSRepositoryMetadataError, rule: ruleDocDuplicate}},
	},
	"document without content": {
		tx: ITI41, mutate: func(s *rim.Submission) { s.Documents[0].Content = nil },
		want: []finding{{code: rim.XDSMissingDocument, rule: ruleDocMissing}},
	},
	"documents in a register request": {
		mutate: func(s *rim.Submission) { s.Documents = validPnR().Documents },
		want:   []finding{metaErr(ruleDocUnexpected)},
	},

	// Norwegian profile.
	"patient id of an unknown authority (NIST 11996)": {
		mutate: func(s *rim.Submission) { setPatient(s, testPatientFNR+"^^^&2.16.578.1.12.4.1.7.3.2.1&ISO") },
		want:   []finding{{code: rim.XDSUnknownPatientID, rule: ruleNOPatientIDAuthority}},
	},
	"FH-nummer when not accepted": {
		opts:   func(o *Options) { o.AcceptFHNumber = false },
		mutate: func(s *rim.Submission) { setPatient(s, "80000000179^^^&"+hl7.OIDFHNumber+"&ISO") },
		want:   []finding{{code: rim.XDSUnknownPatientID, rule: ruleNOPatientIDAuthority}},
	},
	"fødselsnummer with a wrong check digit": {
		mutate: func(s *rim.Submission) { setPatient(s, "13116900217^^^&"+hl7.OIDFNR+"&ISO") },
		want:   []finding{{code: rim.XDSUnknownPatientID, rule: ruleNOPatientIDCheckDigit}},
	},
	"fødselsnummer under the D-nummer authority": {
		mutate: func(s *rim.Submission) { setPatient(s, testPatientFNR+"^^^&"+hl7.OIDDNumber+"&ISO") },
		want:   []finding{{code: rim.XDSUnknownPatientID, rule: ruleNOPatientIDCheckDigit}},
	},
	"classCode from LOINC": {
		mutate: func(s *rim.Submission) {
			entry(s).ClassCode = rim.Code{Code: "18842-5", Scheme: "2.16.840.1.113883.6.1"}
		},
		want: []finding{metaErr(ruleNOClassCodeScheme)},
	},
	"classCode that is a document type": {mutate: func(s *rim.Submission) { entry(s).ClassCode.Code = "A03-2" }, want: []finding{metaErr(ruleNOClassCodeValue)}},
	"typeCode from another code system": {
		mutate: func(s *rim.Submission) { entry(s).TypeCode.Scheme = volvenPrefix + "9601" },
		want:   []finding{metaErr(ruleNOTypeCodeScheme)},
	},
	"typeCode that is a class":               {mutate: func(s *rim.Submission) { entry(s).TypeCode.Code = "A00-1" }, want: []finding{metaErr(ruleNOTypeCodeValue)}},
	"confidentialityCode of unknown system":  {mutate: func(s *rim.Submission) { entry(s).ConfidentialityCodes[0].Scheme = "1.3.6.1.4.1.21367.2006.7" }, want: []finding{metaErr(ruleNOConfidentiality)}},
	"confidentialityCode not in HL7 set":     {mutate: func(s *rim.Submission) { entry(s).ConfidentialityCodes[0].Code = "X" }, want: []finding{metaErr(ruleNOConfidentiality)}},
	"confidentialityCode not in Volven 9603": {mutate: func(s *rim.Submission) { entry(s).ConfidentialityCodes[1].Code = "NORX" }, want: []finding{metaErr(ruleNOConfidentiality)}},
	"facility type from SNOMED CT":           {mutate: func(s *rim.Submission) { entry(s).HealthcareFacilityTypeCode.Scheme = "2.16.840.1.113883.6.96" }, want: []finding{metaErr(ruleNOFacilityTypeScheme)}},
	"practice setting from another Volven":   {mutate: func(s *rim.Submission) { entry(s).PracticeSettingCode.Scheme = volvenPrefix + "9060" }, want: []finding{metaErr(ruleNOPracticeSettingScheme)}},
	"authorPerson id of a local authority": {mutate: func(s *rim.Submission) {
		entry(s).Authors[0].Person = "4711^GREVLING^KVART^^^^^^&2.16.578.1.12.4.5.100.1.7&ISO"
	}, want: []finding{metaErr(ruleNOAuthorPerson)}},
	"authorPerson HPR number not numeric": {mutate: func(s *rim.Submission) {
		entry(s).Authors[0].Person = "HPR565505933^GREVLING^KVART^^^^^^&" + hl7.OIDHPR + "&ISO"
	}, want: []finding{metaErr(ruleNOAuthorPerson)}},
	"authorInstitution organisation number fails check digit": {
		mutate: func(s *rim.Submission) {
			entry(s).Authors[0].Institutions[0] = "Finnmarkssykehuset HF^^^^^&" + hl7.OIDOrgNumber + "&ISO^^^^983974881"
		},
		want: []finding{metaErr(ruleNOAuthorInstitution)},
	},
	"authorInstitution RESH id not numeric": {
		mutate: func(s *rim.Submission) {
			entry(s).Authors[0].Institutions[1] = "Lab^^^^^&" + hl7.OIDRESH + "&ISO^^^^FIN-LAB"
		},
		want: []finding{metaErr(ruleNOAuthorInstitution)},
	},
	"authorInstitution identified by an OID": {
		mutate: func(s *rim.Submission) { entry(s).Authors[0].Institutions[1] = "Lab^^^^^^^^^2.16.578.1.12.4.5.100.1.8" },
		want:   []finding{metaErr(ruleNOAuthorInstitution)},
	},
	"authorInstitution by name only": {
		mutate: func(s *rim.Submission) { entry(s).Authors[0].Institutions = []string{"Finnmarkssykehuset HF"} },
		want:   []finding{metaErr(ruleNOAuthorInstitutionID)},
	},
	"submission set institution by name only": {
		mutate: func(s *rim.Submission) { s.SubmissionSet.Authors[0].Institutions = []string{"Cleveland Clinic"} },
		want:   []finding{metaErr(ruleNOAuthorInstitutionID)},
	},
	"on-demand entry in the Norwegian profile": {
		mutate: func(s *rim.Submission) { entry(s).ObjectType = rim.ObjectTypeOnDemand },
		want:   []finding{metaErr(ruleNOObjectType)},
	},
}

func TestValidateSubmission(t *testing.T) {
	for name, tc := range validationCases {
		t.Run(name, func(t *testing.T) {
			tx := tc.tx
			if tx == 0 {
				tx = ITI42
			}
			sub := validSubmission()
			if tx == ITI41 {
				sub = validPnR()
			}
			if tc.mutate != nil {
				tc.mutate(sub)
			}
			if tc.noSub {
				sub = nil
			}
			opts := DefaultOptions(tx)
			opts.HomeCommunityID = "urn:oid:2.16.578.1.12.4.5.100.1"
			if tc.opts != nil {
				tc.opts(&opts)
			}
			errs := Submission(sub, opts)
			if got := findings(errs); !slices.Equal(got, tc.want) {
				t.Fatalf("got %v, want %v\n%v", got, tc.want, errs)
			}
			for _, e := range errs {
				checkContext(t, e, opts.HomeCommunityID)
			}
			if errs.HasErrors() != slices.ContainsFunc(tc.want, func(f finding) bool { return !f.warning }) {
				t.Fatalf("HasErrors %v for %v", errs.HasErrors(), errs)
			}
		})
	}
}

// nameOrNumber finds what must never be in a codeContext: an 11-digit
// national identity number or a person's name from the fixtures.
var nameOrNumber = regexp.MustCompile(`(^|[^0-9])[0-9]{11}($|[^0-9])|GREVLING|KVART|GEIRAAS|BENEDIKTE`)

// checkContext verifies the shape of one validation error: rule prefix,
// object named, location set, and nothing personal.
func checkContext(t *testing.T, e *rim.RegistryError, location string) {
	t.Helper()
	rule := Rule(e)
	if rule == "" || !strings.HasPrefix(e.Context, "["+rule+"] ") {
		t.Errorf("context %q does not start with a known rule id", e.Context)
	}
	if !strings.Contains(e.Context, ": ") {
		t.Errorf("context %q does not name an object", e.Context)
	}
	if nameOrNumber.MatchString(e.Context) {
		t.Errorf("context %q contains a national id or a name", e.Context)
	}
	if e.Location != location {
		t.Errorf("location %q, want %q", e.Location, location)
	}
}

// TestEveryRuleHasACase keeps the table complete: each rule ValidateSubmission
// knows is produced by at least one case.
func TestEveryRuleHasACase(t *testing.T) {
	covered := map[string]bool{}
	for _, tc := range validationCases {
		for _, f := range tc.want {
			covered[f.rule] = true
		}
	}
	for _, r := range Rules() {
		if !covered[r] {
			t.Errorf("rule %s has no case in validationCases", r)
		}
	}
}

func TestValidateSubmissionContexts(t *testing.T) {
	tests := map[string]struct {
		mutate func(*rim.Submission)
		want   string
	}{
		"missing attribute names entry and attribute (NIST 11998a classCode)": {
			mutate: func(s *rim.Submission) { entry(s).ClassCode = rim.Code{} },
			want:   "[IHE-DE-CLASSCODE] DocumentEntry Document01: classCode missing",
		},
		"check digit failure does not quote the number": {
			mutate: func(s *rim.Submission) { setPatient(s, "13116900217^^^&"+hl7.OIDFNR+"&ISO") },
			want:   "[NO-PATIENTID-CHECKDIGIT] SubmissionSet SubmissionSet01: patient id fails check digit",
		},
		"an fnr used as object id is redacted": {
			mutate: func(s *rim.Submission) {
				entry(s).EntryUUID = testPatientFNR
				s.Associations[0].Target = testPatientFNR
				entry(s).MimeType = ""
			},
			want: "[IHE-DE-MIMETYPE] DocumentEntry ***********: mimeType missing",
		},
		"on-demand entries are named in the Norwegian profile": {
			mutate: func(s *rim.Submission) { entry(s).ObjectType = rim.ObjectTypeOnDemand },
			want:   "[NO-DE-OBJECTTYPE] DocumentEntry Document01: on-demand entries are not accepted in the Norwegian profile",
		},
		"entry without id is named by uniqueId": {
			mutate: func(s *rim.Submission) { entry(s).EntryUUID = "" },
			want:   "[IHE-DE-ID] DocumentEntry 2.16.578.1.12.4.5.100.1.1.20250206141356: id missing",
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			sub := validSubmission()
			tc.mutate(sub)
			errs := Submission(sub, DefaultOptions(ITI42))
			if len(errs) == 0 || errs[0].Context != tc.want {
				t.Fatalf("first context of %v, want %q", errs, tc.want)
			}
		})
	}
}

func TestValidateSubmissionNilObjects(t *testing.T) {
	sub := validSubmission()
	sub.DocumentEntries = append(sub.DocumentEntries, nil)
	sub.Folders = append(sub.Folders, nil)
	sub.Associations = append(sub.Associations, nil)
	want := []finding{metaErr(ruleDEID), metaErr(ruleFDID), metaErr(ruleAssocRef)}
	if got := findings(Submission(sub, DefaultOptions(ITI42))); !slices.Equal(got, want) {
		t.Fatalf("got %v, want %v", got, want)
	}
}

func TestValidationOptions(t *testing.T) {
	tests := map[string]struct {
		opts    Options
		wantErr bool
	}{
		"default ITI-41":              {opts: DefaultOptions(ITI41)},
		"default ITI-42":              {opts: DefaultOptions(ITI42)},
		"zero transaction":            {opts: Options{Norwegian: true}, wantErr: true},
		"relaxable rule":              {opts: Options{Transaction: ITI42, Lenient: []string{ruleNOAuthorInstitutionID}}},
		"confidentiality is not":      {opts: Options{Transaction: ITI42, Lenient: []string{ruleNOConfidentiality}}, wantErr: true},
		"unknown rule":                {opts: Options{Transaction: ITI42, Lenient: []string{"NO-SUCH"}}, wantErr: true},
		"rule id written with braces": {opts: Options{Transaction: ITI42, Lenient: []string{"[IHE-DE-TITLE]"}}, wantErr: true},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if err := tc.opts.Validate(); (err != nil) != tc.wantErr {
				t.Fatalf("Validate() = %v, want error %v", err, tc.wantErr)
			}
		})
	}
	def := DefaultOptions(ITI41)
	if !def.Norwegian || !def.AcceptFHNumber || def.Transaction != ITI41 || len(def.Lenient) != 0 {
		t.Fatalf("DefaultValidationOptions(ITI41) = %+v", def)
	}
}

func TestTransactionString(t *testing.T) {
	tests := map[Transaction]string{ITI41: "ITI-41", ITI42: "ITI-42", 0: "Transaction(0)"}
	for tx, want := range tests {
		if got := tx.String(); got != want {
			t.Errorf("%d.String() = %q, want %q", int(tx), got, want)
		}
	}
}

func TestValidationRule(t *testing.T) {
	tests := map[string]struct {
		err  *rim.RegistryError
		want string
	}{
		"rule of a validation error": {err: rim.NewError(rim.XDSRegistryMetadataError, "[IHE-DE-HASH] DocumentEntry a: hash missing"), want: ruleDEHash},
		"unknown bracketed text":     {err: rim.NewError(rim.XDSRegistryMetadataError, "[EXAMPLE] something"), want: ""},
		"error of another origin":    {err: rim.NewError(rim.XDSRegistryError, "store unavailable"), want: ""},
		"unterminated bracket":       {err: rim.NewError(rim.XDSRegistryError, "[IHE-DE-HASH hash"), want: ""},
		"nil":                        {err: nil, want: ""},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if got := Rule(tc.err); got != tc.want {
				t.Fatalf("got %q, want %q", got, tc.want)
			}
		})
	}
}

func TestShorten(t *testing.T) {
	tests := map[string]struct {
		in, want string
	}{
		"short value kept":       {in: "Document01", want: "Document01"},
		"control characters":     {in: "Doc\x00ument\n01", want: "Doc?ument?01"},
		"invalid UTF-8":          {in: "Doc\xffument", want: "Doc?ument"},
		"long value cut at 80":   {in: strings.Repeat("a", 100), want: strings.Repeat("a", 80) + "…"},
		"cut between characters": {in: strings.Repeat("ø", 81), want: strings.Repeat("ø", 80) + "…"},
		"exactly 80 characters":  {in: strings.Repeat("å", 80), want: strings.Repeat("å", 80)},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if got := shorten(tc.in); got != tc.want {
				t.Fatalf("shorten(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}
