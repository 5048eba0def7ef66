package validate

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"unicode"

	"kjdd/xds/hl7"
	"kjdd/xds/rim"
)

// Transaction is the IHE transaction a submission arrived with; it decides
// which metadata rules apply.
type Transaction int

// The transactions that carry a submission.
const (
	// ITI41 is Provide and Register Document Set-b: metadata plus content.
	ITI41 Transaction = iota + 1
	// ITI42 is Register Document Set-b: metadata only, content stays in the
	// source's repository.
	ITI42
)

// String returns the IHE name of the transaction.
func (t Transaction) String() string {
	switch t {
	case ITI41:
		return "ITI-41"
	case ITI42:
		return "ITI-42"
	}
	return "Transaction(" + strconv.Itoa(int(t)) + ")"
}

// Options selects the rules Submission applies.
type Options struct {
	// Transaction is ITI41 or ITI42; any other value fails validation.
	Transaction Transaction
	// Norwegian adds the rules of the Norwegian XDS metadata profile
	// (HIS 1169) to the IHE rules.
	Norwegian bool
	// HomeCommunityID, when set, becomes the location of every error.
	HomeCommunityID string
	// AcceptFHNumber accepts felles hjelpenummer (FH-nummer) patient ids
	// besides fødselsnummer and D-nummer in the Norwegian profile.
	AcceptFHNumber bool
	// Lenient lists rule ids (such as "IHE-DE-TITLE") whose violations are
	// reported as warnings instead of errors. Only rules about the form of
	// descriptive metadata may be relaxed; rules about identity, patient,
	// structure, integrity and confidentiality never are (see Validate).
	Lenient []string
}

// DefaultOptions returns the options kjdd runs with: the IHE rules
// for tx plus the Norwegian profile, FH-nummer accepted, nothing relaxed.
func DefaultOptions(tx Transaction) Options {
	return Options{Transaction: tx, Norwegian: true, AcceptFHNumber: true}
}

// Validate reports whether the options are usable: a known transaction and
// only known, relaxable rule ids in Lenient.
func (o Options) Validate() error {
	if o.Transaction != ITI41 && o.Transaction != ITI42 {
		return fmt.Errorf("validation: unknown transaction %d", int(o.Transaction))
	}
	for _, r := range o.Lenient {
		relaxable, known := ruleCatalog[r]
		if !known {
			return fmt.Errorf("validation: unknown rule %q", r)
		}
		if !relaxable {
			return fmt.Errorf("validation: rule %q cannot be relaxed", r)
		}
	}
	return nil
}

// Rules returns the ids of every rule Submission applies,
// sorted.
func Rules() []string {
	rules := make([]string, 0, len(ruleCatalog))
	for r := range ruleCatalog {
		rules = append(rules, r)
	}
	slices.Sort(rules)
	return rules
}

// Rule returns the rule id of an error produced by
// Submission ("IHE-DE-CLASSCODE"), or "" for any other error.
func Rule(e *rim.RegistryError) string {
	if e == nil || !strings.HasPrefix(e.Context, "[") {
		return ""
	}
	end := strings.IndexByte(e.Context, ']')
	if end < 0 {
		return ""
	}
	if _, ok := ruleCatalog[e.Context[1:end]]; !ok {
		return ""
	}
	return e.Context[1:end]
}

