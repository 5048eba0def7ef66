package validate

import (
	"strconv"
	"strings"

	"kjdd/xds/hl7"
	"kjdd/xds/rim"
)

// The Norwegian XDS metadata profile (HIS 1169, norway.md §2): patients are
// identified by fødselsnummer or D-nummer (optionally FH-nummer) with valid
// check digits, documents are classified with Volven code systems, authors by
// HPR number and by organisation number or RESH id, and only stable
// DocumentEntries are shared.

// Code systems of the Norwegian profile that other parts of kjdd rely on.
const (
	// CodeSystemVolven9602 is Volven 9602 "Dokumenttype": classCode (codes
	// ending 00-1) and typeCode.
	CodeSystemVolven9602 = "2.16.578.1.12.4.1.1.9602"
	// CodeSystemVolven9603 is Volven 9603 "Sperring og nekting av
	// dokumenter": confidentialityCode, NORS is document-level sperring.
	CodeSystemVolven9603 = "2.16.578.1.12.4.1.1.9603"
	// CodeSystemHL7Confidentiality is HL7 v3 Confidentiality (L M N R U V).
	CodeSystemHL7Confidentiality = "2.16.840.1.113883.5.25"
)

// volvenPrefix is the root of Volven code system OIDs.
const volvenPrefix = "2.16.578.1.12.4.1.1."

// Rule ids of the Norwegian profile.
const (
	ruleNOPatientIDAuthority    = "NO-PATIENTID-AUTHORITY"
	ruleNOPatientIDCheckDigit   = "NO-PATIENTID-CHECKDIGIT"
	ruleNOClassCodeScheme       = "NO-CLASSCODE-SCHEME"
	ruleNOClassCodeValue        = "NO-CLASSCODE-VALUE"
	ruleNOTypeCodeScheme        = "NO-TYPECODE-SCHEME"
	ruleNOTypeCodeValue         = "NO-TYPECODE-VALUE"
	ruleNOConfidentiality       = "NO-CONFIDENTIALITYCODE"
	ruleNOFacilityTypeScheme    = "NO-HCFTYPECODE-SCHEME"
	ruleNOPracticeSettingScheme = "NO-PRACTICESETTINGCODE-SCHEME"
	ruleNOAuthorPerson          = "NO-AUTHOR-PERSON"
	ruleNOAuthorInstitution     = "NO-AUTHOR-INSTITUTION"
	ruleNOAuthorInstitutionID   = "NO-AUTHOR-INSTITUTION-ID"
	ruleNOObjectType            = "NO-DE-OBJECTTYPE"
)

// classCodeSuffix ends every class (top-level) code of Volven 9602.
const classCodeSuffix = "00-1"

var (
	// hl7Confidentiality are the codes of HL7 v3 Confidentiality.
	hl7Confidentiality = map[string]bool{"L": true, "M": true, "N": true, "R": true, "U": true, "V": true}
	// volven9603 are the codes of Volven 9603 (Helsedirektoratet
	// no-kodeverk-9603 v0.6.0).
	volven9603 = map[string]bool{
		"N": true, "NORS": true, "NORU": true, "NORN_FFL": true, "NORN_KUT": true,
		"NORN_EPO": true, "NORN_ALL": true, "NORN_FOR": true, "NORN_FORANS": true,
		"NORN_UNGDOM": true, "NORN_FFH": true, "NORN_FPB": true, "NORN_DUP": true, "NORN_ANG": true,
	}
	// facilityTypeSchemes: Volven 1303 and its successor 1305.
	facilityTypeSchemes = map[string]bool{volvenPrefix + "1303": true, volvenPrefix + "1305": true}
	// practiceSettingSchemes: Volven 8651, 8653, 8654, 8655 (helsehjelpsområde)
	// and 8663 (municipal services).
	practiceSettingSchemes = map[string]bool{
		volvenPrefix + "8651": true, volvenPrefix + "8653": true, volvenPrefix + "8654": true,
		volvenPrefix + "8655": true, volvenPrefix + "8663": true,
	}
)

