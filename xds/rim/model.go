package rim

import "kjdd/xds/soap"

// Code is a coded value of XDS metadata: Classification@nodeRepresentation
// (Code), the codingScheme slot (Scheme) and the Name (Display).
type Code struct {
	Code    string `json:"code"`
	Scheme  string `json:"scheme"`
	Display string `json:"display,omitempty"`
}

// Author is one author Classification of a DocumentEntry or SubmissionSet.
// Values are kept in their HL7 v2 encodings (XCN, XON, XTN, CE-like strings).
type Author struct {
	Person             string   `json:"person,omitempty"`       // authorPerson, XCN
	Institutions       []string `json:"institutions,omitempty"` // authorInstitution, XON
	Roles              []string `json:"roles,omitempty"`        // authorRole
	Specialties        []string `json:"specialties,omitempty"`  // authorSpecialty
	Telecommunications []string `json:"telecom,omitempty"`      // authorTelecommunication, XTN
	// ExtraSlots are other slots of the author Classification (e.g. a
	// misspelt "authorSpeciality"), kept so that nothing is dropped unseen.
	ExtraSlots []Slot `json:"extraSlots,omitempty"`
}

// Slot is an ebRIM slot kept verbatim: slots kjdd does not model are
// preserved (and reported with XDSExtraMetadataNotSaved only when dropped).
type Slot struct {
	Name   string   `json:"name"`
	Values []string `json:"values"`
}

// Revision names one stored version of a registry object: the row the store
// keeps it in and the version the store wrote with it (adapter/store). The
// store never writes two different objects under one Revision, so two
// objects with the same non-zero Revision are equal in every field, and what
// is rendered of one serves the other (the writer's fragment cache). The
// zero Revision means the object is not a stored version: new in a
// submission, or made in memory, such as an obfuscated copy. An object
// modified after it was read is no longer its stored version either; whoever
// modifies a copy clears its Revision (checked builds verify every reuse,
// rim_write_cache.go).
type Revision struct {
	Row, Version int64
}

// IsZero reports that r names no stored version.
func (r Revision) IsZero() bool { return r == Revision{} }

// DocumentEntry is the XDS DocumentEntry (rim:ExtrinsicObject).
type DocumentEntry struct {
	// Revision is the stored version the object was read as; not stored
	// itself.
	Revision Revision `json:"-"`

	EntryUUID  string `json:"entryUUID"` // @id; symbolic in a submission until assigned
	LogicalID  string `json:"lid,omitempty"`
	Version    string `json:"version,omitempty"` // VersionInfo@versionName, "1" when registered
	UniqueID   string `json:"uniqueId"`
	PatientID  string `json:"patientId"` // CX, e.g. 13116900216^^^&2.16.578.1.12.4.1.4.1&ISO
	ObjectType string `json:"objectType"`
	MimeType   string `json:"mimeType"`
	Status     string `json:"status"`
	Home       string `json:"home,omitempty"` // bare OID or urn:oid:; renderers emit urn:oid:

	Title    string `json:"title,omitempty"`
	Comments string `json:"comments,omitempty"`

	ClassCode                  Code   `json:"classCode"`
	TypeCode                   Code   `json:"typeCode"`
	FormatCode                 Code   `json:"formatCode"`
	HealthcareFacilityTypeCode Code   `json:"healthcareFacilityTypeCode"`
	PracticeSettingCode        Code   `json:"practiceSettingCode"`
	ConfidentialityCodes       []Code `json:"confidentialityCodes"`
	EventCodes                 []Code `json:"eventCodes,omitempty"`

	Authors []Author `json:"authors,omitempty"`

	CreationTime       string   `json:"creationTime,omitempty"` // DTM, UTC, YYYY[MM[DD[hh[mm[ss]]]]]
	ServiceStartTime   string   `json:"serviceStartTime,omitempty"`
	ServiceStopTime    string   `json:"serviceStopTime,omitempty"`
	LanguageCode       string   `json:"languageCode,omitempty"`
	SourcePatientID    string   `json:"sourcePatientId,omitempty"`
	SourcePatientInfo  []string `json:"sourcePatientInfo,omitempty"`
	LegalAuthenticator string   `json:"legalAuthenticator,omitempty"`

	Hash               string `json:"hash,omitempty"` // SHA-1, lower-case hex
	Size               int64  `json:"size,omitempty"`
	HasSize            bool   `json:"hasSize,omitempty"` // size slot present (0 is a valid size)
	RepositoryUniqueID string `json:"repositoryUniqueId,omitempty"`

	ReferenceIDs         []string `json:"referenceIds,omitempty"` // urn:ihe:iti:xds:2013:referenceIdList, CXi
	DocumentAvailability string   `json:"documentAvailability,omitempty"`
	URI                  string   `json:"uri,omitempty"`

	ExtraSlots []Slot `json:"extraSlots,omitempty"`
}

