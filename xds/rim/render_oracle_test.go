package rim

// The tree renderer: the oracle the writer (rim_write.go) is held to. It
// builds the etree tree of each answer, which is easy to inspect; the
// writer must produce exactly the bytes etree serialises of it.

import (
	"net/url"
	"strconv"

	"github.com/beevik/etree"

	"kjdd/xds/hl7"
	"kjdd/xds/soap"
)

// Namespace prefixes of rendered responses. Each rendered root declares the
// ones it uses, so that it can be placed into any envelope. The rim
// namespace is the default namespace of the RegistryObjectList instead: its
// thousands of elements then serialise without etree building a
// "prefix:tag" string for every start and end tag.
const (
	pfxRIM   = ""
	pfxRS    = "rs"
	pfxQuery = "query"
	pfxXDSB  = "xdsb"
	pfxXOP   = "xop"
)

// RenderRegistryResponse renders an rs:RegistryResponse (ITI-41, ITI-42):
// status Failure when errs holds an error-severity entry, Success otherwise,
// and the RegistryErrorList when errs is not empty.
func RenderRegistryResponse(errs RegistryErrors) *etree.Element {
	b := &rimBuilder{}
	root := b.elem(nil, pfxRS, "RegistryResponse", 2, 1)
	root.CreateAttr("xmlns:"+pfxRS, NSRS)
	status := ResponseSuccess
	if hasErrors(errs) {
		status = ResponseFailure
	}
	root.CreateAttr("status", status)
	b.errorList(root, errs)
	return root
}

// RenderAdhocQueryResponse renders a query:AdhocQueryResponse (ITI-18,
// ITI-38). With returnType ObjectRef every object is an rim:ObjectRef;
// otherwise (LeafClass) DocumentEntries, SubmissionSets and Folders are
// rendered in full with every slot, classification and external identifier,
// then Associations, then res.ObjectRefs. When home is non-empty (a
// responding gateway) every returned object carries home="urn:oid:<home>";
// otherwise an object's own Home, if any. Status is Success without
// error-severity entries in errs, PartialSuccess with results and errors,
// Failure with errors only. AppendAdhocQueryResponse writes the same answer
// as bytes without building the tree (the hot path); this tree is its
// reference.
func RenderAdhocQueryResponse(res *QueryResult, returnType, home string, errs RegistryErrors) *etree.Element {
	if res == nil {
		res = &QueryResult{}
	}
	b := &rimBuilder{}
	root := b.elem(nil, pfxQuery, "AdhocQueryResponse", 3, 2)
	root.CreateAttr("xmlns:"+pfxQuery, NSQuery)
	root.CreateAttr("xmlns:"+pfxRS, NSRS)
	root.CreateAttr("status", responseStatus(res.Count() > 0, errs))
	b.errorList(root, errs)

	list := b.elem(root, pfxRIM, "RegistryObjectList", 1, res.Count())
	list.CreateAttr("xmlns", NSRIM)
	home = normHome(home)
	r := rimRenderer{b: b, home: home}
	if returnType == ReturnObjectRef {
		for _, d := range res.DocumentEntries {
			r.objectRef(list, d.EntryUUID, d.Home)
		}
		for _, s := range res.SubmissionSets {
			r.objectRef(list, s.EntryUUID, s.Home)
		}
		for _, f := range res.Folders {
			r.objectRef(list, f.EntryUUID, f.Home)
		}
		for _, a := range res.Associations {
			r.objectRef(list, a.EntryUUID, a.Home)
		}
	} else {
		for _, d := range res.DocumentEntries {
			r.documentEntry(list, d)
		}
		for _, s := range res.SubmissionSets {
			r.submissionSet(list, s)
		}
		for _, f := range res.Folders {
			r.folder(list, f)
		}
		for _, a := range res.Associations {
			r.association(list, a)
		}
	}
	for _, o := range res.ObjectRefs {
		r.objectRef(list, o.ID, o.Home)
	}
	return root
}