// checkNorwegian applies the Norwegian profile to every object.
func (v *validator) checkNorwegian() {
	checked := map[string]bool{}
	if ss := v.sub.SubmissionSet; ss != nil {
		label := "SubmissionSet " + objectName(ss.EntryUUID, ss.UniqueID, 0)
		v.checkNorwegianPatientID(label, ss.PatientID, checked)
		v.checkNorwegianAuthors(label, ss.Authors)
	}
	for _, de := range v.sub.DocumentEntries {
		if de == nil {
			continue
		}
		label := v.entryLabels[de]
		v.checkNorwegianPatientID(label, de.PatientID, checked)
		if de.ObjectType == rim.ObjectTypeOnDemand {
			v.metadata(ruleNOObjectType, label, "on-demand entries are not accepted in the Norwegian profile")
		}
		v.checkNorwegianCodes(de, label)
		v.checkNorwegianAuthors(label, de.Authors)
	}
	for _, f := range v.sub.Folders {
		if f != nil {
			v.checkNorwegianPatientID(v.folderLabel[f], f.PatientID, checked)
		}
	}
}

// checkNorwegianPatientID requires a Norwegian national identity. Each
// distinct value is checked once, so one bad id gives one error. Malformed CX
// values have already failed the IHE rule.
func (v *validator) checkNorwegianPatientID(label, pid string, checked map[string]bool) {
	if pid == "" || checked[pid] {
		return
	}
	checked[pid] = true
	id, authority, ok := hl7.ParseCX(pid)
	if !ok {
		return
	}
	var valid bool
	switch {
	case authority == hl7.OIDFNR:
		valid = hl7.ValidFNR(id)
	case authority == hl7.OIDDNumber:
		valid = hl7.ValidDNumber(id)
	case authority == hl7.OIDFHNumber && v.opts.AcceptFHNumber:
		valid = hl7.ValidFHNumber(id)
	default:
		accepted := "fødselsnummer or D-nummer"
		if v.opts.AcceptFHNumber {
			accepted = "fødselsnummer, D-nummer or FH-nummer"
		}
		v.report(rim.XDSUnknownPatientID, ruleNOPatientIDAuthority, label,
			"patient id assigning authority %s is not %s", shorten(authority), accepted)
		return
	}
	if !valid {
		v.report(rim.XDSUnknownPatientID, ruleNOPatientIDCheckDigit, label, "patient id fails check digit")
	}
}

