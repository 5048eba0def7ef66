package rim

import (
	"crypto/sha1"
	"net/url"
	"strconv"

	"kjdd/xds/hl7"
	"kjdd/xds/internal/xmlw"
	"kjdd/xds/soap"
)

// The writer. Every answer kjdd gives is written here, straight into a
// byte slice: query responses (LeafClass and ObjectRef, with results or
// errors only, ITI-18 and ITI-38), registry responses (ITI-41, ITI-42) and
// retrieve responses (ITI-43, ITI-39). Objects rendered before are copied
// from the fragment cache (rim_write_cache.go). The bytes are what etree
// would write for the corresponding tree (default WriteSettings: "<a/>" for
// an element without children, attribute values in double quotes, &amp;
// &lt; &gt; &apos; &quot; escaped, characters that XML 1.0 does not allow
// replaced with U+FFFD); rim_write_test.go holds the writer to the tree
// renderer kept as its oracle in rim_render_oracle_test.go, on the golden
// cases and on randomised models.

// AppendAdhocQueryResponse appends to dst the query:AdhocQueryResponse
// (ITI-18, ITI-38) and returns the extended slice. With returnType
// ObjectRef every object is an rim:ObjectRef; otherwise (LeafClass)
// DocumentEntries, SubmissionSets and Folders are written in full with
// every slot, classification and external identifier, then Associations,
// then res.ObjectRefs. When home is non-empty (a responding gateway) every
// returned object carries home="urn:oid:<home>"; otherwise an object's own
// Home, if any. Status is Success without error-severity entries in errs,
// PartialSuccess with results and errors, Failure with errors only. A nil
// res is an answer with errors only.
func (wr *Writer) AppendAdhocQueryResponse(dst []byte, res *QueryResult, returnType, home string, errs RegistryErrors) []byte {
	if res == nil {
		res = &QueryResult{}
	}
	w := rimWriter{Writer: xmlw.Writer{B: dst}}
	if wr != nil {
		w.cache = wr.fragments
	}
	w.Start("query:AdhocQueryResponse")
	w.Attr("xmlns:query", NSQuery)
	w.Attr("xmlns:rs", NSRS)
	w.Attr("status", responseStatus(res.Count() > 0, errs))
	w.errorList(errs)

	w.Start("RegistryObjectList")
	w.Attr("xmlns", NSRIM)
	w.home = normHome(home)
	if returnType == ReturnObjectRef {
		for _, d := range res.DocumentEntries {
			w.objectRef(d.EntryUUID, d.Home)
		}
		for _, s := range res.SubmissionSets {
			w.objectRef(s.EntryUUID, s.Home)
		}
		for _, f := range res.Folders {
			w.objectRef(f.EntryUUID, f.Home)
		}
		for _, a := range res.Associations {
			w.objectRef(a.EntryUUID, a.Home)
		}
	} else {
		for _, d := range res.DocumentEntries {
			writeCached(&w, fragmentDocumentEntry, d.Revision, d, w.documentEntry)
		}
		for _, s := range res.SubmissionSets {
			writeCached(&w, fragmentSubmissionSet, s.Revision, s, w.submissionSet)
		}
		for _, f := range res.Folders {
			writeCached(&w, fragmentFolder, f.Revision, f, w.folder)
		}
		for _, a := range res.Associations {
			writeCached(&w, fragmentAssociation, a.Revision, a, w.association)
		}
	}
	for _, o := range res.ObjectRefs {
		w.objectRef(o.ID, o.Home)
	}
	w.End("RegistryObjectList")
	w.End("query:AdhocQueryResponse")
	return w.B
}

// AppendRegistryResponse appends to dst the rs:RegistryResponse of ITI-41
// and ITI-42: status Failure when errs holds an error-severity entry,
// Success otherwise, and the RegistryErrorList when errs is not empty.
func AppendRegistryResponse(dst []byte, errs RegistryErrors) []byte {
	w := rimWriter{Writer: xmlw.Writer{B: dst}}
	status := ResponseSuccess
	if hasErrors(errs) {
		status = ResponseFailure
	}
	w.Start("rs:RegistryResponse")
	w.Attr("xmlns:rs", NSRS)
	w.Attr("status", status)
	w.errorList(errs)
	w.End("rs:RegistryResponse")
	return w.B
}

