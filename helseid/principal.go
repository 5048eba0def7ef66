package helseid

import (
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"
)

// TokenKind says which kind of credential a Principal was established from.
type TokenKind string

// The credential kinds.
const (
	// TokenJWTUser is a HelseID access token for a logged-in person.
	TokenJWTUser TokenKind = "jwt-user"
	// TokenJWTClient is a HelseID client-credentials access token (a system,
	// no person).
	TokenJWTClient TokenKind = "jwt-client"
	// TokenSAML is an XUA SAML assertion from NHN's gateway.
	TokenSAML TokenKind = "saml"
)

// Code is a coded value: code, code system (OID or URI, as received) and
// display text.
type Code struct {
	Code    string `json:"code,omitempty"`
	System  string `json:"system,omitempty"`
	Display string `json:"display,omitempty"`
}

// IsZero reports whether no code is set.
func (c Code) IsZero() bool { return c.Code == "" }

// Organization identifies an organisation or a unit of one: an
// organisation number (ENH), a RESH id, or a local id in System.
type Organization struct {
	ID     string `json:"id,omitempty"`
	System string `json:"system,omitempty"`
	Name   string `json:"name,omitempty"`
}

// IsZero reports whether no organisation is set.
func (o Organization) IsZero() bool { return o.ID == "" && o.Name == "" }

// OrgNumbers are the organisation numbers HelseID vouches for on the client:
// the legal entity (parent), the sub-unit (child) and, for multi-tenant
// clients, the supplier.
type OrgNumbers struct {
	Parent   string `json:"parent,omitempty"`
	Child    string `json:"child,omitempty"`
	Supplier string `json:"supplier,omitempty"`
}

// DecisionRef points at the access decision in the calling EPJ (DIPS:
// beslutningsmal or explicit access). UserSelected is nil when not stated.
type DecisionRef struct {
	ID           string `json:"id,omitempty"`
	UserSelected *bool  `json:"userSelected,omitempty"`
}

// Principal is who is calling, as established from one credential, with the
// tillitsrammeverk attest that came with it. It is what the audit log
// records and what sperring decides on.
//
// PID, Name, Subject (for SAML) and PatientID hold national identity numbers
// or names. The type's String, GoString and LogValue methods never print
// them, so a Principal may be logged as a whole; log individual fields only
// through those methods.
type Principal struct {
	Kind     TokenKind `json:"kind"`
	Issuer   string    `json:"issuer"`
	Subject  string    `json:"subject,omitempty"`  // JWT sub (a pseudonym); empty for SAML
	TokenID  string    `json:"tokenId,omitempty"`  // JWT jti or SAML assertion ID
	ClientID string    `json:"clientId,omitempty"` // the HelseID client
	// ClientName is HelseID's display name of the client: for logs only,
	// never for access decisions.
	ClientName    string   `json:"clientName,omitempty"`
	Scopes        []string `json:"scopes,omitempty"`
	SecurityLevel int      `json:"securityLevel,omitempty"` // 0 when not stated

	// The practitioner (health personnel).
	PID           string       `json:"-"` // fnr or D-number; sensitive
	Name          string       `json:"-"` // sensitive
	HPRNumber     string       `json:"hprNumber,omitempty"`
	Authorization Code         `json:"authorization,omitzero"` // Volven 9060 role
	LegalEntity   Organization `json:"legalEntity,omitzero"`
	PointOfCare   Organization `json:"pointOfCare,omitzero"`
	Department    Organization `json:"department,omitzero"`
	OrgNumbers    OrgNumbers   `json:"orgNumbers,omitzero"`

	// The care relationship.
	Purpose           Code        `json:"purpose,omitzero"`
	PurposeDetails    Code        `json:"purposeDetails,omitzero"`
	HealthcareService Code        `json:"healthcareService,omitzero"`
	DecisionRef       DecisionRef `json:"decisionRef,omitzero"`

	// The patient the credential is bound to (SAML resource-id, CX); the
	// JWT carries none. Sensitive.
	PatientID string `json:"-"`
	// PatientPointOfCare and PatientDepartment are where the patient is
	// treated (attest patients[0]).
	PatientPointOfCare Organization `json:"patientPointOfCare,omitzero"`
	PatientDepartment  Organization `json:"patientDepartment,omitzero"`

	HomeCommunityID string `json:"homeCommunityId,omitempty"` // SAML only
	ConsentPolicy   string `json:"consentPolicy,omitempty"`   // SAML urn:ihe:iti:xua:2012:acp
	// HasAttest reports whether a tillitsrammeverk attest came with the
	// credential (for SAML: whether it carried a purpose of use).
	HasAttest bool `json:"hasAttest"`
	// KeyThumbprint is the RFC 7638 thumbprint of the DPoP key the token
	// is bound to and was presented with; empty for bearer use.
	KeyThumbprint string    `json:"keyThumbprint,omitempty"`
	IssuedAt      time.Time `json:"issuedAt,omitzero"`
	ExpiresAt     time.Time `json:"expiresAt,omitzero"`
}