// Rule ids of the IHE rules (ITI TF-3 4.2.x, as IPF's ObjectContainerValidator
// enforces them for non-limited metadata).
const (
	ruleOptions           = "IHE-OPTIONS"
	ruleSubmission        = "IHE-SUBMISSION"
	ruleSSCount           = "IHE-SS-COUNT"
	ruleSSID              = "IHE-SS-ID"
	ruleSSUniqueID        = "IHE-SS-UNIQUEID"
	ruleSSSourceID        = "IHE-SS-SOURCEID"
	ruleSSPatientID       = "IHE-SS-PATIENTID"
	ruleSSSubmissionTime  = "IHE-SS-SUBMISSIONTIME"
	ruleSSContentTypeCode = "IHE-SS-CONTENTTYPECODE"
	ruleSSTitle           = "IHE-SS-TITLE"
	ruleSSAuthor          = "IHE-SS-AUTHOR"

	ruleDEID                  = "IHE-DE-ID"
	ruleDEObjectType          = "IHE-DE-OBJECTTYPE"
	ruleDEMimeType            = "IHE-DE-MIMETYPE"
	ruleDEUniqueID            = "IHE-DE-UNIQUEID"
	ruleDEPatientID           = "IHE-DE-PATIENTID"
	ruleDESourcePatientID     = "IHE-DE-SOURCEPATIENTID"
	ruleDECreationTime        = "IHE-DE-CREATIONTIME"
	ruleDELanguageCode        = "IHE-DE-LANGUAGECODE"
	ruleDEServiceTime         = "IHE-DE-SERVICETIME"
	ruleDETitle               = "IHE-DE-TITLE"
	ruleDEClassCode           = "IHE-DE-CLASSCODE"
	ruleDETypeCode            = "IHE-DE-TYPECODE"
	ruleDEFormatCode          = "IHE-DE-FORMATCODE"
	ruleDEFacilityTypeCode    = "IHE-DE-HCFTYPECODE"
	ruleDEPracticeSetting     = "IHE-DE-PRACTICESETTINGCODE"
	ruleDEConfidentialityCode = "IHE-DE-CONFIDENTIALITYCODE"
	ruleDEEventCode           = "IHE-DE-EVENTCODE"
	ruleDEAuthor              = "IHE-DE-AUTHOR"
	ruleDELegalAuthenticator  = "IHE-DE-LEGALAUTHENTICATOR"
	ruleDEHash                = "IHE-DE-HASH"
	ruleDESize                = "IHE-DE-SIZE"
	ruleDERepositoryUniqueID  = "IHE-DE-REPOSITORYUNIQUEID"
	ruleDEMembership          = "IHE-DE-MEMBERSHIP"

	ruleFDID         = "IHE-FD-ID"
	ruleFDUniqueID   = "IHE-FD-UNIQUEID"
	ruleFDPatientID  = "IHE-FD-PATIENTID"
	ruleFDCodeList   = "IHE-FD-CODELIST"
	ruleFDTitle      = "IHE-FD-TITLE"
	ruleFDMembership = "IHE-FD-MEMBERSHIP"

	ruleIDDuplicate       = "IHE-ID-DUPLICATE"
	ruleUniqueIDDuplicate = "IHE-UNIQUEID-DUPLICATE"
	rulePatientIDMatch    = "IHE-PATIENTID-MATCH"
	ruleObjectRef         = "IHE-OBJECTREF"

	ruleAssocType      = "IHE-ASSOC-TYPE"
	ruleAssocRef       = "IHE-ASSOC-REF"
	ruleAssocHasMember = "IHE-ASSOC-HASMEMBER"
	ruleAssocSSStatus  = "IHE-ASSOC-SSSTATUS"
	ruleAssocRelation  = "IHE-ASSOC-RELATION"

	ruleDocMissing    = "IHE-DOC-MISSING"
	ruleDocMetadata   = "IHE-DOC-METADATA"
	ruleDocDuplicate  = "IHE-DOC-DUPLICATE"
	ruleDocUnexpected = "IHE-DOC-UNEXPECTED"
)

// ruleCatalog lists every rule id and whether an operator may relax it to a
// warning. Rules guarding identity, the patient, the structure of the
// submission, content integrity and confidentiality (sperring depends on it)
// are never relaxable: relaxing them could register a document under the
// wrong patient or without its blocking code.
var ruleCatalog = map[string]bool{
	ruleOptions: false, ruleSubmission: false, ruleSSCount: false,
	ruleSSID: false, ruleSSUniqueID: false, ruleSSSourceID: true, ruleSSPatientID: false,
	ruleSSSubmissionTime: true, ruleSSContentTypeCode: true, ruleSSTitle: true, ruleSSAuthor: true,

	ruleDEID: false, ruleDEObjectType: false, ruleDEMimeType: false, ruleDEUniqueID: false,
	ruleDEPatientID: false, ruleDESourcePatientID: true, ruleDECreationTime: true,
	ruleDELanguageCode: true, ruleDEServiceTime: true, ruleDETitle: true,
	ruleDEClassCode: true, ruleDETypeCode: true, ruleDEFormatCode: true,
	ruleDEFacilityTypeCode: true, ruleDEPracticeSetting: true, ruleDEConfidentialityCode: false,
	ruleDEEventCode: true, ruleDEAuthor: true, ruleDELegalAuthenticator: true,
	ruleDEHash: false, ruleDESize: false, ruleDERepositoryUniqueID: false, ruleDEMembership: false,

	ruleFDID: false, ruleFDUniqueID: false, ruleFDPatientID: false, ruleFDCodeList: true,
	ruleFDTitle: true, ruleFDMembership: false,

	ruleIDDuplicate: false, ruleUniqueIDDuplicate: false, rulePatientIDMatch: false, ruleObjectRef: false,
	ruleAssocType: false, ruleAssocRef: false, ruleAssocHasMember: false, ruleAssocSSStatus: false,
	ruleAssocRelation: false,
	ruleDocMissing:    false, ruleDocMetadata: false, ruleDocDuplicate: false, ruleDocUnexpected: false,

	ruleNOPatientIDAuthority: false, ruleNOPatientIDCheckDigit: false,
	ruleNOClassCodeScheme: true, ruleNOClassCodeValue: true,
	ruleNOTypeCodeScheme: true, ruleNOTypeCodeValue: true,
	ruleNOConfidentiality: false, ruleNOFacilityTypeScheme: true, ruleNOPracticeSettingScheme: true,
	ruleNOAuthorPerson: true, ruleNOAuthorInstitution: true, ruleNOAuthorInstitutionID: true,
	ruleNOObjectType: false,
}

