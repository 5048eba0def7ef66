package query

import (
	"errors"
	"fmt"
	"strings"

	"github.com/beevik/etree"

	"kjdd/xds/hl7"
	"kjdd/xds/rim"
	"kjdd/xds/soap"
)

// Parsing rules, decided against the NIST toolkit and IPF:
//
//   - Strings are single-quoted, with '' for a quote inside ('O''Brien').
//     Lists are ('a','b'). Several <Value>s in one slot are OR-ed, exactly as
//     one list would be. A single-valued parameter may also be written as a
//     one-element list.
//   - Unquoted values are accepted only for numbers, as ITI TF-2
//     3.18.4.1.2.3.5 codes them: the DTM time parameters (CP-ITI-1260 allows
//     them quoted too) and $MetadataLevel. An unquoted string (IHE's own
//     example sends one) or a dangling quote (IPF's SQL-injection sample) is
//     rejected with XDSRegistryError. IPF's lenient "strip the quotes if both
//     are there" would accept values whose meaning depends on guessing.
//   - Repeating a slot means AND only for $XDSDocumentEntryEventCodeList,
//     $XDSDocumentEntryConfidentialityCode, $XDSDocumentEntryReferenceIdList
//     and $XDSFolderCodeList (IPF QueryRules; NIST 11897/eventcode_multi_select).
//     Repeating any other known parameter is XDSStoredQueryParamNumber.
//   - Unknown parameter names are ignored: a registry "is required to ignore
//     parameters it does not understand" (NIST 11897/practicesetting_scheme).
//   - Codes are code^^scheme (a display name between the carets is allowed and
//     ignored); a code without its scheme is an error (NIST 11897/old_scheme,
//     classcode_scheme_mismatch).
//   - Errors never echo parameter values, which may carry a national id; they
//     name the parameter.

// valueKind says how a parameter's values are decoded and validated.
type valueKind int

const (
	valueCX        valueKind = iota // CX, quoted
	valueStatus                     // availabilityStatus URNs
	valueEntryType                  // DocumentEntry objectType UUIDs
	valueCode                       // code^^scheme
	valueTime                       // DTM, bare or quoted digits
	valueString                     // any non-empty quoted string
	valueUUID                       // UUID, urn:uuid: optional
	valueAssocType                  // association type URNs
	valueLevel                      // $MetadataLevel
)

// paramSpec declares one parameter of a stored query.
type paramSpec struct {
	name     string
	kind     valueKind
	required bool
	single   bool // at most one value
	and      bool // the slot may repeat; each repetition is AND-ed
	// field returns a pointer to the Params field that receives the
	// value: *string, *[]string, *[]Code, *[][]Code, *[][]string or *int.
	field func(*Params) any
}

// queryDef declares a stored query: its parameters and which pairs of
// parameters are mutually exclusive alternatives of which one is required.
type queryDef struct {
	id      string
	name    string
	idBased bool
	params  []paramSpec
	oneOf   [][2]string
}