// RenderRetrieveDocumentSetResponse renders an
// xds-b:RetrieveDocumentSetResponse (ITI-43, ITI-39) whose documents are
// xop:Include references to MTOM parts. Status is Success when there are
// documents and no error-severity entries, PartialSuccess with documents
// and errors, Failure without documents.
func RenderRetrieveDocumentSetResponse(docs []RetrievedDocument, errs RegistryErrors) *etree.Element {
	b := &rimBuilder{}
	root := b.elem(nil, pfxXDSB, "RetrieveDocumentSetResponse", 3, 1+len(docs))
	root.CreateAttr("xmlns:"+pfxXDSB, NSXDSB)
	root.CreateAttr("xmlns:"+pfxRS, NSRS)
	root.CreateAttr("xmlns:"+pfxXOP, soap.NSXOP)

	status := ResponseSuccess
	switch {
	case len(docs) == 0:
		status = ResponseFailure
	case hasErrors(errs):
		status = ResponsePartialSuccess
	}
	resp := b.elem(root, pfxRS, "RegistryResponse", 1, 1)
	resp.CreateAttr("status", status)
	b.errorList(resp, errs)

	for _, d := range docs {
		dr := b.elem(root, pfxXDSB, "DocumentResponse", 0, 5)
		if d.HomeCommunityID != "" {
			b.textElem(dr, pfxXDSB, "HomeCommunityId", hl7.URNOID(d.HomeCommunityID))
		}
		b.textElem(dr, pfxXDSB, "RepositoryUniqueId", d.RepositoryUniqueID)
		b.textElem(dr, pfxXDSB, "DocumentUniqueId", d.DocumentUniqueID)
		b.textElem(dr, pfxXDSB, "mimeType", d.MimeType)
		doc := b.elem(dr, pfxXDSB, "Document", 0, 1)
		inc := b.elem(doc, pfxXOP, "Include", 1, 0)
		// A cid: URL carries the Content-ID %-escaped (RFC 2392).
		inc.CreateAttr("href", "cid:"+url.PathEscape(d.ContentID))
	}
	return root
}

// rimBuilder hands out elements, attribute and child lists and text nodes
// from slabs. A LeafClass response of twenty DocumentEntries has a few
// thousand nodes; allocating them in bulk instead of one by one is most of
// what rendering costs (see BenchmarkRenderLeafClass20).
type rimBuilder struct {
	els   []etree.Element
	attrs []etree.Attr
	toks  []etree.Token
	texts []etree.CharData
}

const rimSlab = 256

// elem returns a new element {space}:tag appended to parent (when not nil)
// with room for nattr attributes and nchild children; more still fit.
func (b *rimBuilder) elem(parent *etree.Element, space, tag string, nattr, nchild int) *etree.Element {
	if len(b.els) == 0 {
		b.els = make([]etree.Element, rimSlab)
	}
	e := &b.els[0]
	b.els = b.els[1:]
	e.Space, e.Tag = space, tag
	if nattr > 0 {
		if len(b.attrs) < nattr {
			b.attrs = make([]etree.Attr, max(nattr, rimSlab))
		}
		// Full slice expressions: growing one list never overwrites the next.
		e.Attr = b.attrs[:0:nattr]
		b.attrs = b.attrs[nattr:]
	}
	if nchild > 0 {
		if len(b.toks) < nchild {
			b.toks = make([]etree.Token, max(nchild, rimSlab))
		}
		e.Child = b.toks[:0:nchild]
		b.toks = b.toks[nchild:]
	}
	if parent != nil {
		parent.AddChild(e)
	}
	return e
}

// textElem appends <space:tag>text</space:tag> to parent.
func (b *rimBuilder) textElem(parent *etree.Element, space, tag, text string) *etree.Element {
	e := b.elem(parent, space, tag, 0, 1)
	if len(b.texts) == 0 {
		b.texts = make([]etree.CharData, rimSlab)
	}
	c := &b.texts[0]
	b.texts = b.texts[1:]
	c.Data = text
	e.AddChild(c)
	return e
}

// errorList appends an rs:RegistryErrorList for errs, if any. Contexts go
// through RedactNationalIDs: this is the last place before the wire.
func (b *rimBuilder) errorList(parent *etree.Element, errs RegistryErrors) {
	if len(errs) == 0 {
		return
	}
	list := b.elem(parent, pfxRS, "RegistryErrorList", 1, len(errs))
	highest := SeverityWarning
	for _, e := range errs {
		if e == nil {
			continue
		}
		severity := e.Severity
		if severity == "" {
			severity = SeverityError
		}
		if severity != SeverityWarning {
			highest = SeverityError
		}
		re := b.elem(list, pfxRS, "RegistryError", 4, 0)
		re.CreateAttr("errorCode", string(e.Code))
		re.CreateAttr("codeContext", hl7.RedactNationalIDs(e.Context))
		re.CreateAttr("severity", severity)
		if e.Location != "" {
			re.CreateAttr("location", e.Location)
		}
	}
	list.CreateAttr("highestSeverity", highest)
}