// RetrievedDocument is one DocumentResponse of an ITI-43/ITI-39 response.
// The content travels as an MTOM part; ContentID is that part's Content-ID
// without angle brackets.
type RetrievedDocument struct {
	HomeCommunityID    string // bare or urn:oid:; emitted as urn:oid:, omitted when empty
	RepositoryUniqueID string
	DocumentUniqueID   string
	MimeType           string
	ContentID          string
}

// AppendRetrieveDocumentSetResponse appends to dst the
// xdsb:RetrieveDocumentSetResponse of ITI-43 and ITI-39, whose documents
// are xop:Include references to MTOM parts. Status is Success when there
// are documents and no error-severity entries, PartialSuccess with
// documents and errors, Failure without documents.
func AppendRetrieveDocumentSetResponse(dst []byte, docs []RetrievedDocument, errs RegistryErrors) []byte {
	w := rimWriter{Writer: xmlw.Writer{B: dst}}
	w.Start("xdsb:RetrieveDocumentSetResponse")
	w.Attr("xmlns:xdsb", NSXDSB)
	w.Attr("xmlns:rs", NSRS)
	w.Attr("xmlns:xop", soap.NSXOP)
	status := ResponseSuccess
	switch {
	case len(docs) == 0:
		status = ResponseFailure
	case hasErrors(errs):
		status = ResponsePartialSuccess
	}
	w.Start("rs:RegistryResponse")
	w.Attr("status", status)
	w.errorList(errs)
	w.End("rs:RegistryResponse")
	for _, d := range docs {
		w.Start("xdsb:DocumentResponse")
		if d.HomeCommunityID != "" {
			w.TextElem("xdsb:HomeCommunityId", hl7.URNOID(d.HomeCommunityID))
		}
		w.TextElem("xdsb:RepositoryUniqueId", d.RepositoryUniqueID)
		w.TextElem("xdsb:DocumentUniqueId", d.DocumentUniqueID)
		w.TextElem("xdsb:mimeType", d.MimeType)
		w.Start("xdsb:Document")
		w.Start("xop:Include")
		// A cid: URL carries the Content-ID %-escaped (RFC 2392).
		w.Attr("href", "cid:"+url.PathEscape(d.ContentID))
		w.End("xop:Include")
		w.End("xdsb:Document")
		w.End("xdsb:DocumentResponse")
	}
	w.End("xdsb:RetrieveDocumentSetResponse")
	return w.B
}

// hasErrors is RegistryErrors.HasErrors tolerating nil entries.
func hasErrors(errs RegistryErrors) bool {
	for _, e := range errs {
		if e != nil && !e.IsWarning() {
			return true
		}
	}
	return false
}

// responseStatus is the ebRS status of a response with or without results.
func responseStatus(hasResults bool, errs RegistryErrors) string {
	switch {
	case !hasErrors(errs):
		return ResponseSuccess
	case hasResults:
		return ResponsePartialSuccess
	}
	return ResponseFailure
}

// rimWriter writes registry objects with the XML primitives of xmlw.Writer.
// Each method writes what the same-named method of the tree renderer (the
// oracle in render_oracle_test.go) builds.
type rimWriter struct {
	xmlw.Writer
	home  string // normalised home every object carries, or empty
	cache *fragmentCache
	sub   int      // Classifications and ExternalIdentifiers of the current owner so far (derivedID)
	ns    [16]byte // the current owner's namespace (derivedNamespace)
}

