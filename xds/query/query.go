package query

import "kjdd/xds/rim"

// Stored query ids (ITI TF-2 3.18.4.1.2.3.7), identical in IPF, the NIST
// toolkit and NHN's reference gateway.
const (
	QueryFindDocuments               = "urn:uuid:14d4debf-8f97-4251-9a74-a90016b0af0d"
	QueryFindSubmissionSets          = "urn:uuid:f26abbcb-ac74-4422-8a30-edb644bbc1a9"
	QueryFindFolders                 = "urn:uuid:958f3006-baad-4929-a4de-ff1114824431"
	QueryGetAll                      = "urn:uuid:10b545ea-725c-446d-9b95-8aeb444eddf3"
	QueryGetDocuments                = "urn:uuid:5c4f972b-d56b-40ac-a5fc-c8ca9b40b9d4"
	QueryGetFolders                  = "urn:uuid:5737b14c-8a1a-4539-b659-e03a34a5e1e4"
	QueryGetAssociations             = "urn:uuid:a7ae438b-4bc2-4642-93e9-be891f7bb155"
	QueryGetDocumentsAndAssociations = "urn:uuid:bab9529a-4a10-40b3-a01f-f68a615d247a"
	QueryGetSubmissionSets           = "urn:uuid:51224314-5390-4169-9b91-b1980040715a"
	QueryGetSubmissionSetAndContents = "urn:uuid:e8e3cb2c-e39c-46b9-99e4-c12f57260b83"
	QueryGetFolderAndContents        = "urn:uuid:b909a503-523d-4517-8acf-8e5834dfc4c7"
	QueryGetFoldersForDocument       = "urn:uuid:10cae35a-c7f9-4cf5-b61e-fc3278ffb578"
	QueryGetRelatedDocuments         = "urn:uuid:d90e5407-b356-4d91-a89f-873917b4b0e6"
	QueryFindDocumentsByReferenceID  = "urn:uuid:12941a89-e02e-4be5-967c-ce4bfc8fe492"

	// Multi-Patient Query (ITI-51) ids. kjdd does not serve them: a request
	// carrying one is answered with XDSUnknownStoredQuery.
	QueryFindDocumentsForMultiplePatients = "urn:uuid:3d1bdb10-39a2-11de-89c2-2f44d94eaa9f"
	QueryFindFoldersForMultiplePatients   = "urn:uuid:50d3f5ac-39a2-11de-a1ca-b366239e58df"
)

// StoredQuery is a parsed ITI-18/ITI-38 AdhocQueryRequest.
type StoredQuery struct {
	ID         string `json:"id"`             // canonical stored query id: urn:uuid:, lower-case
	Name       string `json:"name"`           // e.g. "FindDocuments"
	ReturnType string `json:"returnType"`     // ReturnLeafClass or ReturnObjectRef
	Home       string `json:"home,omitempty"` // AdhocQuery@home as sent (XCA), "" when absent
	Params     Params `json:"params"`
}