// rimRenderer renders registry objects into a RegistryObjectList.
type rimRenderer struct {
	b    *rimBuilder
	home string // responding gateway's home, urn:oid: form; "" outside XCA
	sub  int    // index of the next composed object of the current parent
}

// homeOf is the home attribute of an object whose own home is own.
func (r *rimRenderer) homeOf(own string) string {
	if r.home != "" {
		return r.home
	}
	return normHome(own)
}

// objectAttrs sets the attributes every rendered RegistryObject has.
func (r *rimRenderer) objectAttrs(e *etree.Element, id, lid, objectType, status, home string) {
	e.CreateAttr("id", id)
	if lid != "" {
		e.CreateAttr("lid", lid)
	}
	if objectType != "" {
		e.CreateAttr("objectType", objectType)
	}
	if status != "" {
		e.CreateAttr("status", status)
	}
	if h := r.homeOf(home); h != "" {
		e.CreateAttr("home", h)
	}
}

func (r *rimRenderer) objectRef(list *etree.Element, id, home string) {
	e := r.b.elem(list, pfxRIM, "ObjectRef", 2, 0)
	e.CreateAttr("id", id)
	if h := r.homeOf(home); h != "" {
		e.CreateAttr("home", h)
	}
}

// slot appends a rim:Slot with its values.
func (r *rimRenderer) slot(parent *etree.Element, name string, values ...string) {
	s := r.b.elem(parent, pfxRIM, "Slot", 1, 1)
	s.CreateAttr("name", name)
	vl := r.b.elem(s, pfxRIM, "ValueList", 0, len(values))
	for _, v := range values {
		r.b.textElem(vl, pfxRIM, "Value", v)
	}
}

// slotIf appends a single-valued slot when v is set.
func (r *rimRenderer) slotIf(parent *etree.Element, name, v string) {
	if v != "" {
		r.slot(parent, name, v)
	}
}

// slotsIf appends a multi-valued slot when it has values.
func (r *rimRenderer) slotsIf(parent *etree.Element, name string, vs []string) {
	if len(vs) > 0 {
		r.slot(parent, name, vs...)
	}
}

func (r *rimRenderer) extraSlots(parent *etree.Element, slots []Slot) {
	for _, s := range slots {
		r.slot(parent, s.Name, s.Values...)
	}
}

// localized appends a Name or Description with one LocalizedString.
func (r *rimRenderer) localized(parent *etree.Element, tag, value string) {
	if value == "" {
		return
	}
	n := r.b.elem(parent, pfxRIM, tag, 0, 1)
	ls := r.b.elem(n, pfxRIM, "LocalizedString", 1, 0)
	ls.CreateAttr("value", value)
}

func (r *rimRenderer) versionInfo(parent *etree.Element, version string) {
	if version == "" {
		return
	}
	v := r.b.elem(parent, pfxRIM, "VersionInfo", 1, 0)
	v.CreateAttr("versionName", version)
}

// classification appends a Classification of parent with a derived id.
func (r *rimRenderer) classification(parent *etree.Element, owner, scheme string, nslots, nchild int) *etree.Element {
	c := r.b.elem(parent, pfxRIM, "Classification", 5, nslots+nchild)
	c.CreateAttr("id", derivedUUID(owner, r.sub))
	r.sub++
	c.CreateAttr("objectType", ObjectTypeClassification)
	c.CreateAttr("classificationScheme", scheme)
	c.CreateAttr("classifiedObject", owner)
	return c
}

// code appends a coded Classification.
func (r *rimRenderer) code(parent *etree.Element, owner, scheme string, c Code) {
	cl := r.classification(parent, owner, scheme, 1, 1)
	cl.CreateAttr("nodeRepresentation", c.Code)
	r.slotIf(cl, slotCodingScheme, c.Scheme)
	r.localized(cl, "Name", c.Display)
}