// Parameter names (ITI TF-2 Table 3.18.4.1.2.3.7-*).
const (
	pDEPatientID        = "$XDSDocumentEntryPatientId"
	pDEClassCode        = "$XDSDocumentEntryClassCode"
	pDETypeCode         = "$XDSDocumentEntryTypeCode"
	pDEPracticeSetting  = "$XDSDocumentEntryPracticeSettingCode"
	pDECreationFrom     = "$XDSDocumentEntryCreationTimeFrom"
	pDECreationTo       = "$XDSDocumentEntryCreationTimeTo"
	pDEServiceStartFrom = "$XDSDocumentEntryServiceStartTimeFrom"
	pDEServiceStartTo   = "$XDSDocumentEntryServiceStartTimeTo"
	pDEServiceStopFrom  = "$XDSDocumentEntryServiceStopTimeFrom"
	pDEServiceStopTo    = "$XDSDocumentEntryServiceStopTimeTo"
	pDEHealthcareFac    = "$XDSDocumentEntryHealthcareFacilityTypeCode"
	pDEEventCode        = "$XDSDocumentEntryEventCodeList"
	pDEConfidentiality  = "$XDSDocumentEntryConfidentialityCode"
	pDEAuthorPerson     = "$XDSDocumentEntryAuthorPerson"
	pDEFormatCode       = "$XDSDocumentEntryFormatCode"
	pDEStatus           = "$XDSDocumentEntryStatus"
	pDEType             = "$XDSDocumentEntryType"
	pDEReferenceIDs     = "$XDSDocumentEntryReferenceIdList"
	pDEEntryUUID        = "$XDSDocumentEntryEntryUUID"
	pDEUniqueID         = "$XDSDocumentEntryUniqueId"
	pSSPatientID        = "$XDSSubmissionSetPatientId"
	pSSSourceID         = "$XDSSubmissionSetSourceId"
	pSSSubmissionFrom   = "$XDSSubmissionSetSubmissionTimeFrom"
	pSSSubmissionTo     = "$XDSSubmissionSetSubmissionTimeTo"
	pSSAuthorPerson     = "$XDSSubmissionSetAuthorPerson"
	pSSContentType      = "$XDSSubmissionSetContentType"
	pSSStatus           = "$XDSSubmissionSetStatus"
	pSSEntryUUID        = "$XDSSubmissionSetEntryUUID"
	pSSUniqueID         = "$XDSSubmissionSetUniqueId"
	pFolPatientID       = "$XDSFolderPatientId"
	pFolUpdateFrom      = "$XDSFolderLastUpdateTimeFrom"
	pFolUpdateTo        = "$XDSFolderLastUpdateTimeTo"
	pFolCodeList        = "$XDSFolderCodeList"
	pFolStatus          = "$XDSFolderStatus"
	pFolEntryUUID       = "$XDSFolderEntryUUID"
	pFolUniqueID        = "$XDSFolderUniqueId"
	pPatientID          = "$patientId"
	pUUID               = "$uuid"
	pAssociationTypes   = "$AssociationTypes"
	pMetadataLevel      = "$MetadataLevel"
)