// errorList writes an rs:RegistryErrorList: highestSeverity, and each
// entry's context with national identity numbers redacted.
func (w *rimWriter) errorList(errs RegistryErrors) {
	if len(errs) == 0 {
		return
	}
	highest := SeverityWarning
	for _, e := range errs {
		if e != nil && e.Severity != SeverityWarning {
			highest = SeverityError
		}
	}
	w.Start("rs:RegistryErrorList")
	w.Attr("highestSeverity", highest)
	for _, e := range errs {
		if e == nil {
			continue
		}
		severity := e.Severity
		if severity == "" {
			severity = SeverityError
		}
		w.Start("rs:RegistryError")
		w.Attr("errorCode", string(e.Code))
		w.Attr("codeContext", hl7.RedactNationalIDs(e.Context))
		w.Attr("severity", severity)
		if e.Location != "" {
			w.Attr("location", e.Location)
		}
		w.End("rs:RegistryError")
	}
	w.End("rs:RegistryErrorList")
}

// homeOf is the home an object carries: the gateway's when it answers as
// one, else the object's own.
func (w *rimWriter) homeOf(own string) string {
	if w.home != "" {
		return w.home
	}
	return normHome(own)
}

// objectAttrs writes the identity attributes of a registry object.
func (w *rimWriter) objectAttrs(id, lid, objectType, status, home string) {
	w.Attr("id", id)
	if lid != "" {
		w.Attr("lid", lid)
	}
	if objectType != "" {
		w.Attr("objectType", objectType)
	}
	if status != "" {
		w.Attr("status", status)
	}
	if h := w.homeOf(home); h != "" {
		w.Attr("home", h)
	}
}

func (w *rimWriter) objectRef(id, home string) {
	w.Start("ObjectRef")
	w.Attr("id", id)
	if h := w.homeOf(home); h != "" {
		w.Attr("home", h)
	}
	w.End("ObjectRef")
}

// slot writes a rim:Slot with its values.
func (w *rimWriter) slot(name string, values ...string) {
	w.Start("Slot")
	w.Attr("name", name)
	w.Start("ValueList")
	for _, v := range values {
		w.TextElem("Value", v)
	}
	w.End("ValueList")
	w.End("Slot")
}

func (w *rimWriter) slotIf(name, v string) {
	if v != "" {
		w.slot(name, v)
	}
}

func (w *rimWriter) slotsIf(name string, vs []string) {
	if len(vs) > 0 {
		w.slot(name, vs...)
	}
}

func (w *rimWriter) extraSlots(slots []Slot) {
	for _, s := range slots {
		w.slot(s.Name, s.Values...)
	}
}

// localized writes a Name or Description with one LocalizedString.
func (w *rimWriter) localized(tag, value string) {
	if value == "" {
		return
	}
	w.Start(tag)
	w.Start("LocalizedString")
	w.Attr("value", value)
	w.End("LocalizedString")
	w.End(tag)
}

func (w *rimWriter) versionInfo(version string) {
	if version == "" {
		return
	}
	w.Start("VersionInfo")
	w.Attr("versionName", version)
	w.End("VersionInfo")
}

// owner starts the composed objects of the RegistryObject id: their derived
// ids count from zero under id's namespace.
func (w *rimWriter) owner(id string) {
	w.sub = 0
	w.ns = derivedNamespace(id)
}

// derivedID writes the attribute id of the next composed object:
// derivedUUID(owner, n) without building the string.
func (w *rimWriter) derivedID() {
	w.B = append(w.B, ` id="`...)
	w.B = hl7.AppendURNUUID(w.B, derivedUUIDBytes(w.ns, w.sub))
	w.B = append(w.B, '"')
	w.sub++
}

// classification starts a Classification of owner under scheme, with a
// derived id.
func (w *rimWriter) classification(owner, scheme string) {
	w.Start("Classification")
	w.derivedID()
	w.Attr("objectType", ObjectTypeClassification)
	w.Attr("classificationScheme", scheme)
	w.Attr("classifiedObject", owner)
}

func (w *rimWriter) code(owner, scheme string, c Code) {
	w.classification(owner, scheme)
	w.Attr("nodeRepresentation", c.Code)
	w.slotIf(slotCodingScheme, c.Scheme)
	w.localized("Name", c.Display)
	w.End("Classification")
}