// codeIf appends a coded Classification when c is set.
func (r *rimRenderer) codeIf(parent *etree.Element, owner, scheme string, c Code) {
	if c != (Code{}) {
		r.code(parent, owner, scheme, c)
	}
}

// author appends an author Classification (nodeRepresentation is empty by
// ITI TF-3 4.2.3.1.4).
func (r *rimRenderer) author(parent *etree.Element, owner, scheme string, a Author) {
	cl := r.classification(parent, owner, scheme, 5+len(a.ExtraSlots), 0)
	cl.CreateAttr("nodeRepresentation", "")
	r.slotIf(cl, slotAuthorPerson, a.Person)
	r.slotsIf(cl, slotAuthorInstitution, a.Institutions)
	r.slotsIf(cl, slotAuthorRole, a.Roles)
	r.slotsIf(cl, slotAuthorSpecialty, a.Specialties)
	r.slotsIf(cl, slotAuthorTelecom, a.Telecommunications)
	r.extraSlots(cl, a.ExtraSlots)
}

// nodeClassification appends the Classification that makes a
// RegistryPackage a SubmissionSet or a Folder.
func (r *rimRenderer) nodeClassification(parent *etree.Element, owner, node string) {
	c := r.b.elem(parent, pfxRIM, "Classification", 4, 0)
	c.CreateAttr("id", derivedUUID(owner, r.sub))
	r.sub++
	c.CreateAttr("objectType", ObjectTypeClassification)
	c.CreateAttr("classificationNode", node)
	c.CreateAttr("classifiedObject", owner)
}

// externalID appends an ExternalIdentifier named name when value is set.
func (r *rimRenderer) externalID(parent *etree.Element, owner, scheme, name, value string) {
	if value == "" {
		return
	}
	e := r.b.elem(parent, pfxRIM, "ExternalIdentifier", 5, 1)
	e.CreateAttr("id", derivedUUID(owner, r.sub))
	r.sub++
	e.CreateAttr("objectType", ObjectTypeExternalIdentifier)
	e.CreateAttr("identificationScheme", scheme)
	e.CreateAttr("registryObject", owner)
	e.CreateAttr("value", value)
	r.localized(e, "Name", name)
}

// documentEntry appends a DocumentEntry as rim:ExtrinsicObject. Child
// order follows ebRIM: Slot*, Name, Description, VersionInfo,
// Classification*, ExternalIdentifier*.
func (r *rimRenderer) documentEntry(list *etree.Element, d *DocumentEntry) {
	nchild := 13 + len(d.ExtraSlots) + 3 + 5 + len(d.ConfidentialityCodes) + len(d.EventCodes) + len(d.Authors) + 2
	e := r.b.elem(list, pfxRIM, "ExtrinsicObject", 7, nchild)
	r.objectAttrs(e, d.EntryUUID, d.LogicalID, d.ObjectType, d.Status, d.Home)
	if d.MimeType != "" {
		e.CreateAttr("mimeType", d.MimeType)
	}
	r.sub = 0
	id := d.EntryUUID

	r.slotIf(e, slotCreationTime, d.CreationTime)
	r.slotIf(e, slotLanguageCode, d.LanguageCode)
	r.slotIf(e, slotServiceStartTime, d.ServiceStartTime)
	r.slotIf(e, slotServiceStopTime, d.ServiceStopTime)
	r.slotIf(e, slotSourcePatientID, d.SourcePatientID)
	r.slotsIf(e, slotSourcePatientInfo, d.SourcePatientInfo)
	r.slotIf(e, slotLegalAuthenticator, d.LegalAuthenticator)
	r.slotIf(e, slotHash, d.Hash)
	if d.HasSize || d.Size != 0 {
		r.slot(e, slotSize, strconv.FormatInt(d.Size, 10))
	}
	r.slotIf(e, slotRepositoryUniqueID, d.RepositoryUniqueID)
	r.slotsIf(e, slotReferenceIDList, d.ReferenceIDs)
	r.slotIf(e, slotDocumentAvailability, d.DocumentAvailability)
	r.slotIf(e, slotURI, d.URI)
	r.extraSlots(e, d.ExtraSlots)

	r.localized(e, "Name", d.Title)
	r.localized(e, "Description", d.Comments)
	r.versionInfo(e, d.Version)

	for _, a := range d.Authors {
		r.author(e, id, DocumentEntryAuthor, a)
	}
	r.codeIf(e, id, DocumentEntryClassCode, d.ClassCode)
	for _, c := range d.ConfidentialityCodes {
		r.code(e, id, DocumentEntryConfidentialityCode, c)
	}
	for _, c := range d.EventCodes {
		r.code(e, id, DocumentEntryEventCodeList, c)
	}
	r.codeIf(e, id, DocumentEntryFormatCode, d.FormatCode)
	r.codeIf(e, id, DocumentEntryHealthcareFacilityTypeCode, d.HealthcareFacilityTypeCode)
	r.codeIf(e, id, DocumentEntryPracticeSettingCode, d.PracticeSettingCode)
	r.codeIf(e, id, DocumentEntryTypeCode, d.TypeCode)

	r.externalID(e, id, DocumentEntryPatientID, "XDSDocumentEntry.patientId", d.PatientID)
	r.externalID(e, id, DocumentEntryUniqueID, "XDSDocumentEntry.uniqueId", d.UniqueID)
}