// Submission checks the metadata of an ITI-41 or ITI-42 submission
// against the IHE rules and, with opts.Norwegian, the Norwegian profile. It
// returns every problem found, each with the most specific error code and a
// codeContext "[RULE-ID] Object id: what is wrong" that never contains a
// national identity number or a person's name. An empty result means the
// submission may be registered; references to objects already in the
// registry are only checked for syntax here, the registry resolves them.
func Submission(sub *rim.Submission, opts Options) rim.RegistryErrors {
	v := &validator{opts: opts, lenient: make(map[string]bool, len(opts.Lenient))}
	if err := opts.Validate(); err != nil {
		// Fail closed: a misconfigured validator accepts nothing.
		v.report(rim.XDSRegistryError, ruleOptions, "Submission", "%s", err.Error())
		return v.errs
	}
	for _, r := range opts.Lenient {
		v.lenient[r] = true
	}
	if sub == nil {
		v.report(rim.XDSRegistryMetadataError, ruleSubmission, "Submission", "no submission")
		return v.errs
	}
	v.sub = sub
	v.index()
	v.checkSubmissionSetCount()
	if ss := sub.SubmissionSet; ss != nil {
		v.checkSubmissionSet(ss)
	}
	for i, de := range sub.DocumentEntries {
		if de == nil {
			v.report(rim.XDSRegistryMetadataError, ruleDEID, "DocumentEntry #"+strconv.Itoa(i+1), "empty entry")
			continue
		}
		v.checkDocumentEntry(de)
	}
	for i, f := range sub.Folders {
		if f == nil {
			v.report(rim.XDSRegistryMetadataError, ruleFDID, "Folder #"+strconv.Itoa(i+1), "empty folder")
			continue
		}
		v.checkFolder(f)
	}
	v.checkUniqueness()
	v.checkPatientIDsMatch()
	v.checkObjectRefs()
	v.checkAssociations()
	v.checkMembership()
	v.checkDocuments()
	if opts.Norwegian {
		v.checkNorwegian()
	}
	return v.errs
}

// validator carries one validation run.
type validator struct {
	opts    Options
	lenient map[string]bool
	sub     *rim.Submission
	errs    rim.RegistryErrors

	// Objects of the submission by their id (entryUUID or symbolic id).
	entries     map[string]*rim.DocumentEntry
	folders     map[string]*rim.Folder
	assocs      map[string]*rim.Association
	ssID        string
	entryLabels map[*rim.DocumentEntry]string
	folderLabel map[*rim.Folder]string
}

// report records one problem. Any 11-digit run in the context is masked:
// callers choose object ids and codes, and one may have used a national id.
func (v *validator) report(code rim.ErrorCode, rule, object, format string, args ...any) {
	ctx := "[" + rule + "] " + object + ": " + fmt.Sprintf(format, args...)
	ctx = hl7.RedactNationalIDs(ctx)
	e := rim.NewError(code, ctx)
	if v.lenient[rule] {
		e = rim.NewWarning(code, ctx)
	}
	e.Location = v.opts.HomeCommunityID
	v.errs = append(v.errs, e)
}

// metadata reports an XDSRegistryMetadataError.
func (v *validator) metadata(rule, object, format string, args ...any) {
	v.report(rim.XDSRegistryMetadataError, rule, object, format, args...)
}

// index builds the lookup tables and object labels.
func (v *validator) index() {
	v.entries = make(map[string]*rim.DocumentEntry, len(v.sub.DocumentEntries))
	v.folders = make(map[string]*rim.Folder, len(v.sub.Folders))
	v.assocs = make(map[string]*rim.Association, len(v.sub.Associations))
	v.entryLabels = make(map[*rim.DocumentEntry]string, len(v.sub.DocumentEntries))
	v.folderLabel = make(map[*rim.Folder]string, len(v.sub.Folders))
	if ss := v.sub.SubmissionSet; ss != nil {
		v.ssID = ss.EntryUUID
	}
	for i, de := range v.sub.DocumentEntries {
		if de == nil {
			continue
		}
		v.entryLabels[de] = "DocumentEntry " + objectName(de.EntryUUID, de.UniqueID, i)
		if _, dup := v.entries[de.EntryUUID]; !dup && de.EntryUUID != "" {
			v.entries[de.EntryUUID] = de
		}
	}
	for i, f := range v.sub.Folders {
		if f == nil {
			continue
		}
		v.folderLabel[f] = "Folder " + objectName(f.EntryUUID, f.UniqueID, i)
		if _, dup := v.folders[f.EntryUUID]; !dup && f.EntryUUID != "" {
			v.folders[f.EntryUUID] = f
		}
	}
	for _, a := range v.sub.Associations {
		if a != nil && a.EntryUUID != "" {
			v.assocs[a.EntryUUID] = a
		}
	}
}