// checkNorwegianCodes checks the code systems of a DocumentEntry. Missing
// codes have already failed the IHE rules and are skipped here.
func (v *validator) checkNorwegianCodes(de *rim.DocumentEntry, label string) {
	if c := de.ClassCode; c.Code != "" && c.Scheme != "" {
		switch {
		case hl7.NormalizeOID(c.Scheme) != CodeSystemVolven9602:
			v.metadata(ruleNOClassCodeScheme, label, "classCode codingScheme must be Volven 9602 (%s)", CodeSystemVolven9602)
		case !strings.HasSuffix(c.Code, classCodeSuffix):
			v.metadata(ruleNOClassCodeValue, label, "classCode %s is not a class of Volven 9602 (those end in %s)", shorten(c.Code), classCodeSuffix)
		}
	}
	if c := de.TypeCode; c.Code != "" && c.Scheme != "" {
		switch {
		case hl7.NormalizeOID(c.Scheme) != CodeSystemVolven9602:
			v.metadata(ruleNOTypeCodeScheme, label, "typeCode codingScheme must be Volven 9602 (%s)", CodeSystemVolven9602)
		case strings.HasSuffix(c.Code, classCodeSuffix):
			v.metadata(ruleNOTypeCodeValue, label, "typeCode %s is a class, not a document type of Volven 9602", shorten(c.Code))
		}
	}
	for _, c := range de.ConfidentialityCodes {
		if c.Code == "" || c.Scheme == "" {
			continue
		}
		switch hl7.NormalizeOID(c.Scheme) {
		case CodeSystemHL7Confidentiality:
			if !hl7Confidentiality[c.Code] {
				v.metadata(ruleNOConfidentiality, label, "confidentialityCode %s is not an HL7 Confidentiality code", shorten(c.Code))
			}
		case CodeSystemVolven9603:
			if !volven9603[c.Code] {
				v.metadata(ruleNOConfidentiality, label, "confidentialityCode %s is not a Volven 9603 code", shorten(c.Code))
			}
		default:
			v.metadata(ruleNOConfidentiality, label, "confidentialityCode codingScheme must be HL7 Confidentiality (%s) or Volven 9603 (%s)",
				CodeSystemHL7Confidentiality, CodeSystemVolven9603)
		}
	}
	if c := de.HealthcareFacilityTypeCode; c.Code != "" && c.Scheme != "" && !facilityTypeSchemes[hl7.NormalizeOID(c.Scheme)] {
		v.metadata(ruleNOFacilityTypeScheme, label, "healthcareFacilityTypeCode codingScheme must be Volven 1303 or 1305")
	}
	if c := de.PracticeSettingCode; c.Code != "" && c.Scheme != "" && !practiceSettingSchemes[hl7.NormalizeOID(c.Scheme)] {
		v.metadata(ruleNOPracticeSettingScheme, label, "practiceSettingCode codingScheme must be Volven 8651, 8653, 8654, 8655 or 8663")
	}
}

// checkNorwegianAuthors requires authors identified the Norwegian way: a
// person by HPR number when an id is given, institutions by organisation
// number (Enhetsregisteret) or RESH id. Values already failing the IHE
// datatype rules are skipped.
func (v *validator) checkNorwegianAuthors(label string, authors []rim.Author) {
	for i, a := range authors {
		n := "author " + strconv.Itoa(i+1)
		if a.Person != "" && hl7.XCNProblem(a.Person) == "" {
			comps := hl7.Split(a.Person, "^")
			if id := hl7.Part(comps, 1); id != "" {
				switch {
				case hl7.NormalizeOID(hl7.Sub(hl7.Part(comps, 9), 2)) != hl7.OIDHPR:
					v.metadata(ruleNOAuthorPerson, label, "%s authorPerson id is not an HPR number (assigning authority %s)", n, hl7.OIDHPR)
				case !hl7.AllDigits(id) || len(id) > 9:
					v.metadata(ruleNOAuthorPerson, label, "%s authorPerson HPR number is not a number of at most 9 digits", n)
				}
			}
		}
		sawID := false // an institution carrying an identifier, valid or not
		for _, inst := range a.Institutions {
			if hl7.XONProblem(inst) != "" {
				sawID = true // already reported by the IHE rule
				continue
			}
			authority, id := hl7.XONAuthority(inst)
			if id == "" {
				continue // name only; see the check below the loop
			}
			sawID = true
			switch authority {
			case hl7.OIDOrgNumber:
				if !hl7.ValidOrgNumber(id) {
					v.metadata(ruleNOAuthorInstitution, label, "%s authorInstitution organisation number fails check digit", n)
				}
			case hl7.OIDRESH:
				if !hl7.AllDigits(id) {
					v.metadata(ruleNOAuthorInstitution, label, "%s authorInstitution RESH id is not numeric", n)
				}
			default:
				v.metadata(ruleNOAuthorInstitution, label, "%s authorInstitution identifier is neither an organisation number (%s) nor a RESH id (%s)",
					n, hl7.OIDOrgNumber, hl7.OIDRESH)
			}
		}
		if len(a.Institutions) > 0 && !sawID {
			v.metadata(ruleNOAuthorInstitutionID, label, "%s has no authorInstitution identified by organisation number or RESH id", n)
		}
	}
}
