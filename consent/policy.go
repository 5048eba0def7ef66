package consent

import (
	"errors"
	"fmt"
	"slices"
	"strings"
)

// Visibility says how a document blocked at document level is answered:
// left out, or listed as "Sperret" with masked metadata.
type Visibility int

// Visibilities. The zero value hides, so that a forgotten setting fails
// closed.
const (
	// VisibilityHide leaves blocked documents out of every answer.
	VisibilityHide Visibility = iota
	// VisibilityObfuscate lists blocked documents as "Sperret" with masked
	// metadata and a unique id that cannot be retrieved.
	VisibilityObfuscate
)

// String returns the configuration spelling: "hide" or "obfuscate".
func (v Visibility) String() string {
	switch v {
	case VisibilityHide:
		return "hide"
	case VisibilityObfuscate:
		return "obfuscate"
	}
	return fmt.Sprintf("Visibility(%d)", int(v))
}

// ParseVisibility parses KJDD_BLOCKED_VISIBILITY: "hide" or "obfuscate",
// case-insensitive; empty means hide.
func ParseVisibility(s string) (Visibility, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "", "hide":
		return VisibilityHide, nil
	case "obfuscate":
		return VisibilityObfuscate, nil
	}
	return VisibilityHide, errors.New("blocked visibility must be hide or obfuscate")
}

// UnmarshalText reads KJDD_BLOCKED_VISIBILITY as ParseVisibility does.
func (v *Visibility) UnmarshalText(b []byte) error {
	parsed, err := ParseVisibility(string(b))
	if err != nil {
		return err
	}
	*v = parsed
	return nil
}

// Purposes of use (HL7 PurposeOfUse, as used by the tillitsrammeverk attest
// for PJD).
const (
	PurposeTreat          = "TREAT"
	PurposeEmergencyTreat = "ETREAT"
	PurposeCoordination   = "COC"
	PurposeBreakTheGlass  = "BTG"
)

// DefaultOverridePurposes is the default of KJDD_OVERRIDE_PURPOSES.
var DefaultOverridePurposes = []string{PurposeBreakTheGlass}

// overridable lists the purposes that may be configured to override
// document-level sperring. TREAT and COC are ordinary access: letting them
// override would switch document-level sperring off for everyone.
var overridable = []string{PurposeEmergencyTreat, PurposeBreakTheGlass}

// ParseOverridePurposes parses KJDD_OVERRIDE_PURPOSES, a comma-separated
// list such as "BTG" or "ETREAT,BTG". Codes are trimmed and upper-cased.
// An empty string means no purpose overrides; applying the default when the
// variable is unset is the configuration's job.
func ParseOverridePurposes(s string) ([]string, error) {
	var out []string
	for p := range strings.SplitSeq(s, ",") {
		p = normPurpose(p)
		if p == "" {
			if strings.TrimSpace(s) == "" {
				continue
			}
			return nil, errors.New("override purposes must not contain an empty entry")
		}
		if !slices.Contains(overridable, p) {
			return nil, fmt.Errorf("override purpose %q is not allowed (only %s)", truncate(p, 16), strings.Join(overridable, ", "))
		}
		if !slices.Contains(out, p) {
			out = append(out, p)
		}
	}
	return out, nil
}

// Policy is the configured sperring policy. The zero value hides every
// blocked document and lets nothing override.
type Policy struct {
	// OverridePurposes are the purposes of use that override
	// document-level sperring (KJDD_OVERRIDE_PURPOSES).
	OverridePurposes []string
	// Visibility is how documents blocked at document level are answered
	// (KJDD_BLOCKED_VISIBILITY).
	Visibility Visibility
	// ObfuscationKey keys the masked ids of obfuscated entries (see
	// Obfuscate). Required, at least MinKeyLength bytes, when Visibility
	// is VisibilityObfuscate; every instance must share it so that
	// listings are the same whichever instance answers.
	ObfuscationKey []byte
}

// MinKeyLength is the shortest secret accepted for keyed hashes (the
// obfuscation key and the Redis key secret).
const MinKeyLength = 16

// Validate checks the policy at start-up.
func (p Policy) Validate() error {
	for _, purpose := range p.OverridePurposes {
		if !slices.Contains(overridable, normPurpose(purpose)) {
			return fmt.Errorf("override purpose %q is not allowed (only %s)", truncate(purpose, 16), strings.Join(overridable, ", "))
		}
	}
	switch p.Visibility {
	case VisibilityHide:
	case VisibilityObfuscate:
		if len(p.ObfuscationKey) < MinKeyLength {
			return fmt.Errorf("obfuscation key must be at least %d bytes", MinKeyLength)
		}
	default:
		return errors.New("blocked visibility must be hide or obfuscate")
	}
	return nil
}

// overrides reports whether purpose overrides document-level sperring.
func (p Policy) overrides(purpose string) bool {
	purpose = normPurpose(purpose)
	// Checked again here, not only in Validate: an unvalidated Policy
	// must not let ordinary access override.
	if !slices.Contains(overridable, purpose) {
		return false
	}
	for _, o := range p.OverridePurposes {
		if normPurpose(o) == purpose {
			return true
		}
	}
	return false
}

func normPurpose(s string) string {
	return strings.ToUpper(strings.TrimSpace(s))
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