// SubmissionSet is the XDS SubmissionSet (rim:RegistryPackage classified as
// SubmissionSet).
type SubmissionSet struct {
	Revision Revision `json:"-"` // as DocumentEntry.Revision

	EntryUUID          string   `json:"entryUUID"`
	LogicalID          string   `json:"lid,omitempty"`
	UniqueID           string   `json:"uniqueId"`
	SourceID           string   `json:"sourceId"`
	PatientID          string   `json:"patientId"`
	Status             string   `json:"status"`
	Home               string   `json:"home,omitempty"`
	Title              string   `json:"title,omitempty"`
	Comments           string   `json:"comments,omitempty"`
	SubmissionTime     string   `json:"submissionTime"`
	ContentTypeCode    Code     `json:"contentTypeCode"`
	Authors            []Author `json:"authors,omitempty"`
	IntendedRecipients []string `json:"intendedRecipients,omitempty"`
	ExtraSlots         []Slot   `json:"extraSlots,omitempty"`
}

// Folder is the XDS Folder (rim:RegistryPackage classified as Folder).
type Folder struct {
	Revision Revision `json:"-"` // as DocumentEntry.Revision

	EntryUUID      string `json:"entryUUID"`
	LogicalID      string `json:"lid,omitempty"`
	UniqueID       string `json:"uniqueId"`
	PatientID      string `json:"patientId"`
	Status         string `json:"status"`
	Home           string `json:"home,omitempty"`
	Title          string `json:"title,omitempty"`
	Comments       string `json:"comments,omitempty"`
	LastUpdateTime string `json:"lastUpdateTime,omitempty"`
	CodeList       []Code `json:"codeList"`
	ExtraSlots     []Slot `json:"extraSlots,omitempty"`
}

// Association is an ebRIM Association between two registry objects.
type Association struct {
	Revision Revision `json:"-"` // as DocumentEntry.Revision

	EntryUUID string `json:"entryUUID"`
	Type      string `json:"type"`   // full URN, e.g. AssocHasMember, AssocRPLC
	Source    string `json:"source"` // sourceObject (entryUUID)
	Target    string `json:"target"` // targetObject (entryUUID)
	Status    string `json:"status"`
	Home      string `json:"home,omitempty"`
	// SubmissionSetStatus is the slot on SubmissionSet→DocumentEntry
	// HasMember associations: "Original" or "Reference".
	SubmissionSetStatus string `json:"submissionSetStatus,omitempty"`
	ExtraSlots          []Slot `json:"extraSlots,omitempty"`
}

// Document is one xds-b:Document of a ProvideAndRegisterDocumentSetRequest.
type Document struct {
	ID      string // @id: the DocumentEntry's id in the submission
	Content soap.Blob
}

// Submission is the content of a SubmitObjectsRequest (ITI-42) or a
// ProvideAndRegisterDocumentSetRequest (ITI-41, then with Documents).
type Submission struct {
	SubmissionSet   *SubmissionSet // nil when the request carries none (a validation error)
	SubmissionSets  int            // how many SubmissionSets the request carried
	DocumentEntries []*DocumentEntry
	Folders         []*Folder
	Associations    []*Association
	Documents       []Document // ITI-41 only
	// ObjectRefs are rim:ObjectRef ids in the submission (references to
	// objects already in the registry).
	ObjectRefs []string
	// Warnings are deviations the parser tolerated; they are returned to
	// the sender with a successful answer.
	Warnings RegistryErrors
}

// ObjectRef is an ObjectRef result of a stored query.
type ObjectRef struct {
	ID   string
	Home string
}

// QueryResult is what a stored query found, before rendering as LeafClass or
// ObjectRef. Objects of each kind keep the order the query produced.
type QueryResult struct {
	DocumentEntries []*DocumentEntry
	SubmissionSets  []*SubmissionSet
	Folders         []*Folder
	Associations    []*Association
	// ObjectRefs are extra references (e.g. GetAll's or related-document
	// queries' references to objects not rendered in full).
	ObjectRefs []ObjectRef
}

// Count is the number of objects in the result, as counted against the
// result limit (XDSTooManyResults).
func (r *QueryResult) Count() int {
	if r == nil {
		return 0
	}
	return len(r.DocumentEntries) + len(r.SubmissionSets) + len(r.Folders) + len(r.Associations) + len(r.ObjectRefs)
}

// Return types of a stored query (query:ResponseOption@returnType).
const (
	ReturnLeafClass = "LeafClass"
	ReturnObjectRef = "ObjectRef"
)

// DocumentRequest is one DocumentRequest of an ITI-43/ITI-39 request.
type DocumentRequest struct {
	HomeCommunityID    string
	RepositoryUniqueID string
	DocumentUniqueID   string
}