// submissionSet appends a SubmissionSet as a classified rim:RegistryPackage.
func (r *rimRenderer) submissionSet(list *etree.Element, s *SubmissionSet) {
	nchild := 2 + len(s.ExtraSlots) + 2 + 2 + len(s.Authors) + 3
	e := r.b.elem(list, pfxRIM, "RegistryPackage", 5, nchild)
	r.objectAttrs(e, s.EntryUUID, s.LogicalID, ObjectTypeRegistryPackage, s.Status, s.Home)
	r.sub = 0
	id := s.EntryUUID

	r.slotIf(e, slotSubmissionTime, s.SubmissionTime)
	r.slotsIf(e, slotIntendedRecipient, s.IntendedRecipients)
	r.extraSlots(e, s.ExtraSlots)
	r.localized(e, "Name", s.Title)
	r.localized(e, "Description", s.Comments)

	r.nodeClassification(e, id, SubmissionSetClassificationNode)
	for _, a := range s.Authors {
		r.author(e, id, SubmissionSetAuthor, a)
	}
	r.codeIf(e, id, SubmissionSetContentTypeCode, s.ContentTypeCode)

	r.externalID(e, id, SubmissionSetUniqueID, "XDSSubmissionSet.uniqueId", s.UniqueID)
	r.externalID(e, id, SubmissionSetSourceID, "XDSSubmissionSet.sourceId", s.SourceID)
	r.externalID(e, id, SubmissionSetPatientID, "XDSSubmissionSet.patientId", s.PatientID)
}

// folder appends a Folder as a classified rim:RegistryPackage.
func (r *rimRenderer) folder(list *etree.Element, f *Folder) {
	nchild := 1 + len(f.ExtraSlots) + 2 + 1 + len(f.CodeList) + 2
	e := r.b.elem(list, pfxRIM, "RegistryPackage", 5, nchild)
	r.objectAttrs(e, f.EntryUUID, f.LogicalID, ObjectTypeRegistryPackage, f.Status, f.Home)
	r.sub = 0
	id := f.EntryUUID

	r.slotIf(e, slotLastUpdateTime, f.LastUpdateTime)
	r.extraSlots(e, f.ExtraSlots)
	r.localized(e, "Name", f.Title)
	r.localized(e, "Description", f.Comments)

	r.nodeClassification(e, id, FolderClassificationNode)
	for _, c := range f.CodeList {
		r.code(e, id, FolderCodeList, c)
	}

	r.externalID(e, id, FolderPatientID, "XDSFolder.patientId", f.PatientID)
	r.externalID(e, id, FolderUniqueID, "XDSFolder.uniqueId", f.UniqueID)
}

// association appends a rim:Association.
func (r *rimRenderer) association(list *etree.Element, a *Association) {
	e := r.b.elem(list, pfxRIM, "Association", 7, 1+len(a.ExtraSlots))
	r.objectAttrs(e, a.EntryUUID, "", ObjectTypeAssociation, a.Status, a.Home)
	e.CreateAttr("associationType", a.Type)
	e.CreateAttr("sourceObject", a.Source)
	e.CreateAttr("targetObject", a.Target)
	r.slotIf(e, slotSubmissionSetStatus, a.SubmissionSetStatus)
	r.extraSlots(e, a.ExtraSlots)
}
