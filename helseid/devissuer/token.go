package devissuer

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"slices"
	"time"

	"kjdd/helseid"
)

// The development practitioner, used unless a token or assertion names
// another: NHN's synthetic test person (a Tenor test number, not a real
// person) and an HPR number from NHN's published test data.
const (
	DefaultPractitionerPID  = "06828399789"
	DefaultPractitionerName = "KVART GREVLING"
	DefaultHPRNumber        = "565505933"
	// DefaultPurpose is the purpose of use of the attest and assertions.
	DefaultPurpose = "TREAT"
	// DefaultLifetime is how long a development credential is valid: long
	// enough to paste it into a few commands.
	DefaultLifetime = time.Hour
	// ClientID is the development client's HelseID client id.
	ClientID = "kjdd-dev"
)

// Purposes are the purposes of use a development credential may state
// (HL7 v3 PurposeOfUse, value set 2.16.840.1.113883.1.11.20448), with
// their display names.
var Purposes = map[string]string{
	"TREAT":  "Treatment",
	"ETREAT": "Emergency Treatment",
	"COC":    "Coordination of Care",
	"BTG":    "Break the Glass",
}

// OIDPurposeOfUse is the code system of Purposes.
const OIDPurposeOfUse = "2.16.840.1.113883.1.11.20448"

// TokenOptions describe one access token. Zero values take the defaults.
type TokenOptions struct {
	// Client mints a client-credentials token: no person and no attest,
	// orgnr_parent the hospital's (what the EPJ uses to register and for
	// the sperring API).
	Client bool
	// PID is the practitioner's fnr or D-number; default
	// DefaultPractitionerPID.
	PID string
	// HPRNumber is the practitioner's HPR number; default DefaultHPRNumber.
	HPRNumber string
	// Purpose is the attest's purpose of use; default DefaultPurpose.
	Purpose string
	// Scopes are granted; default every scope of the settings.
	Scopes []string
	// Lifetime is how long the token is valid; default DefaultLifetime.
	Lifetime time.Duration
	// JKT binds the token to a DPoP key (cnf.jkt, RFC 7638 thumbprint);
	// empty mints a bearer token.
	JKT string
}

// Token mints an access token shaped like HelseID's: RS256, typ at+jwt,
// HelseID's claim names, and for a practitioner security level 4, pid,
// HPR number and a tillitsrammeverk attest.
func (i *Issuer) Token(o TokenOptions) (string, error) {
	if err := o.fill(i.settings); err != nil {
		return "", err
	}
	now := i.Now()
	claims := map[string]any{
		"iss":                    i.settings.Issuer,
		"aud":                    i.settings.Audience,
		"client_id":              ClientID,
		"scope":                  o.Scopes,
		"jti":                    randomID(),
		"iat":                    now.Unix(),
		"nbf":                    now.Unix(),
		"exp":                    now.Add(o.Lifetime).Unix(),
		helseid.ClaimClientName:  "kjdd development client",
		helseid.ClaimOrgNrParent: i.settings.HospitalOrgNumber,
		helseid.ClaimOrgNrChild:  i.settings.HospitalOrgNumber,
	}
	if o.JKT != "" {
		claims["cnf"] = map[string]any{"jkt": o.JKT}
	}
	if !o.Client {
		// HelseID's sub is a pairwise pseudonym, never the pid itself.
		sum := sha256.Sum256([]byte("kjdd-dev-subject:" + o.PID))
		claims["sub"] = b64url.EncodeToString(sum[:])
		claims["name"] = DefaultPractitionerName
		claims[helseid.ClaimPID] = o.PID
		claims[helseid.ClaimSecurityLevel] = "4"
		claims[helseid.ClaimAssuranceLevel] = "high"
		claims[helseid.ClaimHPRNumber] = o.HPRNumber
		claims[helseid.ClaimAttest] = i.attest(o)
	}
	header := map[string]any{"alg": "RS256", "typ": "at+jwt", "kid": i.TokenKeyID()}
	return i.signJWT(header, claims)
}

// attest is the tillitsrammeverk attest in HelseID's enriched form.
func (i *Issuer) attest(o TokenOptions) map[string]any {
	org := map[string]any{"id": i.settings.HospitalOrgNumber, "name": "kjdd development hospital", "system": "urn:oid:" + helseid.OIDOrgNumber}
	return map[string]any{
		"practitioner": map[string]any{
			"identifier":    map[string]any{"id": o.PID, "name": DefaultPractitionerName, "system": "urn:oid:" + pidSystem(o.PID)},
			"hpr_nr":        map[string]any{"id": o.HPRNumber, "system": "urn:oid:" + helseid.OIDHPR},
			"authorization": map[string]any{"code": "LE", "text": "Lege", "system": "urn:oid:2.16.578.1.12.4.1.1.9060"},
			"legal_entity":  org,
			"point_of_care": org,
		},
		"care_relationship": map[string]any{
			"purpose_of_use": map[string]any{"code": o.Purpose, "text": Purposes[o.Purpose], "system": "urn:oid:" + OIDPurposeOfUse},
			"decision_ref":   map[string]any{"id": randomID(), "user_selected": false},
		},
	}
}

// fill applies the defaults and checks the values.
func (o *TokenOptions) fill(s Settings) error {
	if o.PID == "" {
		o.PID = DefaultPractitionerPID
	}
	if o.HPRNumber == "" {
		o.HPRNumber = DefaultHPRNumber
	}
	if o.Purpose == "" {
		o.Purpose = DefaultPurpose
	}
	if len(o.Scopes) == 0 {
		o.Scopes = slices.Clone(s.Scopes)
	}
	if o.Lifetime == 0 {
		o.Lifetime = DefaultLifetime
	}
	switch {
	case !allDigits(o.PID, 11):
		return errors.New("devissuer: the practitioner's pid must be 11 digits")
	case !digitsOnly(o.HPRNumber) || len(o.HPRNumber) > 9:
		return errors.New("devissuer: an HPR number is at most nine digits")
	case Purposes[o.Purpose] == "":
		return fmt.Errorf("devissuer: purpose of use %q is not one of TREAT, ETREAT, COC, BTG", o.Purpose)
	case o.Lifetime < 0 || o.Lifetime > 24*time.Hour:
		return errors.New("devissuer: lifetime must be at most 24 hours")
	}
	for _, sc := range o.Scopes {
		if sc == "" {
			return errors.New("devissuer: empty scope")
		}
	}
	return nil
}

// pidSystem is the identifier series of a national id: D-numbers have 4
// to 7 as their first digit.
func pidSystem(pid string) string {
	if pid != "" && pid[0] >= '4' && pid[0] <= '7' {
		return helseid.OIDDnr
	}
	return helseid.OIDFnr
}

func digitsOnly(s string) bool {
	return s != "" && allDigits(s, len(s))
}