func (w *rimWriter) codeIf(owner, scheme string, c Code) {
	if c != (Code{}) {
		w.code(owner, scheme, c)
	}
}

func (w *rimWriter) author(owner, scheme string, a Author) {
	w.classification(owner, scheme)
	w.Attr("nodeRepresentation", "")
	w.slotIf(slotAuthorPerson, a.Person)
	w.slotsIf(slotAuthorInstitution, a.Institutions)
	w.slotsIf(slotAuthorRole, a.Roles)
	w.slotsIf(slotAuthorSpecialty, a.Specialties)
	w.slotsIf(slotAuthorTelecom, a.Telecommunications)
	w.extraSlots(a.ExtraSlots)
	w.End("Classification")
}

func (w *rimWriter) nodeClassification(owner, node string) {
	w.Start("Classification")
	w.derivedID()
	w.Attr("objectType", ObjectTypeClassification)
	w.Attr("classificationNode", node)
	w.Attr("classifiedObject", owner)
	w.End("Classification")
}

func (w *rimWriter) externalID(owner, scheme, name, value string) {
	if value == "" {
		return
	}
	w.Start("ExternalIdentifier")
	w.derivedID()
	w.Attr("objectType", ObjectTypeExternalIdentifier)
	w.Attr("identificationScheme", scheme)
	w.Attr("registryObject", owner)
	w.Attr("value", value)
	w.localized("Name", name)
	w.End("ExternalIdentifier")
}

// documentEntry writes a DocumentEntry as an rim:ExtrinsicObject.
func (w *rimWriter) documentEntry(d *DocumentEntry) {
	w.Start("ExtrinsicObject")
	w.objectAttrs(d.EntryUUID, d.LogicalID, d.ObjectType, d.Status, d.Home)
	if d.MimeType != "" {
		w.Attr("mimeType", d.MimeType)
	}
	id := d.EntryUUID
	w.owner(id)

	w.slotIf(slotCreationTime, d.CreationTime)
	w.slotIf(slotLanguageCode, d.LanguageCode)
	w.slotIf(slotServiceStartTime, d.ServiceStartTime)
	w.slotIf(slotServiceStopTime, d.ServiceStopTime)
	w.slotIf(slotSourcePatientID, d.SourcePatientID)
	w.slotsIf(slotSourcePatientInfo, d.SourcePatientInfo)
	w.slotIf(slotLegalAuthenticator, d.LegalAuthenticator)
	w.slotIf(slotHash, d.Hash)
	if d.HasSize || d.Size != 0 {
		var num [20]byte
		w.slot(slotSize, string(strconv.AppendInt(num[:0], d.Size, 10)))
	}
	w.slotIf(slotRepositoryUniqueID, d.RepositoryUniqueID)
	w.slotsIf(slotReferenceIDList, d.ReferenceIDs)
	w.slotIf(slotDocumentAvailability, d.DocumentAvailability)
	w.slotIf(slotURI, d.URI)
	w.extraSlots(d.ExtraSlots)

	w.localized("Name", d.Title)
	w.localized("Description", d.Comments)
	w.versionInfo(d.Version)

	for _, a := range d.Authors {
		w.author(id, DocumentEntryAuthor, a)
	}
	w.codeIf(id, DocumentEntryClassCode, d.ClassCode)
	for _, c := range d.ConfidentialityCodes {
		w.code(id, DocumentEntryConfidentialityCode, c)
	}
	for _, c := range d.EventCodes {
		w.code(id, DocumentEntryEventCodeList, c)
	}
	w.codeIf(id, DocumentEntryFormatCode, d.FormatCode)
	w.codeIf(id, DocumentEntryHealthcareFacilityTypeCode, d.HealthcareFacilityTypeCode)
	w.codeIf(id, DocumentEntryPracticeSettingCode, d.PracticeSettingCode)
	w.codeIf(id, DocumentEntryTypeCode, d.TypeCode)

	w.externalID(id, DocumentEntryPatientID, "XDSDocumentEntry.patientId", d.PatientID)
	w.externalID(id, DocumentEntryUniqueID, "XDSDocumentEntry.uniqueId", d.UniqueID)
	w.End("ExtrinsicObject")
}