// IsUser reports whether a person (not only a system) is authenticated.
func (p *Principal) IsUser() bool { return p.Kind == TokenJWTUser || p.Kind == TokenSAML }

// HasScope reports whether the credential grants scope.
func (p *Principal) HasScope(scope string) bool { return slices.Contains(p.Scopes, scope) }

// RequireScopes refuses with InsufficientScope unless every scope is granted.
func (p *Principal) RequireScopes(scopes ...string) error {
	for _, s := range scopes {
		if !p.HasScope(s) {
			return &AuthError{Kind: InsufficientScope, Reason: "missing scope " + fmt.Sprintf("%q", s), Scope: scopes}
		}
	}
	return nil
}

// RequireOrgNumber refuses with Forbidden unless the client's legal entity
// (orgnr_parent) is orgnr.
func (p *Principal) RequireOrgNumber(orgnr string) error {
	if orgnr == "" || p.OrgNumbers.Parent != orgnr {
		return authErr(Forbidden, "client organisation is not the expected legal entity")
	}
	return nil
}

// CheckPatient refuses with Forbidden unless the credential is bound to the
// patient that is asked about. patientID is a CX (12345678901^^^&OID&ISO,
// with or without the quotes of a stored-query value) or a bare number;
// when both sides name an assigning authority they must agree too. This is
// how /xca ties the query to the assertion's resource-id.
func (p *Principal) CheckPatient(patientID string) error {
	if p.PatientID == "" {
		return authErr(Forbidden, "credential is not bound to a patient")
	}
	wantID, wantAuth := splitCX(p.PatientID)
	gotID, gotAuth := splitCX(patientID)
	if wantID == "" || gotID == "" || wantID != gotID {
		return authErr(Forbidden, "patient in request differs from the patient in the credential")
	}
	if wantAuth != "" && gotAuth != "" && wantAuth != gotAuth {
		return authErr(Forbidden, "patient assigning authority differs from the credential")
	}
	return nil
}

// splitCX returns the id and the assigning authority OID of a CX value. It
// tolerates the quotes of stored-query parameters, the "&amp;" that NHN's
// assertions carry double-escaped, and a urn:oid: prefix.
func splitCX(cx string) (id, authority string) {
	s := strings.TrimSpace(cx)
	s = strings.Trim(s, "'")
	s = strings.ReplaceAll(s, "&amp;", "&")
	id, rest, found := strings.Cut(s, "^^^")
	id = strings.TrimSpace(id)
	if !found {
		return id, ""
	}
	parts := strings.Split(rest, "&")
	if len(parts) >= 2 {
		authority = strings.TrimPrefix(strings.TrimSpace(parts[1]), "urn:oid:")
	}
	return id, authority
}

// String describes the principal without national ids or names.
func (p Principal) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "principal{kind=%s issuer=%q client=%q", p.Kind, p.Issuer, p.ClientID)
	if p.HPRNumber != "" {
		fmt.Fprintf(&b, " hpr=%s", p.HPRNumber)
	}
	if p.LegalEntity.ID != "" {
		fmt.Fprintf(&b, " legalEntity=%s", p.LegalEntity.ID)
	}
	if p.Purpose.Code != "" {
		fmt.Fprintf(&b, " purpose=%s", p.Purpose.Code)
	}
	fmt.Fprintf(&b, " pid=%s patient=%s}", redacted(p.PID), redacted(p.PatientID))
	return b.String()
}

// GoString is String: %#v must not print national ids either.
func (p Principal) GoString() string { return p.String() }

// LogValue implements slog.LogValuer: the principal's non-sensitive fields,
// with national ids and names replaced by whether they are present.
func (p Principal) LogValue() slog.Value {
	attrs := []slog.Attr{
		slog.String("kind", string(p.Kind)),
		slog.String("issuer", p.Issuer),
		slog.String("client_id", p.ClientID),
		slog.Int("security_level", p.SecurityLevel),
		slog.String("pid", redacted(p.PID)),
		slog.String("name", redacted(p.Name)),
		slog.String("patient", redacted(p.PatientID)),
	}
	if p.HPRNumber != "" {
		attrs = append(attrs, slog.String("hpr", p.HPRNumber))
	}
	if p.LegalEntity.ID != "" {
		attrs = append(attrs, slog.String("legal_entity", p.LegalEntity.ID))
	}
	if p.PointOfCare.ID != "" {
		attrs = append(attrs, slog.String("point_of_care", p.PointOfCare.ID))
	}
	if p.Purpose.Code != "" {
		attrs = append(attrs, slog.String("purpose", p.Purpose.Code))
	}
	if p.DecisionRef.ID != "" {
		attrs = append(attrs, slog.String("decision_ref", p.DecisionRef.ID))
	}
	return slog.GroupValue(attrs...)
}

func redacted(s string) string {
	if s == "" {
		return "absent"
	}
	return "[redacted]"
}