// Parameter groups shared by several queries.
var (
	metadataLevelParam = paramSpec{name: pMetadataLevel, kind: valueLevel, single: true,
		field: func(p *Params) any { return &p.MetadataLevel }}

	findDocumentsParams = []paramSpec{
		{name: pDEPatientID, kind: valueCX, required: true, single: true, field: func(p *Params) any { return &p.PatientID }},
		{name: pDEStatus, kind: valueStatus, required: true, field: func(p *Params) any { return &p.DocumentEntryStatuses }},
		{name: pDEClassCode, kind: valueCode, field: func(p *Params) any { return &p.ClassCodes }},
		{name: pDETypeCode, kind: valueCode, field: func(p *Params) any { return &p.TypeCodes }},
		{name: pDEPracticeSetting, kind: valueCode, field: func(p *Params) any { return &p.PracticeSettingCodes }},
		{name: pDEHealthcareFac, kind: valueCode, field: func(p *Params) any { return &p.HealthcareFacilityTypeCodes }},
		{name: pDEFormatCode, kind: valueCode, field: func(p *Params) any { return &p.FormatCodes }},
		{name: pDEEventCode, kind: valueCode, and: true, field: func(p *Params) any { return &p.EventCodes }},
		{name: pDEConfidentiality, kind: valueCode, and: true, field: func(p *Params) any { return &p.ConfidentialityCodes }},
		{name: pDEAuthorPerson, kind: valueString, field: func(p *Params) any { return &p.AuthorPersons }},
		{name: pDECreationFrom, kind: valueTime, single: true, field: func(p *Params) any { return &p.CreationTime.From }},
		{name: pDECreationTo, kind: valueTime, single: true, field: func(p *Params) any { return &p.CreationTime.To }},
		{name: pDEServiceStartFrom, kind: valueTime, single: true, field: func(p *Params) any { return &p.ServiceStartTime.From }},
		{name: pDEServiceStartTo, kind: valueTime, single: true, field: func(p *Params) any { return &p.ServiceStartTime.To }},
		{name: pDEServiceStopFrom, kind: valueTime, single: true, field: func(p *Params) any { return &p.ServiceStopTime.From }},
		{name: pDEServiceStopTo, kind: valueTime, single: true, field: func(p *Params) any { return &p.ServiceStopTime.To }},
		{name: pDEType, kind: valueEntryType, field: func(p *Params) any { return &p.DocumentEntryTypes }},
		metadataLevelParam,
	}

	// contentFilterParams filter the DocumentEntries of the *AndContents
	// queries.
	contentFilterParams = []paramSpec{
		{name: pDEFormatCode, kind: valueCode, field: func(p *Params) any { return &p.FormatCodes }},
		{name: pDEConfidentiality, kind: valueCode, and: true, field: func(p *Params) any { return &p.ConfidentialityCodes }},
		{name: pDEType, kind: valueEntryType, field: func(p *Params) any { return &p.DocumentEntryTypes }},
		metadataLevelParam,
	}

	documentUUIDsParam   = paramSpec{name: pDEEntryUUID, kind: valueUUID, field: func(p *Params) any { return &p.DocumentEntryUUIDs }}
	documentUniqueIDsPar = paramSpec{name: pDEUniqueID, kind: valueString, field: func(p *Params) any { return &p.DocumentEntryUniqueIDs }}
	folderUUIDsParam     = paramSpec{name: pFolEntryUUID, kind: valueUUID, field: func(p *Params) any { return &p.FolderUUIDs }}
	folderUniqueIDsParam = paramSpec{name: pFolUniqueID, kind: valueString, field: func(p *Params) any { return &p.FolderUniqueIDs }}
	uuidsParam           = paramSpec{name: pUUID, kind: valueUUID, required: true, field: func(p *Params) any { return &p.UUIDs }}
)

// singleValued returns a copy of s that accepts one value only.
func singleValued(s paramSpec) paramSpec {
	s.single = true
	return s
}

// paramGroups concatenates parameter groups.
func paramGroups(groups ...[]paramSpec) []paramSpec {
	var out []paramSpec
	for _, g := range groups {
		out = append(out, g...)
	}
	return out
}

// queryDefs are the 14 ITI-18 stored queries kjdd serves, by id.
var queryDefs = buildQueryDefs()