// objectName names an object by its id, else its uniqueId, else its position.
func objectName(id, uniqueID string, i int) string {
	switch {
	case id != "":
		return shorten(id)
	case uniqueID != "":
		return shorten(uniqueID)
	}
	return "#" + strconv.Itoa(i+1)
}

// shorten makes a caller-supplied string safe to quote in an error context:
// at most 80 characters, valid UTF-8, no control characters (the context is
// rendered into XML and written to logs).
func shorten(s string) string {
	const limit = 80
	var b strings.Builder
	n := 0
	for _, r := range strings.ToValidUTF8(s, "?") {
		if n == limit {
			b.WriteString("…")
			break
		}
		if unicode.IsControl(r) {
			r = '?'
		}
		b.WriteRune(r)
		n++
	}
	return b.String()
}

// checkSubmissionSetCount enforces exactly one SubmissionSet.
func (v *validator) checkSubmissionSetCount() {
	n := v.sub.SubmissionSets
	if n == 0 && v.sub.SubmissionSet != nil {
		n = 1 // built in code rather than parsed
	}
	switch {
	case n == 0 || v.sub.SubmissionSet == nil:
		v.metadata(ruleSSCount, "Submission", "no SubmissionSet")
	case n > 1:
		v.metadata(ruleSSCount, "Submission", "%d SubmissionSets, exactly one is allowed", n)
	}
}

// checkSubmissionSet applies the SubmissionSet attribute rules.
func (v *validator) checkSubmissionSet(ss *rim.SubmissionSet) {
	label := "SubmissionSet " + objectName(ss.EntryUUID, ss.UniqueID, 0)
	v.checkEntryID(ruleSSID, label, ss.EntryUUID)
	v.checkOIDAttr(ruleSSUniqueID, label, "uniqueId", ss.UniqueID)
	v.checkOIDAttr(ruleSSSourceID, label, "sourceId", ss.SourceID)
	v.checkPatientID(ruleSSPatientID, label, ss.PatientID)
	v.checkDTMAttr(ruleSSSubmissionTime, label, "submissionTime", ss.SubmissionTime, true)
	v.checkCode(ruleSSContentTypeCode, label, "contentTypeCode", ss.ContentTypeCode, true)
	v.checkTitle(ruleSSTitle, label, ss.Title)
	v.checkAuthors(ruleSSAuthor, label, ss.Authors)
}

