package consent

import (
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"kjdd/xds/hl7"
)

// ErrInvalid is wrapped by every validation error of this package, so that
// an API can answer 400 without inspecting messages. Messages never contain
// the rejected value: it may be a national identity number.
var ErrInvalid = errors.New("invalid sperring")

// ErrOtherPatientsDocument is returned for a record of kind document that
// names a document registered for another patient than the record's: such
// a record could never block anything (a patient's records apply to that
// patient's documents only), so it is refused rather than stored.
var ErrOtherPatientsDocument = errors.New("documentUniqueId names a document registered for another patient")

// Kind is the level a Sperring record blocks at.
type Kind string

// The kinds of sperring records.
const (
	// KindDocument blocks one document, named by its uniqueId.
	KindDocument Kind = "document"
	// KindPractitioner blocks every document of the patient from one
	// practitioner, named by HPR number.
	KindPractitioner Kind = "practitioner"
	// KindPatient blocks every document of the patient from everyone.
	KindPatient Kind = "patient"
)

// Valid reports whether k is one of the known kinds.
func (k Kind) Valid() bool {
	switch k {
	case KindDocument, KindPractitioner, KindPatient:
		return true
	}
	return false
}

// Field limits. They bound what a caller can make us store, cache and show
// on the privacy officer's page; real values are far shorter.
const (
	// MaxReasonLength is the longest Reason accepted, in characters.
	MaxReasonLength = 500
	// MaxCreatedByLength is the longest CreatedBy accepted, in characters.
	MaxCreatedByLength = 200
	// maxIDLength bounds a record id (assigned by the store).
	maxIDLength = 64
	// maxUniqueIDLength bounds a document uniqueId: an OID (at most 64
	// characters in XDS) with an optional ^extension, with headroom for
	// EPJs that stretch the rule.
	maxUniqueIDLength = 256
	// maxHPRLength is the number of digits of an HPR number; the register
	// issues numbers of up to nine digits.
	maxHPRLength = 9
)

// Sperring is one sperring record: the patient has blocked a document, a
// practitioner, or everything. Records live in the store; the decision reads
// them through the Resolver.
type Sperring struct {
	// ID is assigned by the store; empty before the record is created.
	ID string `json:"id,omitempty"`
	// Patient is the patient's national identity number (fødselsnummer or
	// D-number), normalised to its 11 digits (see NormalizePatient).
	Patient string `json:"patient"`
	// Kind is the level the record blocks at.
	Kind Kind `json:"kind"`
	// DocumentUniqueID is the XDS uniqueId of the blocked document; set for
	// KindDocument only.
	DocumentUniqueID string `json:"documentUniqueId,omitempty"`
	// HPRNumber is the blocked practitioner's HPR number; set for
	// KindPractitioner only.
	HPRNumber string `json:"hprNumber,omitempty"`
	// Reason is free text for the privacy officer; optional, one line.
	Reason string `json:"reason,omitempty"`
	// CreatedAt is when the store created the record.
	CreatedAt time.Time `json:"createdAt,omitzero"`
	// CreatedBy identifies the client that created the record (e.g. the
	// HelseID client id of the EPJ).
	CreatedBy string `json:"createdBy,omitempty"`
}

// Validate checks the record: a valid national identity number, a known
// kind with exactly the fields that kind needs, and bounded free text. It
// does not check that the document or practitioner exists: a patient may
// block a practitioner before that practitioner ever asks.
func (s Sperring) Validate() error {
	if s.ID != "" && !validID(s.ID) {
		return invalidField("id", "id must be 1 to %d letters, digits or . _ : -", maxIDLength)
	}
	if !validPatient(s.Patient) {
		return invalidField("patient", "patient must be an 11-digit fødselsnummer or D-number")
	}
	switch s.Kind {
	case KindDocument:
		if s.DocumentUniqueID == "" {
			return invalidField("documentUniqueId", "documentUniqueId is required for kind document")
		}
		if err := checkUniqueID(s.DocumentUniqueID); err != nil {
			return err
		}
		if s.HPRNumber != "" {
			return invalidField("hprNumber", "hprNumber is not allowed for kind document")
		}
	case KindPractitioner:
		if s.HPRNumber == "" {
			return invalidField("hprNumber", "hprNumber is required for kind practitioner")
		}
		if !validHPR(s.HPRNumber) {
			return invalidField("hprNumber", "hprNumber must be 1 to %d digits", maxHPRLength)
		}
		if s.DocumentUniqueID != "" {
			return invalidField("documentUniqueId", "documentUniqueId is not allowed for kind practitioner")
		}
	case KindPatient:
		if s.DocumentUniqueID != "" {
			return invalidField("documentUniqueId", "documentUniqueId and hprNumber are not allowed for kind patient")
		}
		if s.HPRNumber != "" {
			return invalidField("hprNumber", "documentUniqueId and hprNumber are not allowed for kind patient")
		}
	default:
		return invalidField("kind", "kind must be document, practitioner or patient")
	}
	if err := checkText("reason", s.Reason, MaxReasonLength); err != nil {
		return err
	}
	return checkText("createdBy", s.CreatedBy, MaxCreatedByLength)
}

func invalid(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrInvalid}, args...)...)
}

// FieldError is a validation error of one field of a record. It wraps
// ErrInvalid; like every error of this package its Reason never contains
// the rejected value.
type FieldError struct {
	// Field is the field's JSON name ("documentUniqueId", "patient", …).
	Field string
	// Reason says what is wrong with it.
	Reason string
}