// buildQueryDefs declares the parameters of each stored query
// (ITI TF-2 3.18.4.1.2.3.7.1-14).
func buildQueryDefs() map[string]queryDef {
	defs := []queryDef{
		{id: QueryFindDocuments, name: "FindDocuments", params: findDocumentsParams},
		{id: QueryFindDocumentsByReferenceID, name: "FindDocumentsByReferenceId", params: paramGroups(findDocumentsParams, []paramSpec{
			{name: pDEReferenceIDs, kind: valueString, required: true, and: true, field: func(p *Params) any { return &p.ReferenceIDs }},
		})},
		{id: QueryFindSubmissionSets, name: "FindSubmissionSets", params: []paramSpec{
			{name: pSSPatientID, kind: valueCX, required: true, single: true, field: func(p *Params) any { return &p.PatientID }},
			{name: pSSStatus, kind: valueStatus, required: true, field: func(p *Params) any { return &p.SubmissionSetStatuses }},
			{name: pSSSourceID, kind: valueString, field: func(p *Params) any { return &p.SubmissionSetSourceIDs }},
			{name: pSSSubmissionFrom, kind: valueTime, single: true, field: func(p *Params) any { return &p.SubmissionTime.From }},
			{name: pSSSubmissionTo, kind: valueTime, single: true, field: func(p *Params) any { return &p.SubmissionTime.To }},
			{name: pSSAuthorPerson, kind: valueString, single: true, field: func(p *Params) any { return &p.SubmissionSetAuthorPerson }},
			{name: pSSContentType, kind: valueCode, field: func(p *Params) any { return &p.ContentTypeCodes }},
			metadataLevelParam,
		}},
		{id: QueryFindFolders, name: "FindFolders", params: []paramSpec{
			{name: pFolPatientID, kind: valueCX, required: true, single: true, field: func(p *Params) any { return &p.PatientID }},
			{name: pFolStatus, kind: valueStatus, required: true, field: func(p *Params) any { return &p.FolderStatuses }},
			{name: pFolUpdateFrom, kind: valueTime, single: true, field: func(p *Params) any { return &p.FolderLastUpdateTime.From }},
			{name: pFolUpdateTo, kind: valueTime, single: true, field: func(p *Params) any { return &p.FolderLastUpdateTime.To }},
			{name: pFolCodeList, kind: valueCode, and: true, field: func(p *Params) any { return &p.FolderCodes }},
			metadataLevelParam,
		}},
		{id: QueryGetAll, name: "GetAll", params: []paramSpec{
			{name: pPatientID, kind: valueCX, required: true, single: true, field: func(p *Params) any { return &p.PatientID }},
			{name: pDEStatus, kind: valueStatus, required: true, field: func(p *Params) any { return &p.DocumentEntryStatuses }},
			{name: pSSStatus, kind: valueStatus, required: true, field: func(p *Params) any { return &p.SubmissionSetStatuses }},
			{name: pFolStatus, kind: valueStatus, required: true, field: func(p *Params) any { return &p.FolderStatuses }},
			contentFilterParams[0], contentFilterParams[1], contentFilterParams[2], metadataLevelParam,
		}},
		{id: QueryGetDocuments, name: "GetDocuments", idBased: true,
			params: []paramSpec{documentUUIDsParam, documentUniqueIDsPar, metadataLevelParam},
			oneOf:  [][2]string{{pDEEntryUUID, pDEUniqueID}}},
		{id: QueryGetFolders, name: "GetFolders", idBased: true,
			params: []paramSpec{folderUUIDsParam, folderUniqueIDsParam, metadataLevelParam},
			oneOf:  [][2]string{{pFolEntryUUID, pFolUniqueID}}},
		{id: QueryGetAssociations, name: "GetAssociations", idBased: true,
			params: []paramSpec{uuidsParam, metadataLevelParam}},
		{id: QueryGetDocumentsAndAssociations, name: "GetDocumentsAndAssociations", idBased: true,
			params: []paramSpec{documentUUIDsParam, documentUniqueIDsPar, metadataLevelParam},
			oneOf:  [][2]string{{pDEEntryUUID, pDEUniqueID}}},
		{id: QueryGetSubmissionSets, name: "GetSubmissionSets", idBased: true,
			params: []paramSpec{uuidsParam, metadataLevelParam}},
		{id: QueryGetSubmissionSetAndContents, name: "GetSubmissionSetAndContents", idBased: true,
			params: paramGroups([]paramSpec{
				{name: pSSEntryUUID, kind: valueUUID, single: true, field: func(p *Params) any { return &p.SubmissionSetUUIDs }},
				{name: pSSUniqueID, kind: valueString, single: true, field: func(p *Params) any { return &p.SubmissionSetUniqueIDs }},
			}, contentFilterParams),
			oneOf: [][2]string{{pSSEntryUUID, pSSUniqueID}}},
		{id: QueryGetFolderAndContents, name: "GetFolderAndContents", idBased: true,
			params: paramGroups([]paramSpec{singleValued(folderUUIDsParam), singleValued(folderUniqueIDsParam)}, contentFilterParams),
			oneOf:  [][2]string{{pFolEntryUUID, pFolUniqueID}}},
		{id: QueryGetFoldersForDocument, name: "GetFoldersForDocument", idBased: true,
			params: []paramSpec{singleValued(documentUUIDsParam), singleValued(documentUniqueIDsPar), metadataLevelParam},
			oneOf:  [][2]string{{pDEEntryUUID, pDEUniqueID}}},
		{id: QueryGetRelatedDocuments, name: "GetRelatedDocuments", idBased: true,
			params: []paramSpec{singleValued(documentUUIDsParam), singleValued(documentUniqueIDsPar),
				{name: pAssociationTypes, kind: valueAssocType, required: true, field: func(p *Params) any { return &p.AssociationTypes }},
				contentFilterParams[2], metadataLevelParam},
			oneOf: [][2]string{{pDEEntryUUID, pDEUniqueID}}},
	}
	m := make(map[string]queryDef, len(defs))
	for _, d := range defs {
		m[d.id] = d
	}
	return m
}