// checkDocumentEntry applies the DocumentEntry attribute rules.
func (v *validator) checkDocumentEntry(de *rim.DocumentEntry) {
	label := v.entryLabels[de]
	v.checkEntryID(ruleDEID, label, de.EntryUUID)

	switch de.ObjectType {
	case "":
		v.metadata(ruleDEObjectType, label, "objectType missing")
	case rim.ObjectTypeStable:
	case rim.ObjectTypeOnDemand:
		if v.opts.Transaction == ITI41 {
			v.metadata(ruleDEObjectType, label, "an on-demand entry cannot be provided with content")
		}
	default:
		v.metadata(ruleDEObjectType, label, "objectType is neither stable nor on-demand")
	}

	switch {
	case de.MimeType == "":
		v.metadata(ruleDEMimeType, label, "mimeType missing")
	case !validMimeType(de.MimeType):
		v.metadata(ruleDEMimeType, label, "mimeType is not a media type")
	}

	switch {
	case de.UniqueID == "":
		v.metadata(ruleDEUniqueID, label, "uniqueId missing")
	case tooLong(de.UniqueID, maxUniqueIDLength):
		v.metadata(ruleDEUniqueID, label, "uniqueId longer than %d characters", maxUniqueIDLength)
	case strings.ContainsAny(de.UniqueID, " \t\r\n"):
		v.metadata(ruleDEUniqueID, label, "uniqueId contains white space")
	}

	v.checkPatientID(ruleDEPatientID, label, de.PatientID)
	switch {
	case de.SourcePatientID == "":
		v.metadata(ruleDESourcePatientID, label, "sourcePatientId missing")
	default:
		if p := hl7.CXProblem(de.SourcePatientID, false); p != "" {
			v.metadata(ruleDESourcePatientID, label, "sourcePatientId is not a valid CX: %s", p)
		}
	}

	v.checkDTMAttr(ruleDECreationTime, label, "creationTime", de.CreationTime, true)
	switch {
	case de.LanguageCode == "":
		v.metadata(ruleDELanguageCode, label, "languageCode missing")
	case !validLanguageCode(de.LanguageCode):
		v.metadata(ruleDELanguageCode, label, "languageCode is not a language tag")
	}
	v.checkDTMAttr(ruleDEServiceTime, label, "serviceStartTime", de.ServiceStartTime, false)
	v.checkDTMAttr(ruleDEServiceTime, label, "serviceStopTime", de.ServiceStopTime, false)
	if hl7.ValidDTM(de.ServiceStartTime) && hl7.ValidDTM(de.ServiceStopTime) && !dtmNotAfter(de.ServiceStartTime, de.ServiceStopTime) {
		v.metadata(ruleDEServiceTime, label, "serviceStartTime is after serviceStopTime")
	}
	v.checkTitle(ruleDETitle, label, de.Title)

	v.checkCode(ruleDEClassCode, label, "classCode", de.ClassCode, true)
	v.checkCode(ruleDETypeCode, label, "typeCode", de.TypeCode, true)
	v.checkCode(ruleDEFormatCode, label, "formatCode", de.FormatCode, true)
	v.checkCode(ruleDEFacilityTypeCode, label, "healthcareFacilityTypeCode", de.HealthcareFacilityTypeCode, true)
	v.checkCode(ruleDEPracticeSetting, label, "practiceSettingCode", de.PracticeSettingCode, true)
	if len(de.ConfidentialityCodes) == 0 {
		v.metadata(ruleDEConfidentialityCode, label, "confidentialityCode missing")
	}
	for _, c := range de.ConfidentialityCodes {
		v.checkCode(ruleDEConfidentialityCode, label, "confidentialityCode", c, true)
	}
	for _, c := range de.EventCodes {
		v.checkCode(ruleDEEventCode, label, "eventCodeList", c, true)
	}

	v.checkAuthors(ruleDEAuthor, label, de.Authors)
	if de.LegalAuthenticator != "" {
		if p := hl7.XCNProblem(de.LegalAuthenticator); p != "" {
			v.metadata(ruleDELegalAuthenticator, label, "legalAuthenticator is not a valid XCN: %s", p)
		}
	}
	v.checkContentDescriptors(de, label)
}

// checkContentDescriptors applies the hash, size and repositoryUniqueId
// rules. For ITI-42 they describe content held elsewhere and are required;
// for ITI-41 the repository computes them from the content it receives and
// compares them there (XDSNonIdenticalHash/Size), so they are not checked here.
func (v *validator) checkContentDescriptors(de *rim.DocumentEntry, label string) {
	if v.opts.Transaction != ITI42 {
		return
	}
	switch {
	case de.Hash == "":
		v.metadata(ruleDEHash, label, "hash missing")
	case !validSHA1Hex(de.Hash):
		v.metadata(ruleDEHash, label, "hash is not a hex SHA-1 digest")
	}
	switch {
	case !de.HasSize:
		v.metadata(ruleDESize, label, "size missing")
	case de.Size < 0:
		v.metadata(ruleDESize, label, "size is negative")
	}
	v.checkOIDAttr(ruleDERepositoryUniqueID, label, "repositoryUniqueId", de.RepositoryUniqueID)
}

// checkFolder applies the Folder attribute rules.
func (v *validator) checkFolder(f *rim.Folder) {
	label := v.folderLabel[f]
	v.checkEntryID(ruleFDID, label, f.EntryUUID)
	v.checkOIDAttr(ruleFDUniqueID, label, "uniqueId", f.UniqueID)
	v.checkPatientID(ruleFDPatientID, label, f.PatientID)
	if len(f.CodeList) == 0 {
		v.metadata(ruleFDCodeList, label, "codeList missing")
	}
	for _, c := range f.CodeList {
		v.checkCode(ruleFDCodeList, label, "codeList", c, true)
	}
	v.checkTitle(ruleFDTitle, label, f.Title)
}

// checkEntryID requires an object id; a urn:uuid id must be a real UUID.
func (v *validator) checkEntryID(rule, label, id string) {
	switch {
	case id == "":
		v.metadata(rule, label, "id missing")
	case hasURNUUIDPrefix(id) && !hl7.IsURNUUID(id):
		v.metadata(rule, label, "id is a malformed urn:uuid")
	}
}

