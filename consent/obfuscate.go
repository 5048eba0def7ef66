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
	// maskedCode replaces codes that describe the content (class, type,
	// format, facility, practice setting); the coding scheme is kept so
	// the entry still has the shape the profile asks for.
	maskedCode = "*****"
	// maskedMimeType: the content is not retrievable, so its type is
	// nobody's business.
	maskedMimeType = "application/octet-stream"
)

// Obfuscate returns a masked copy of e for listing a blocked document as
// "Sperret". The copy keeps what the profile needs to stay schema-valid and
// what the consumer needs to place it (patient, status, object type, home,
// repository, language, creation date), replaces the content-describing
// codes with "*****" in their own schemes and the confidentiality codes with
// NORS, and drops everything else: authors, comments, event codes, size,
// hash, service times, source patient info, legal authenticator, reference
// ids, URI and extra slots.
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
		ObjectType:                 e.ObjectType,
		MimeType:                   maskedMimeType,
		Status:                     e.Status,
		Home:                       e.Home,
		Title:                      MaskedTitle,
		ClassCode:                  maskCode(e.ClassCode),
		TypeCode:                   maskCode(e.TypeCode),
		FormatCode:                 maskCode(e.FormatCode),
		HealthcareFacilityTypeCode: maskCode(e.HealthcareFacilityTypeCode),
		PracticeSettingCode:        maskCode(e.PracticeSettingCode),
		ConfidentialityCodes: []rim.Code{{
			Code: CodeNORS, Scheme: CodeSystemSperring, Display: MaskedTitle,
		}},
		CreationTime:         dayOf(e.CreationTime),
		LanguageCode:         e.LanguageCode,
		SourcePatientID:      e.SourcePatientID,
		RepositoryUniqueID:   e.RepositoryUniqueID,
		DocumentAvailability: e.DocumentAvailability,
	}
}

func maskCode(c rim.Code) rim.Code {
	return rim.Code{Code: maskedCode, Scheme: c.Scheme, Display: MaskedTitle}
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