// ParseAdhocQueryRequest parses a query:AdhocQueryRequest element (ITI-18,
// ITI-38) into a StoredQuery. Every failure is a *RegistryError carrying the
// specific IHE code: XDSUnknownStoredQuery, XDSStoredQueryMissingParam,
// XDSStoredQueryParamNumber, or XDSRegistryError for a malformed request or
// value.
func ParseAdhocQueryRequest(el *etree.Element) (*StoredQuery, error) {
	soap.MustBeLive(el)
	if el == nil || el.Tag != "AdhocQueryRequest" || el.NamespaceURI() != rim.NSQuery {
		return nil, rim.NewError(rim.XDSRegistryError, "request is not a query:AdhocQueryRequest")
	}
	returnType, err := parseResponseOption(el)
	if err != nil {
		return nil, err
	}
	adhoc, err := queryChild(el, rim.NSRIM, "AdhocQuery")
	if err != nil {
		return nil, err
	}
	id, ok := queryUUID(queryAttr(adhoc, "id"))
	if !ok {
		return nil, rim.NewError(rim.XDSUnknownStoredQuery, "AdhocQuery id is not a stored query id")
	}
	def, ok := queryDefs[id]
	if !ok {
		return nil, rim.NewError(rim.XDSUnknownStoredQuery, "stored query "+id+" is not supported")
	}
	q := &StoredQuery{
		ID:         id,
		Name:       def.name,
		ReturnType: returnType,
		Home:       strings.TrimSpace(queryAttr(adhoc, "home")),
	}
	slots := collectQuerySlots(adhoc)
	// Which of def.params were given, by index: a query defines up to
	// twenty, so a map of them cost more than the parsing itself.
	provided := make([]bool, len(def.params))
	for i, spec := range def.params {
		got, err := parseParam(spec, slots[spec.name], &q.Params)
		if err != nil {
			return nil, err
		}
		provided[i] = got
	}
	given := func(name string) bool {
		for i, spec := range def.params {
			if spec.name == name {
				return provided[i]
			}
		}
		return false
	}
	for _, pair := range def.oneOf {
		switch {
		case given(pair[0]) && given(pair[1]):
			return nil, rim.NewError(rim.XDSStoredQueryParamNumber, pair[0]+" and "+pair[1]+" are mutually exclusive")
		case !given(pair[0]) && !given(pair[1]):
			return nil, rim.NewError(rim.XDSStoredQueryMissingParam, pair[0]+" or "+pair[1]+" is required")
		}
	}
	if q.Params.MetadataLevel == 0 {
		q.Params.MetadataLevel = 1
	}
	return q, nil
}

