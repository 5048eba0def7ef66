package helseid

import (
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// HelseID claim names (utviklerportal "Claims"; norway.md §4.4).
const (
	ClaimPID            = "helseid://claims/identity/pid"
	ClaimSecurityLevel  = "helseid://claims/identity/security_level"
	ClaimAssuranceLevel = "helseid://claims/identity/assurance_level"
	ClaimHPRNumber      = "helseid://claims/hpr/hpr_number"
	ClaimClientName     = "helseid://claims/client/client_name"
	ClaimOrgNrParent    = "helseid://claims/client/claims/orgnr_parent"
	ClaimOrgNrChild     = "helseid://claims/client/claims/orgnr_child"
	ClaimOrgNrSupplier  = "helseid://claims/client/claims/orgnr_supplier"
	// ClaimAttest is the tillitsrammeverk attest claim.
	ClaimAttest = "nhn:tillitsrammeverk:parameters"
)

// accessClaims are the claims of a HelseID access token kjdd reads. The
// registered time claims are validated by jwx; everything else here.
type accessClaims struct {
	Iss            string          `json:"iss"`
	Sub            string          `json:"sub"`
	Jti            string          `json:"jti"`
	Aud            stringList      `json:"aud"`
	Scope          scopeList       `json:"scope"`
	ClientID       string          `json:"client_id"`
	Name           string          `json:"name"`
	PID            string          `json:"helseid://claims/identity/pid"`
	SecurityLevel  flexString      `json:"helseid://claims/identity/security_level"`
	AssuranceLevel flexString      `json:"helseid://claims/identity/assurance_level"`
	HPRNumber      stringList      `json:"helseid://claims/hpr/hpr_number"`
	ClientName     string          `json:"helseid://claims/client/client_name"`
	OrgNrParent    string          `json:"helseid://claims/client/claims/orgnr_parent"`
	OrgNrChild     string          `json:"helseid://claims/client/claims/orgnr_child"`
	OrgNrSupplier  string          `json:"helseid://claims/client/claims/orgnr_supplier"`
	Cnf            *confirmation   `json:"cnf"`
	Attest         json.RawMessage `json:"nhn:tillitsrammeverk:parameters"`
}

type confirmation struct {
	JKT string `json:"jkt"`
}

// hasIdentity reports whether the token speaks for a person: any identity
// claim makes it a user token, which must then carry all of them.
func (c *accessClaims) hasIdentity() bool {
	return c.PID != "" || c.SecurityLevel != "" || c.AssuranceLevel != "" || len(c.HPRNumber) > 0
}

// stringList is a JSON string or array of strings.
type stringList []string

// UnmarshalJSON accepts a string or an array of strings.
func (l *stringList) UnmarshalJSON(b []byte) error {
	var one string
	if err := json.Unmarshal(b, &one); err == nil {
		*l = stringList{one}
		return nil
	}
	var many []string
	if err := json.Unmarshal(b, &many); err != nil {
		return errors.New("want a string or an array of strings")
	}
	*l = many
	return nil
}

// scopeList is the scope claim: a space-separated string (RFC 8693) or, as
// HelseID also sends it, an array of strings.
type scopeList []string

// UnmarshalJSON accepts a space-separated string or an array of strings.
func (l *scopeList) UnmarshalJSON(b []byte) error {
	var raw stringList
	if err := raw.UnmarshalJSON(b); err != nil {
		return err
	}
	var out []string
	for _, s := range raw {
		out = append(out, strings.Fields(s)...)
	}
	*l = out
	return nil
}

// flexString is a JSON string or number, kept as its text: HelseID sends
// security_level as "4", other issuers as 4.
type flexString string

// UnmarshalJSON accepts a string or a number.
func (f *flexString) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err == nil {
		*f = flexString(s)
		return nil
	}
	var n json.Number
	if err := json.Unmarshal(b, &n); err != nil {
		return errors.New("want a string or a number")
	}
	*f = flexString(n.String())
	return nil
}

// flexBool is a JSON boolean or the strings "true"/"false" (any case), as
// decision_ref.user_selected and the SAML "True" arrive.
type flexBool struct {
	set, val bool
}

// UnmarshalJSON accepts a boolean or a string spelling one.
func (f *flexBool) UnmarshalJSON(b []byte) error {
	var v bool
	if err := json.Unmarshal(b, &v); err == nil {
		*f = flexBool{set: true, val: v}
		return nil
	}
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return errors.New("want a boolean")
	}
	p, err := strconv.ParseBool(strings.ToLower(strings.TrimSpace(s)))
	if err != nil {
		return errors.New("want a boolean")
	}
	*f = flexBool{set: true, val: p}
	return nil
}

func (f flexBool) ptr() *bool {
	if !f.set {
		return nil
	}
	v := f.val
	return &v
}

// parseSecurityLevel returns the level as a number, 0 when absent or not a
// small integer.
func parseSecurityLevel(s string) int {
	n, err := strconv.Atoi(strings.TrimSpace(s))
	if err != nil || n < 0 || n > 9 {
		return 0
	}
	return n
}

// maxFreeText bounds free-text values (names, display texts) taken from
// credentials; they end up in audit records and log viewers.
const maxFreeText = 256

// cleanText makes an untrusted free-text value safe to store: valid UTF-8,
// no control characters, trimmed, and bounded. Escaping for display is the
// renderer's job; this keeps log lines and records intact.
func cleanText(s string) string {
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "\uFFFD")
	}
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return ' '
		}
		return r
	}, s)
	s = strings.TrimSpace(s)
	if utf8.RuneCountInString(s) > maxFreeText {
		r := []rune(s)
		s = string(r[:maxFreeText])
	}
	return s
}

// cleanID makes an identifier-like value safe: like cleanText but any
// whitespace or control character makes it invalid (returned empty).
func cleanID(s string) string {
	s = strings.TrimSpace(s)
	if len(s) > maxFreeText || !utf8.ValidString(s) {
		return ""
	}
	for _, r := range s {
		if unicode.IsSpace(r) || unicode.IsControl(r) {
			return ""
		}
	}
	return s
}