// Error implements error, as invalid's errors read.
func (e *FieldError) Error() string { return ErrInvalid.Error() + ": " + e.Reason }

// Unwrap makes errors.Is(err, ErrInvalid) hold.
func (e *FieldError) Unwrap() error { return ErrInvalid }

func invalidField(field, format string, args ...any) error {
	return &FieldError{Field: field, Reason: fmt.Sprintf(format, args...)}
}

// checkText bounds free text and refuses control characters: the text ends
// up in log viewers and on the privacy officer's page.
func checkText(field, s string, max int) error {
	if !utf8.ValidString(s) {
		return invalidField(field, "%s must be UTF-8", field)
	}
	if utf8.RuneCountInString(s) > max {
		return invalidField(field, "%s must be at most %d characters", field, max)
	}
	for _, r := range s {
		if unicode.IsControl(r) {
			return invalidField(field, "%s must not contain control characters", field)
		}
	}
	return nil
}

func validID(s string) bool {
	if len(s) == 0 || len(s) > maxIDLength {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		case c == '.', c == '_', c == ':', c == '-':
		default:
			return false
		}
	}
	return true
}

// CanonicalUniqueID returns a document uniqueId in the form kjdd compares
// and stores: without surrounding space and without a "urn:oid:" prefix (any
// case), as hl7.NormalizeOID writes every OID. It does not validate; see
// Sperring.Validate.
func CanonicalUniqueID(s string) string {
	return hl7.NormalizeOID(s)
}

// checkUniqueID validates a document uniqueId of a record: canonical, 1 to
// maxUniqueIDLength printable characters without spaces, and, when its root
// (the part before an optional ^extension) is written as an OID (digits and
// dots only), a valid one: "1.2.3." or "1.02.3" would never match the
// registered "1.2.3", so it would block nothing. Other forms are accepted,
// since the registry accepts any uniqueId without white space.
func checkUniqueID(s string) error {
	if !validUniqueID(s) {
		return invalidField("documentUniqueId", "documentUniqueId must be 1 to %d printable characters without spaces", maxUniqueIDLength)
	}
	if CanonicalUniqueID(s) != s {
		return invalidField("documentUniqueId", "documentUniqueId must be written without urn:oid:")
	}
	root, ext, hasExt := strings.Cut(s, "^")
	if looksLikeOID(root) && !hl7.ValidOID(root) {
		return invalidField("documentUniqueId", "documentUniqueId is not a valid OID (dotted decimal, no empty arcs or leading zeros, no trailing dot)")
	}
	if hasExt && (root == "" || ext == "") {
		return invalidField("documentUniqueId", "documentUniqueId must be an OID or OID^extension")
	}
	return nil
}

// looksLikeOID reports whether s consists of digits and dots only, with at
// least one digit: what a caller meant as an OID.
func looksLikeOID(s string) bool {
	digit := false
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c >= '0' && c <= '9':
			digit = true
		case c == '.':
		default:
			return false
		}
	}
	return digit
}

func validUniqueID(s string) bool {
	if len(s) == 0 || len(s) > maxUniqueIDLength {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] <= ' ' || s[i] >= 0x7f {
			return false
		}
	}
	return true
}

func validHPR(s string) bool {
	return len(s) >= 1 && len(s) <= maxHPRLength && allDigits(s)
}

// sameHPR compares HPR numbers ignoring leading zeros, because systems
// disagree on zero padding and a missed match would fail open.
func sameHPR(a, b string) bool {
	a, b = trimZeros(a), trimZeros(b)
	return a != "" && a == b
}

func trimZeros(s string) string {
	for len(s) > 1 && s[0] == '0' {
		s = s[1:]
	}
	return s
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// Blocks says what a record blocks, as the sperring API answers a create.
type Blocks struct {
	// Kind is the record's kind.
	Kind Kind `json:"kind"`
	// DocumentUniqueID is the canonical uniqueId a record of kind document
	// is compared with.
	DocumentUniqueID string `json:"documentUniqueId,omitempty"`
	// Registered is set for kind document: whether a document of the
	// patient with this uniqueId is registered now. A record may precede
	// its document (the EPJ may block before it registers); it applies
	// from the moment the document is registered for this patient.
	Registered *bool `json:"registered,omitempty"`
	// HPRNumber is the practitioner a record of kind practitioner blocks.
	HPRNumber string `json:"hprNumber,omitempty"`
	// Covers says in words what is blocked, from whom, and whether a
	// purpose of use can override it.
	Covers string `json:"covers"`
}

// BlocksOf describes what rec blocks; registered says whether its
// document (kind document only) is registered for the patient.
func BlocksOf(rec Sperring, registered bool) Blocks {
	b := Blocks{Kind: rec.Kind}
	switch rec.Kind {
	case KindDocument:
		b.DocumentUniqueID = CanonicalUniqueID(rec.DocumentUniqueID)
		b.Registered = &registered
		b.Covers = "this document of the patient, for every reader; overridden by the override purposes of use (audited)"
		if !registered {
			b.Covers = "this document of the patient once it is registered (no document of the patient has this uniqueId yet), for every reader; overridden by the override purposes of use (audited)"
		}
	case KindPractitioner:
		b.HPRNumber = rec.HPRNumber
		b.Covers = "every document of the patient, for this practitioner; never overridden"
	case KindPatient:
		b.Covers = "every document, submission set and folder of the patient, for every reader; never overridden"
	}
	return b
}