// checkOIDAttr requires attribute name to be an OID.
func (v *validator) checkOIDAttr(rule, label, name, value string) {
	switch {
	case value == "":
		v.metadata(rule, label, "%s missing", name)
	case !hl7.ValidOID(value):
		v.metadata(rule, label, "%s is not an OID of at most %d characters", name, hl7.MaxOIDLength)
	}
}

// checkDTMAttr checks a timestamp attribute.
func (v *validator) checkDTMAttr(rule, label, name, value string, required bool) {
	switch {
	case value == "":
		if required {
			v.metadata(rule, label, "%s missing", name)
		}
	case !hl7.ValidDTM(value):
		v.metadata(rule, label, "%s is not a UTC timestamp YYYY[MM[DD[hh[mm[ss]]]]]", name)
	}
}

// checkPatientID requires a patientId in strict CX form. Its value is never
// quoted: it is a national identity number.
func (v *validator) checkPatientID(rule, label, pid string) {
	if pid == "" {
		v.metadata(rule, label, "patientId missing")
		return
	}
	if _, _, ok := hl7.ParseCX(pid); ok {
		return
	}
	p := hl7.CXProblem(pid, true)
	if p == "" {
		p = "not of the form id^^^&OID&ISO"
	}
	v.metadata(rule, label, "patientId is not a valid CX: %s", p)
}

// checkCode checks one coded attribute: a code and its codingScheme.
func (v *validator) checkCode(rule, label, name string, c rim.Code, required bool) {
	switch {
	case c.Code == "" && c.Scheme == "" && c.Display == "":
		if required {
			v.metadata(rule, label, "%s missing", name)
		}
	case c.Code == "":
		v.metadata(rule, label, "%s has no code", name)
	case c.Scheme == "":
		v.metadata(rule, label, "%s %s has no codingScheme", name, shorten(c.Code))
	}
}

// checkTitle limits the title length.
func (v *validator) checkTitle(rule, label, title string) {
	if tooLong(title, maxTitleLength) {
		v.metadata(rule, label, "title longer than %d characters", maxTitleLength)
	}
}

// checkAuthors checks the author datatypes. Values are never quoted: they
// carry names.
func (v *validator) checkAuthors(rule, label string, authors []rim.Author) {
	for i, a := range authors {
		n := "author " + strconv.Itoa(i+1)
		if a.Person == "" && len(a.Institutions) == 0 && len(a.Telecommunications) == 0 {
			v.metadata(rule, label, "%s has none of authorPerson, authorInstitution, authorTelecommunication", n)
			continue
		}
		if a.Person != "" {
			if p := hl7.XCNProblem(a.Person); p != "" {
				v.metadata(rule, label, "%s authorPerson is not a valid XCN: %s", n, p)
			}
		}
		for _, inst := range a.Institutions {
			if p := hl7.XONProblem(inst); p != "" {
				v.metadata(rule, label, "%s authorInstitution is not a valid XON: %s", n, p)
			}
		}
		for _, tel := range a.Telecommunications {
			if p := hl7.XTNProblem(tel); p != "" {
				v.metadata(rule, label, "%s authorTelecommunication is not a valid XTN: %s", n, p)
			}
		}
	}
}

// checkUniqueness finds ids and uniqueIds used twice in the message.
func (v *validator) checkUniqueness() {
	ids := map[string]string{}
	uids := map[string]string{}
	seenID := func(id, label string) {
		if id == "" {
			return
		}
		if first, dup := ids[id]; dup {
			v.metadata(ruleIDDuplicate, label, "id already used by %s", first)
			return
		}
		ids[id] = label
	}
	seenUID := func(uid, label string) {
		if uid == "" {
			return
		}
		if first, dup := uids[uid]; dup {
			v.report(rim.XDSRegistryDuplicateUniqueIDInMessage, ruleUniqueIDDuplicate, label,
				"uniqueId %s already used by %s", shorten(uid), first)
			return
		}
		uids[uid] = label
	}
	if ss := v.sub.SubmissionSet; ss != nil {
		label := "SubmissionSet " + objectName(ss.EntryUUID, ss.UniqueID, 0)
		seenID(ss.EntryUUID, label)
		seenUID(ss.UniqueID, label)
	}
	for _, de := range v.sub.DocumentEntries {
		if de != nil {
			seenID(de.EntryUUID, v.entryLabels[de])
			seenUID(de.UniqueID, v.entryLabels[de])
		}
	}
	for _, f := range v.sub.Folders {
		if f != nil {
			seenID(f.EntryUUID, v.folderLabel[f])
			seenUID(f.UniqueID, v.folderLabel[f])
		}
	}
	for i, a := range v.sub.Associations {
		if a != nil {
			seenID(a.EntryUUID, "Association "+objectName(a.EntryUUID, "", i))
		}
	}
}