// parseResponseOption returns the ResponseOption's returnType, which must be
// LeafClass or ObjectRef.
func parseResponseOption(el *etree.Element) (string, error) {
	ro, err := queryChild(el, rim.NSQuery, "ResponseOption")
	if err != nil {
		return "", err
	}
	switch rt := strings.TrimSpace(queryAttr(ro, "returnType")); rt {
	case rim.ReturnLeafClass, rim.ReturnObjectRef:
		return rt, nil
	case "":
		return "", rim.NewError(rim.XDSRegistryError, "ResponseOption returnType is required")
	default:
		return "", rim.NewError(rim.XDSRegistryError, "ResponseOption returnType must be LeafClass or ObjectRef")
	}
}

// queryChild returns the one child element space:tag of el.
func queryChild(el *etree.Element, space, tag string) (*etree.Element, error) {
	var found *etree.Element
	for c := range el.ChildElementsSeq() {
		if c.Tag != tag || c.NamespaceURI() != space {
			continue
		}
		if found != nil {
			return nil, rim.NewError(rim.XDSRegistryError, "more than one "+tag+" in AdhocQueryRequest")
		}
		found = c
	}
	if found == nil {
		return nil, rim.NewError(rim.XDSRegistryError, tag+" is missing from AdhocQueryRequest")
	}
	return found, nil
}

// queryAttr returns the value of the unprefixed attribute key of el.
func queryAttr(el *etree.Element, key string) string {
	for _, a := range el.Attr {
		if a.Space == "" && a.Key == key {
			return a.Value
		}
	}
	return ""
}

// collectQuerySlots returns the raw Value texts of each rim:Slot of the
// AdhocQuery, by slot name, one entry per occurrence of the slot.
func collectQuerySlots(adhoc *etree.Element) map[string][][]string {
	slots := map[string][][]string{}
	for s := range adhoc.ChildElementsSeq() {
		if s.Tag != "Slot" || s.NamespaceURI() != rim.NSRIM {
			continue
		}
		name := strings.TrimSpace(queryAttr(s, "name"))
		var values []string
		for vl := range s.ChildElementsSeq() {
			if vl.Tag != "ValueList" || vl.NamespaceURI() != rim.NSRIM {
				continue
			}
			for v := range vl.ChildElementsSeq() {
				if v.Tag == "Value" && v.NamespaceURI() == rim.NSRIM {
					values = append(values, v.Text())
				}
			}
		}
		slots[name] = append(slots[name], values)
	}
	return slots
}

// parseParam decodes the occurrences of one parameter into its field of p.
// It reports whether the parameter was given.
func parseParam(spec paramSpec, occurrences [][]string, p *Params) (bool, error) {
	var groups [][]string
	for _, raw := range occurrences {
		if len(raw) == 0 {
			continue // an empty ValueList gives no value
		}
		values, err := decodeParamValues(spec, raw)
		if err != nil {
			return false, err
		}
		groups = append(groups, values)
	}
	if len(groups) == 0 {
		if spec.required {
			return false, rim.NewError(rim.XDSStoredQueryMissingParam, spec.name+" is required")
		}
		return false, nil
	}
	if len(groups) > 1 && !spec.and {
		return false, rim.NewError(rim.XDSStoredQueryParamNumber, spec.name+" may be given only once")
	}
	for _, g := range groups {
		if spec.single && len(g) > 1 {
			return false, rim.NewError(rim.XDSStoredQueryParamNumber, spec.name+" takes a single value")
		}
	}
	if err := assignParam(spec, groups, p); err != nil {
		return false, err
	}
	return true, nil
}

// decodeParamValues tokenizes the Value texts of one slot occurrence and
// validates each value for the parameter's kind. The result is canonical
// (UUIDs with urn:uuid:, codes as code^^scheme).
func decodeParamValues(spec paramSpec, raw []string) ([]string, error) {
	var out []string
	for _, r := range raw {
		tokens, err := parseSlotValues(r)
		if err != nil {
			return nil, rim.NewError(rim.XDSRegistryError, spec.name+": "+err.Error())
		}
		for _, t := range tokens {
			v, err := checkQueryValue(spec.kind, t)
			if err != nil {
				return nil, rim.NewError(rim.XDSRegistryError, spec.name+": "+err.Error())
			}
			out = append(out, v)
		}
	}
	return out, nil
}