// submissionSet writes a SubmissionSet as a classified rim:RegistryPackage.
func (w *rimWriter) submissionSet(s *SubmissionSet) {
	w.Start("RegistryPackage")
	w.objectAttrs(s.EntryUUID, s.LogicalID, ObjectTypeRegistryPackage, s.Status, s.Home)
	id := s.EntryUUID
	w.owner(id)

	w.slotIf(slotSubmissionTime, s.SubmissionTime)
	w.slotsIf(slotIntendedRecipient, s.IntendedRecipients)
	w.extraSlots(s.ExtraSlots)
	w.localized("Name", s.Title)
	w.localized("Description", s.Comments)

	w.nodeClassification(id, SubmissionSetClassificationNode)
	for _, a := range s.Authors {
		w.author(id, SubmissionSetAuthor, a)
	}
	w.codeIf(id, SubmissionSetContentTypeCode, s.ContentTypeCode)

	w.externalID(id, SubmissionSetUniqueID, "XDSSubmissionSet.uniqueId", s.UniqueID)
	w.externalID(id, SubmissionSetSourceID, "XDSSubmissionSet.sourceId", s.SourceID)
	w.externalID(id, SubmissionSetPatientID, "XDSSubmissionSet.patientId", s.PatientID)
	w.End("RegistryPackage")
}

// folder writes a Folder as a classified rim:RegistryPackage.
func (w *rimWriter) folder(f *Folder) {
	w.Start("RegistryPackage")
	w.objectAttrs(f.EntryUUID, f.LogicalID, ObjectTypeRegistryPackage, f.Status, f.Home)
	id := f.EntryUUID
	w.owner(id)

	w.slotIf(slotLastUpdateTime, f.LastUpdateTime)
	w.extraSlots(f.ExtraSlots)
	w.localized("Name", f.Title)
	w.localized("Description", f.Comments)

	w.nodeClassification(id, FolderClassificationNode)
	for _, c := range f.CodeList {
		w.code(id, FolderCodeList, c)
	}

	w.externalID(id, FolderPatientID, "XDSFolder.patientId", f.PatientID)
	w.externalID(id, FolderUniqueID, "XDSFolder.uniqueId", f.UniqueID)
	w.End("RegistryPackage")
}

// association writes an rim:Association.
func (w *rimWriter) association(a *Association) {
	w.Start("Association")
	w.objectAttrs(a.EntryUUID, "", ObjectTypeAssociation, a.Status, a.Home)
	w.Attr("associationType", a.Type)
	w.Attr("sourceObject", a.Source)
	w.Attr("targetObject", a.Target)
	w.slotIf(slotSubmissionSetStatus, a.SubmissionSetStatus)
	w.extraSlots(a.ExtraSlots)
	w.End("Association")
}

// derivedNamespace is the namespace derivedUUID uses for parent.
func derivedNamespace(parent string) [16]byte {
	ns, ok := hl7.ParseURNUUID(parent)
	if !ok {
		sum := sha1.Sum([]byte(parent))
		copy(ns[:], sum[:])
	}
	return ns
}

// derivedUUIDBytes is derivedUUID(parent, n), unformatted, for the parent
// whose namespace is ns.
func derivedUUIDBytes(ns [16]byte, n int) [16]byte {
	var in [20]byte
	copy(in[:], ns[:])
	in[16], in[17], in[18], in[19] = byte(n>>24), byte(n>>16), byte(n>>8), byte(n)
	sum := sha1.Sum(in[:])
	var b [16]byte
	copy(b[:], sum[:])
	b[6] = b[6]&0x0f | 0x50
	b[8] = b[8]&0x3f | 0x80
	return b
}