// checkPatientIDsMatch requires one patient across the submission: the
// SubmissionSet's, or else the first one found.
func (v *validator) checkPatientIDsMatch() {
	ref := ""
	if ss := v.sub.SubmissionSet; ss != nil {
		ref = ss.PatientID
	}
	compare := func(pid, label string) {
		switch {
		case pid == "":
		case ref == "":
			ref = pid
		case pid != ref:
			v.report(rim.XDSPatientIDDoesNotMatch, rulePatientIDMatch, label,
				"patientId differs from the SubmissionSet's")
		}
	}
	for _, de := range v.sub.DocumentEntries {
		if de != nil {
			compare(de.PatientID, v.entryLabels[de])
		}
	}
	for _, f := range v.sub.Folders {
		if f != nil {
			compare(f.PatientID, v.folderLabel[f])
		}
	}
}

// checkObjectRefs requires ObjectRefs to be urn:uuid references.
func (v *validator) checkObjectRefs() {
	for _, ref := range v.sub.ObjectRefs {
		if !hl7.IsURNUUID(ref) {
			v.metadata(ruleObjectRef, "ObjectRef "+shorten(ref), "not a urn:uuid")
		}
	}
}

// associationTypes are the association types a submission may carry.
var associationTypes = map[string]bool{
	rim.AssocHasMember: true, rim.AssocRPLC: true, rim.AssocAPND: true, rim.AssocXFRM: true,
	rim.AssocXFRMRPLC: true, rim.AssocSigns: true, rim.AssocIsSnapshot: true,
}

// shortAssociationTypes are the ebRIM 2.1 names of association types. They
// are wrong in ebRIM 3.0 (IHE's own ITI-41/42 examples still use
// "HasMember"), and a registry storing them would miss them in queries, but
// their meaning is unambiguous: validation reports the name once and goes on
// checking the association as what it means.
var shortAssociationTypes = map[string]string{
	"HasMember": rim.AssocHasMember, "RPLC": rim.AssocRPLC, "APND": rim.AssocAPND, "XFRM": rim.AssocXFRM,
	"XFRM_RPLC": rim.AssocXFRMRPLC, "signs": rim.AssocSigns, "IsSnapshotOf": rim.AssocIsSnapshot,
}

// associationType returns the full type of a, mapping a short name to it.
func associationType(a *rim.Association) string {
	if full, ok := shortAssociationTypes[a.Type]; ok {
		return full
	}
	return a.Type
}

// checkAssociations checks type and references of every association.
func (v *validator) checkAssociations() {
	for i, a := range v.sub.Associations {
		label := "Association #" + strconv.Itoa(i+1)
		if a == nil {
			v.metadata(ruleAssocRef, label, "empty association")
			continue
		}
		label = "Association " + objectName(a.EntryUUID, "", i)
		if a.EntryUUID != "" && hasURNUUIDPrefix(a.EntryUUID) && !hl7.IsURNUUID(a.EntryUUID) {
			v.metadata(ruleAssocRef, label, "id is a malformed urn:uuid")
		}
		typ := associationType(a)
		switch {
		case a.Type == "":
			v.metadata(ruleAssocType, label, "associationType missing")
			continue
		case !associationTypes[typ]:
			v.metadata(ruleAssocType, label, "associationType %s is not allowed in a submission", shorten(a.Type))
			continue
		case typ != a.Type:
			v.metadata(ruleAssocType, label, "associationType %s is the ebRIM 2.1 short form of %s", a.Type, typ)
		}
		if !v.checkReference(label, "sourceObject", a.Source) || !v.checkReference(label, "targetObject", a.Target) {
			continue
		}
		if a.Source == a.Target {
			v.metadata(ruleAssocRef, label, "sourceObject and targetObject are the same")
			continue
		}
		if typ == rim.AssocHasMember {
			v.checkHasMember(a, label)
			continue
		}
		v.checkRelationship(a, typ, label)
	}
}

// checkReference requires an association end to name an object of the
// submission or, by urn:uuid, one in the registry (resolved later).
func (v *validator) checkReference(label, end, ref string) bool {
	switch {
	case ref == "":
		v.metadata(ruleAssocRef, label, "%s missing", end)
		return false
	case v.inMessage(ref):
		return true
	case !hl7.IsURNUUID(ref):
		v.metadata(ruleAssocRef, label, "%s %s is neither an object of the submission nor a urn:uuid", end, shorten(ref))
		return false
	}
	return true
}

// inMessage reports whether id names an object of the submission.
func (v *validator) inMessage(id string) bool {
	if id == v.ssID && id != "" {
		return true
	}
	_, de := v.entries[id]
	_, f := v.folders[id]
	_, a := v.assocs[id]
	return de || f || a
}