// Value errors. They name no value: the caller sees them.
var (
	errSQNotQuoted     = errors.New("string values must be in single quotes")
	errSQEmptyValue    = errors.New("empty value")
	errSQPatientID     = errors.New("patient id must be a CX id^^^&OID&ISO")
	errSQStatus        = errors.New("unknown availability status")
	errSQEntryType     = errors.New("document entry type must be the stable or on-demand objectType")
	errSQCode          = errors.New("codes must be code^^scheme")
	errSQTime          = errors.New("time must be UTC YYYY[MM[DD[hh[mm[ss]]]]]")
	errSQUUID          = errors.New("value is not a UUID")
	errSQAssocType     = errors.New("unknown association type")
	errSQMetadataLevel = errors.New("metadata level must be 1 or 2")
)

// checkQueryValue validates one token for kind and returns its canonical form.
func checkQueryValue(kind valueKind, t slotToken) (string, error) {
	numeric := kind == valueTime || kind == valueLevel
	if !t.quoted && !numeric {
		return "", errSQNotQuoted
	}
	v := t.text
	if v == "" {
		return "", errSQEmptyValue
	}
	switch kind {
	case valueCX:
		if !hl7.ValidCX(v) {
			return "", errSQPatientID
		}
	case valueStatus:
		if v != rim.StatusApproved && v != rim.StatusDeprecated && v != rim.StatusSubmitted {
			return "", errSQStatus
		}
	case valueEntryType:
		u, ok := queryUUID(v)
		if !ok || (u != rim.ObjectTypeStable && u != rim.ObjectTypeOnDemand) {
			return "", errSQEntryType
		}
		return u, nil
	case valueCode:
		c, ok := parseQueryCode(v)
		if !ok {
			return "", errSQCode
		}
		return c.Code + "^^" + c.Scheme, nil
	case valueTime:
		if !hl7.ValidDTM(v) {
			return "", errSQTime
		}
	case valueUUID:
		u, ok := queryUUID(v)
		if !ok {
			return "", errSQUUID
		}
		return u, nil
	case valueAssocType:
		if !queryAssociationTypes[v] {
			return "", errSQAssocType
		}
	case valueLevel:
		if v != "1" && v != "2" {
			return "", errSQMetadataLevel
		}
	}
	return v, nil
}

// assignParam stores the decoded groups into the field spec names.
func assignParam(spec paramSpec, groups [][]string, p *Params) error {
	switch f := spec.field(p).(type) {
	case *string:
		*f = groups[0][0]
	case *int:
		*f = int(groups[0][0][0] - '0') // checkQueryValue admitted only "1" and "2"
	case *[]string:
		*f = groups[0]
	case *[][]string:
		*f = groups
	case *[]rim.Code:
		*f = queryCodes(groups[0])
	case *[][]rim.Code:
		for _, g := range groups {
			*f = append(*f, queryCodes(g))
		}
	default:
		return rim.NewError(rim.XDSRegistryError, fmt.Sprintf("internal: %s has an unsupported field type", spec.name))
	}
	return nil
}

// queryCodes converts canonical code^^scheme values to Codes.
func queryCodes(values []string) []rim.Code {
	codes := make([]rim.Code, 0, len(values))
	for _, v := range values {
		c, _ := parseQueryCode(v)
		codes = append(codes, c)
	}
	return codes
}

// parseQueryCode parses code^^scheme (HL7 CE with CE.1 and CE.3; CE.2, the
// display name, is tolerated and dropped).
func parseQueryCode(v string) (rim.Code, bool) {
	parts := strings.Split(v, "^")
	if len(parts) != 3 || parts[0] == "" || parts[2] == "" {
		return rim.Code{}, false
	}
	return rim.Code{Code: parts[0], Scheme: parts[2]}, true
}