// Params are the typed parameters of a stored query. Which fields are
// meaningful depends on the query; the parser fills only those the query
// defines and ignores unknown parameters (ITI TF-2 3.18.4.1.2.3.5, NIST
// test 11897/practicesetting_scheme).
//
// Lists are OR-ed; the [][] fields are AND-of-OR: every inner list must match
// (one inner list per repetition of the slot).
type Params struct {
	// PatientID is the CX (id^^^&OID&ISO) of $XDSDocumentEntryPatientId,
	// $XDSSubmissionSetPatientId, $XDSFolderPatientId or $patientId.
	PatientID string `json:"patientId,omitempty"`

	DocumentEntryStatuses []string `json:"documentEntryStatuses,omitempty"`
	SubmissionSetStatuses []string `json:"submissionSetStatuses,omitempty"`
	FolderStatuses        []string `json:"folderStatuses,omitempty"`

	// DocumentEntryTypes is $XDSDocumentEntryType (objectType UUIDs). Empty
	// means the ITI-18 default: stable entries only.
	DocumentEntryTypes []string `json:"documentEntryTypes,omitempty"`

	ClassCodes                  []rim.Code   `json:"classCodes,omitempty"`
	TypeCodes                   []rim.Code   `json:"typeCodes,omitempty"`
	PracticeSettingCodes        []rim.Code   `json:"practiceSettingCodes,omitempty"`
	HealthcareFacilityTypeCodes []rim.Code   `json:"healthcareFacilityTypeCodes,omitempty"`
	FormatCodes                 []rim.Code   `json:"formatCodes,omitempty"`
	EventCodes                  [][]rim.Code `json:"eventCodes,omitempty"`
	ConfidentialityCodes        [][]rim.Code `json:"confidentialityCodes,omitempty"`
	AuthorPersons               []string     `json:"authorPersons,omitempty"` // SQL LIKE patterns: % any run, _ one character
	CreationTime                TimeRange    `json:"creationTime,omitzero"`
	ServiceStartTime            TimeRange    `json:"serviceStartTime,omitzero"`
	ServiceStopTime             TimeRange    `json:"serviceStopTime,omitzero"`
	ReferenceIDs                [][]string   `json:"referenceIds,omitempty"`

	SubmissionSetSourceIDs    []string   `json:"submissionSetSourceIds,omitempty"`
	SubmissionTime            TimeRange  `json:"submissionTime,omitzero"`
	SubmissionSetAuthorPerson string     `json:"submissionSetAuthorPerson,omitempty"` // one SQL LIKE pattern
	ContentTypeCodes          []rim.Code `json:"contentTypeCodes,omitempty"`

	FolderLastUpdateTime TimeRange    `json:"folderLastUpdateTime,omitzero"`
	FolderCodes          [][]rim.Code `json:"folderCodes,omitempty"`

	// Id-based selection. UUIDs are canonical (urn:uuid:, lower-case) even
	// when the request sent a bare UUID.
	DocumentEntryUUIDs     []string `json:"documentEntryUuids,omitempty"`
	DocumentEntryUniqueIDs []string `json:"documentEntryUniqueIds,omitempty"`
	FolderUUIDs            []string `json:"folderUuids,omitempty"`
	FolderUniqueIDs        []string `json:"folderUniqueIds,omitempty"`
	SubmissionSetUUIDs     []string `json:"submissionSetUuids,omitempty"`
	SubmissionSetUniqueIDs []string `json:"submissionSetUniqueIds,omitempty"`
	UUIDs                  []string `json:"uuids,omitempty"` // $uuid of GetAssociations, GetSubmissionSets
	AssociationTypes       []string `json:"associationTypes,omitempty"`

	// MetadataLevel is $MetadataLevel (1 or 2; 1 when absent). kjdd has no
	// metadata update, so both levels return the same objects.
	MetadataLevel int `json:"metadataLevel,omitempty"`
}

// TimeRange selects on an HL7 DTM attribute (YYYY[MM[DD[hh[mm[ss]]]]], UTC):
// From is inclusive, To exclusive, an empty bound is open.
//
// Values of different precision are compared on their common prefix, the
// precision both have: From "2004" admits "20040615", To "2005" excludes
// "20050101", and "20041224" equals "200412241530" at day precision, so it
// satisfies From but not To. An object without the attribute never matches
// a range that has a bound.
type TimeRange struct {
	From string `json:"from,omitempty"`
	To   string `json:"to,omitempty"`
}

// IsZero reports whether the range has no bound.
func (r TimeRange) IsZero() bool { return r.From == "" && r.To == "" }

// Contains reports whether the DTM value t lies in the range.
func (r TimeRange) Contains(t string) bool {
	if r.IsZero() {
		return true
	}
	if t == "" {
		return false
	}
	if r.From != "" && compareDTMPrefix(t, r.From) < 0 {
		return false
	}
	if r.To != "" && compareDTMPrefix(t, r.To) >= 0 {
		return false
	}
	return true
}

// compareDTMPrefix compares a and b truncated to the shorter of the two.
func compareDTMPrefix(a, b string) int {
	n := min(len(a), len(b))
	switch {
	case a[:n] < b[:n]:
		return -1
	case a[:n] > b[:n]:
		return 1
	}
	return 0
}

// IDBased reports whether the query selects objects by id rather than by
// patient. In XCA such queries must carry AdhocQuery@home; the gateway
// enforces that.
func (q *StoredQuery) IDBased() bool {
	def, ok := queryDefs[q.ID]
	return ok && def.idBased
}

// PatientID returns the patient the query is about, or "" for id-based
// queries.
func (q *StoredQuery) PatientID() string {
	if q.IDBased() {
		return ""
	}
	return q.Params.PatientID
}