// checkHasMember checks a HasMember association: from the SubmissionSet to
// any member, or from a Folder to a DocumentEntry.
func (v *validator) checkHasMember(a *rim.Association, label string) {
	_, targetIsEntry := v.entries[a.Target]
	switch {
	case a.Source == v.ssID && v.ssID != "":
		if a.Target == v.ssID {
			v.metadata(ruleAssocHasMember, label, "the SubmissionSet cannot be its own member")
			return
		}
		switch a.SubmissionSetStatus {
		case "Original":
		case "Reference":
			if targetIsEntry {
				v.metadata(ruleAssocSSStatus, label, "SubmissionSetStatus of a DocumentEntry submitted here must be Original")
			}
		case "":
			if targetIsEntry {
				v.metadata(ruleAssocSSStatus, label, "SubmissionSetStatus missing")
			}
		default:
			v.metadata(ruleAssocSSStatus, label, "SubmissionSetStatus must be Original or Reference")
		}
	case v.folders[a.Source] != nil || (!v.inMessage(a.Source) && hl7.IsURNUUID(a.Source)):
		if !targetIsEntry && v.inMessage(a.Target) {
			v.metadata(ruleAssocHasMember, label, "a Folder's member must be a DocumentEntry")
		}
	default:
		v.metadata(ruleAssocHasMember, label, "HasMember source must be the SubmissionSet or a Folder")
	}
}

// checkRelationship checks RPLC, APND, XFRM, XFRM_RPLC, signs and
// IsSnapshotOf: the source is a DocumentEntry of this submission, the target
// a DocumentEntry already in the registry (for signs it may also be one of
// this submission).
func (v *validator) checkRelationship(a *rim.Association, typ, label string) {
	name := typ[strings.LastIndexByte(typ, ':')+1:]
	if _, ok := v.entries[a.Source]; !ok {
		v.metadata(ruleAssocRelation, label, "source of %s must be a DocumentEntry of the submission", name)
	}
	if !v.inMessage(a.Target) {
		return
	}
	if _, ok := v.entries[a.Target]; ok && typ == rim.AssocSigns {
		return
	}
	v.metadata(ruleAssocRelation, label, "target of %s must be a DocumentEntry already in the registry", name)
}

// checkMembership requires every DocumentEntry and Folder of the submission
// to be a HasMember target of the SubmissionSet.
func (v *validator) checkMembership() {
	if v.sub.SubmissionSet == nil || v.ssID == "" {
		return // the SubmissionSet rule has already failed
	}
	members := map[string]bool{}
	for _, a := range v.sub.Associations {
		if a != nil && associationType(a) == rim.AssocHasMember && a.Source == v.ssID {
			members[a.Target] = true
		}
	}
	for _, de := range v.sub.DocumentEntries {
		if de != nil && de.EntryUUID != "" && !members[de.EntryUUID] {
			v.metadata(ruleDEMembership, v.entryLabels[de], "not a member of the SubmissionSet (HasMember association missing)")
		}
	}
	for _, f := range v.sub.Folders {
		if f != nil && f.EntryUUID != "" && !members[f.EntryUUID] {
			v.metadata(ruleFDMembership, v.folderLabel[f], "not a member of the SubmissionSet (HasMember association missing)")
		}
	}
}

// checkDocuments matches ITI-41 documents with DocumentEntries one to one;
// ITI-42 carries no documents.
func (v *validator) checkDocuments() {
	if v.opts.Transaction == ITI42 {
		if len(v.sub.Documents) > 0 {
			v.metadata(ruleDocUnexpected, "Submission", "Register Document Set-b carries no documents")
		}
		return
	}
	count := map[string]int{}
	for i, d := range v.sub.Documents {
		label := "Document " + objectName(d.ID, "", i)
		count[d.ID]++
		switch {
		case d.ID == "":
			v.report(rim.XDSMissingDocumentMetadata, ruleDocMetadata, label, "document has no id")
		case v.entries[d.ID] == nil:
			v.report(rim.XDSMissingDocumentMetadata, ruleDocMetadata, label, "no DocumentEntry for this document")
		case count[d.ID] == 2:
			v.report(rim.XDSRepositoryMetadataError, ruleDocDuplicate, label, "document supplied more than once")
		case d.Content == nil && count[d.ID] == 1:
			v.report(rim.XDSMissingDocument, ruleDocMissing, label, "document has no content")
		}
	}
	for _, de := range v.sub.DocumentEntries {
		if de != nil && de.EntryUUID != "" && count[de.EntryUUID] == 0 {
			v.report(rim.XDSMissingDocument, ruleDocMissing, v.entryLabels[de], "no document supplied for this DocumentEntry")
		}
	}
}