// queryUUID returns v as urn:uuid:<lower-case UUID>; v may lack the
// urn:uuid: prefix (seen in NHN's GetAssociations sample) and be in any case.
func queryUUID(v string) (string, bool) {
	v = strings.TrimSpace(v)
	if len(v) >= 9 && strings.EqualFold(v[:9], "urn:uuid:") {
		v = v[9:]
	}
	if len(v) != 36 {
		return "", false
	}
	for i := 0; i < len(v); i++ {
		c := v[i]
		switch {
		case i == 8 || i == 13 || i == 18 || i == 23:
			if c != '-' {
				return "", false
			}
		case c >= '0' && c <= '9', c >= 'a' && c <= 'f', c >= 'A' && c <= 'F':
		default:
			return "", false
		}
	}
	return "urn:uuid:" + strings.ToLower(v), true
}

// queryAssociationTypes are the $AssociationTypes values accepted.
var queryAssociationTypes = map[string]bool{
	rim.AssocHasMember: true, rim.AssocRPLC: true, rim.AssocAPND: true, rim.AssocXFRM: true,
	rim.AssocXFRMRPLC: true, rim.AssocSigns: true, rim.AssocIsSnapshot: true,
}

// slotToken is one element of a slot Value: a quoted string (unescaped) or
// a bare token.
type slotToken struct {
	text   string
	quoted bool
}

// parseSlotValues tokenizes one rim:Value text: 'string', (list of
// 'strings' or bare tokens separated by commas) or one bare token. Inside
// quotes ” stands for one quote.
func parseSlotValues(raw string) ([]slotToken, error) {
	s := strings.TrimSpace(raw)
	if s == "" {
		return nil, errSQEmptyValue
	}
	if s[0] != '(' {
		v, rest, err := scanSlotItem(s)
		if err != nil {
			return nil, err
		}
		if strings.TrimSpace(rest) != "" {
			return nil, errors.New("unexpected text after value")
		}
		return []slotToken{v}, nil
	}
	if s[len(s)-1] != ')' {
		return nil, errors.New("list is not closed")
	}
	body := s[1:]
	var out []slotToken
	for {
		body = strings.TrimLeft(body, " \t\r\n")
		v, rest, err := scanSlotItem(body)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
		rest = strings.TrimLeft(rest, " \t\r\n")
		switch {
		case rest == ")":
			return out, nil
		case rest != "" && rest[0] == ',':
			body = rest[1:]
		default:
			return nil, errors.New("list items must be separated by commas")
		}
	}
}

// scanSlotItem reads one quoted string or bare token from the start of s and
// returns it with the rest of s.
func scanSlotItem(s string) (slotToken, string, error) {
	if s == "" || s[0] == ')' || s[0] == ',' {
		return slotToken{}, "", errors.New("missing list item")
	}
	if s[0] != '\'' {
		end := strings.IndexAny(s, "'(), \t\r\n")
		if end < 0 {
			end = len(s)
		}
		if end == 0 {
			return slotToken{}, "", errors.New("unexpected character")
		}
		return slotToken{text: s[:end]}, s[end:], nil
	}
	// Most values hold no doubled quote: then the value is a substring.
	if end := strings.IndexByte(s[1:], '\''); end >= 0 && (end+2 >= len(s) || s[end+2] != '\'') {
		return slotToken{text: s[1 : end+1], quoted: true}, s[end+2:], nil
	}
	var b strings.Builder
	for i := 1; i < len(s); i++ {
		if s[i] != '\'' {
			b.WriteByte(s[i])
			continue
		}
		if i+1 < len(s) && s[i+1] == '\'' {
			b.WriteByte('\'')
			i++
			continue
		}
		return slotToken{text: b.String(), quoted: true}, s[i+1:], nil
	}
	return slotToken{}, "", errors.New("unterminated quoted string")
}
