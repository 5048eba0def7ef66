package consent

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"math/big"

	"kjdd/xds/rim"
)

// Masked metadata values.
const (
	// MaskedTitle is the title of an obfuscated entry.
	MaskedTitle = "Sperret"
	// maskedCodeValue replaces codes that describe the content (class,
	// type, format, facility, practice setting).
	maskedCodeValue = "*****"
	// maskedMimeType: the content is not retrievable, so its type is
	// nobody's business.
	maskedMimeType = "application/octet-stream"
	// maskedLanguage is the language every masked entry claims: the real
	// one could tell which service wrote the document.
	maskedLanguage = "nb-NO"
)

// The coding schemes of the masked codes: the same for every masked entry
// (the Volven schemes the Norwegian profile asks for), so that an EPJ's
// local scheme cannot tell where a blocked document comes from.
const (
	maskedClassScheme           = "2.16.578.1.12.4.1.1.9602"
	maskedTypeScheme            = "2.16.578.1.12.4.1.1.9602"
	maskedFormatScheme          = "2.16.578.1.12.4.1.1.9621"
	maskedFacilityTypeScheme    = "2.16.578.1.12.4.1.1.1303"
	maskedPracticeSettingScheme = "2.16.578.1.12.4.1.1.8655"
)

// Obfuscate returns a masked copy of e for listing a blocked document as
// "Sperret". A masked entry says nothing beyond that something of this
// patient is blocked: every field is either the patient's own (patient id,
// and as source patient id the same), the same for every masked entry
// (status Approved, object type stable, version 1, mime type, language,
// the codes "*****" in fixed Volven schemes, confidentiality NORS), or
// needed to place the entry in this community (home, repository). The one
// exception is the creation day (never the time), kept for whoever asks
// the patient for consent. So a replaced (Deprecated) or on-demand blocked
// document looks like any other, and an EPJ's own schemes or source
// patient id do not tell which system wrote it. Everything else is
// dropped: authors, comments, event codes, size, hash, service times,
// source patient info, legal authenticator, reference ids, URI,
// availability and extra slots.
//
// The entryUUID and uniqueId are replaced with opaque values derived from
// the real ones with HMAC-SHA256 under key:
//
//   - opaque, so the real uniqueId never leaks and a retrieve of the masked
//     one finds nothing: it is answered as an unknown id;
//   - deterministic per (entry, key), so that the same blocked document
//     has the same masked ids in every listing and on every instance (a
//     consumer can page, compare and de-duplicate), while nobody without
//     the key can link them back to a real document.
//
// The uniqueId is an OID under 2.25 (the UUID arc), so it is a well-formed
// uniqueId that cannot collide with the hospital's own OIDs. key must be at
// least MinKeyLength bytes; Decide refuses to obfuscate with a shorter one.
func Obfuscate(e *rim.DocumentEntry, key []byte) *rim.DocumentEntry {
	entryUUID := maskedUUID(key, "entryUUID", e.EntryUUID)
	return &rim.DocumentEntry{
		EntryUUID:                  entryUUID,
		LogicalID:                  entryUUID,
		Version:                    "1",
		UniqueID:                   maskedOID(key, "uniqueId", e.UniqueID),
		PatientID:                  e.PatientID,
		ObjectType:                 rim.ObjectTypeStable,
		MimeType:                   maskedMimeType,
		Status:                     rim.StatusApproved,
		Home:                       e.Home,
		Title:                      MaskedTitle,
		ClassCode:                  maskedCode(maskedClassScheme),
		TypeCode:                   maskedCode(maskedTypeScheme),
		FormatCode:                 maskedCode(maskedFormatScheme),
		HealthcareFacilityTypeCode: maskedCode(maskedFacilityTypeScheme),
		PracticeSettingCode:        maskedCode(maskedPracticeSettingScheme),
		ConfidentialityCodes: []rim.Code{{
			Code: CodeNORS, Scheme: CodeSystemSperring, Display: MaskedTitle,
		}},
		CreationTime:       dayOf(e.CreationTime),
		LanguageCode:       maskedLanguage,
		SourcePatientID:    e.PatientID,
		RepositoryUniqueID: e.RepositoryUniqueID,
	}
}

func maskedCode(scheme string) rim.Code {
	return rim.Code{Code: maskedCodeValue, Scheme: scheme, Display: MaskedTitle}
}

// dayOf truncates a DTM to the day: when a document was written is useful
// to whoever asks the patient for consent; the minute is not.
func dayOf(dtm string) string {
	if len(dtm) > 8 {
		return dtm[:8]
	}
	return dtm
}

func mac(key []byte, label, value string) []byte {
	h := hmac.New(sha256.New, key)
	h.Write([]byte("kjdd obfuscate " + label + "\x00"))
	h.Write([]byte(value))
	return h.Sum(nil)
}

// maskedUUID formats 128 bits of the MAC as an RFC 9562 version 8 UUID.
func maskedUUID(key []byte, label, value string) string {
	b := mac(key, label, value)[:16]
	b[6] = b[6]&0x0f | 0x80
	b[8] = b[8]&0x3f | 0x80
	var s [36]byte
	hex.Encode(s[0:8], b[0:4])
	s[8] = '-'
	hex.Encode(s[9:13], b[4:6])
	s[13] = '-'
	hex.Encode(s[14:18], b[6:8])
	s[18] = '-'
	hex.Encode(s[19:23], b[8:10])
	s[23] = '-'
	hex.Encode(s[24:], b[10:16])
	return "urn:uuid:" + string(s[:])
}

// maskedOID is 2.25.<128 bits of the MAC as a decimal integer>.
func maskedOID(key []byte, label, value string) string {
	b := mac(key, label, value)[:16]
	return "2.25." + new(big.Int).SetBytes(b).String()
}
