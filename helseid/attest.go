package helseid

import (
	"bytes"
	"encoding/json"
	"errors"
	"slices"
	"strings"
)

// OIDs of the identifier series the attest rules compare against
// (norway.md §2.1).
const (
	OIDFnr       = "2.16.578.1.12.4.1.4.1"
	OIDDnr       = "2.16.578.1.12.4.1.4.2"
	OIDHPR       = "2.16.578.1.12.4.1.4.4"
	OIDOrgNumber = "2.16.578.1.12.4.1.4.101"
	OIDRESH      = "2.16.578.1.12.4.1.4.102"
)

// attest is the tillitsrammeverk attest as HelseID enriches it. The spec's
// care_relation and HelseID's care_relationship are both read; kebab-case
// member names are normalised to snake_case before decoding.
type attest struct {
	Practitioner     *attestPractitioner `json:"practitioner"`
	CareRelationship *attestCare         `json:"care_relationship"`
	CareRelation     *attestCare         `json:"care_relation"`
	Patients         []attestPatient     `json:"patients"`
}

type attestIdent struct {
	ID        string `json:"id"`
	Name      string `json:"name"`
	System    string `json:"system"`
	Authority string `json:"authority"`
}

type attestCode struct {
	Code     string `json:"code"`
	Text     string `json:"text"`
	System   string `json:"system"`
	Assigner string `json:"assigner"`
}

type attestPractitioner struct {
	Identifier    *attestIdent `json:"identifier"`
	HPRNr         *attestIdent `json:"hpr_nr"`
	Authorization *attestCode  `json:"authorization"`
	LegalEntity   *attestIdent `json:"legal_entity"`
	PointOfCare   *attestIdent `json:"point_of_care"`
	Department    *attestIdent `json:"department"`
}

type attestCare struct {
	HealthcareService   *attestCode `json:"healthcare_service"`
	PurposeOfUse        *attestCode `json:"purpose_of_use"`
	PurposeOfUseDetails *attestCode `json:"purpose_of_use_details"`
	DecisionRef         *struct {
		ID           string   `json:"id"`
		UserSelected flexBool `json:"user_selected"`
	} `json:"decision_ref"`
}

type attestPatient struct {
	PointOfCare *attestIdent `json:"point_of_care"`
	Department  *attestIdent `json:"department"`
}

// parseAttest decodes the attest claim: a JSON object, a JSON string that
// holds one, or an array holding exactly one.
func parseAttest(raw json.RawMessage) (*attest, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || bytes.Equal(raw, []byte("null")) {
		return nil, nil
	}
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		return nil, errors.New("attest is not JSON")
	}
	if s, ok := v.(string); ok {
		if err := json.Unmarshal([]byte(s), &v); err != nil {
			return nil, errors.New("attest string is not JSON")
		}
	}
	if arr, ok := v.([]any); ok {
		if len(arr) != 1 {
			return nil, errors.New("attest array must hold one object")
		}
		v = arr[0]
	}
	obj, ok := v.(map[string]any)
	if !ok {
		return nil, errors.New("attest is not an object")
	}
	norm, err := json.Marshal(snakeKeys(obj))
	if err != nil {
		return nil, err
	}
	var a attest
	if err := json.Unmarshal(norm, &a); err != nil {
		return nil, errors.New("attest has wrong member types")
	}
	return &a, nil
}

// snakeKeys rewrites kebab-case member names to snake_case, recursively:
// the spec and HelseID disagree (Tillitsrammeverk #144).
func snakeKeys(v any) any {
	switch t := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(t))
		for k, val := range t {
			out[strings.ReplaceAll(k, "-", "_")] = snakeKeys(val)
		}
		return out
	case []any:
		for i := range t {
			t[i] = snakeKeys(t[i])
		}
		return t
	default:
		return v
	}
}

func (a *attest) care() *attestCare {
	if a.CareRelationship != nil {
		return a.CareRelationship
	}
	return a.CareRelation
}

// applyAttest checks the attest against the authenticated user and copies
// it into p. ATT-10/11: the practitioner identifier is a fnr or D-number
// and equals the authenticated pid. hprs are the token's HPR numbers: the
// attest's hpr_nr must be one of them (ATT-31: a practitioner with several
// authorisations picks one).
func applyAttest(p *Principal, a *attest, hprs []string) error {
	pr := a.Practitioner
	if pr == nil || pr.Identifier == nil {
		return authErr(Forbidden, "attest names no practitioner")
	}
	if p.PID == "" {
		return authErr(Forbidden, "attest in a token without an authenticated person")
	}
	if sys := normOID(pr.Identifier.System); sys != "" && sys != OIDFnr && sys != OIDDnr {
		return authErr(Forbidden, "attest practitioner identifier is not a fnr or D-number")
	}
	if cleanID(pr.Identifier.ID) != p.PID {
		return authErr(Forbidden, "attest practitioner is not the authenticated user")
	}
	if pr.HPRNr != nil && pr.HPRNr.ID != "" {
		hpr := cleanID(pr.HPRNr.ID)
		if !slices.Contains(hprs, hpr) {
			return authErr(Forbidden, "attest HPR number is not one of the token's")
		}
		p.HPRNumber = hpr
	}
	if p.Name == "" {
		p.Name = cleanText(pr.Identifier.Name)
	}
	p.Authorization = codeOf(pr.Authorization)
	if pr.LegalEntity != nil {
		p.LegalEntity = orgOf(pr.LegalEntity)
	}
	if pr.PointOfCare != nil {
		p.PointOfCare = orgOf(pr.PointOfCare)
	}
	if pr.Department != nil {
		p.Department = orgOf(pr.Department)
	}
	if c := a.care(); c != nil {
		p.Purpose = codeOf(c.PurposeOfUse)
		p.PurposeDetails = codeOf(c.PurposeOfUseDetails)
		p.HealthcareService = codeOf(c.HealthcareService)
		if c.DecisionRef != nil {
			p.DecisionRef = DecisionRef{ID: cleanID(c.DecisionRef.ID), UserSelected: c.DecisionRef.UserSelected.ptr()}
		}
	}
	if len(a.Patients) > 0 {
		if pt := a.Patients[0]; pt.PointOfCare != nil {
			p.PatientPointOfCare = orgOf(pt.PointOfCare)
		}
		if pt := a.Patients[0]; pt.Department != nil {
			p.PatientDepartment = orgOf(pt.Department)
		}
	}
	p.HasAttest = true
	return nil
}

func codeOf(c *attestCode) Code {
	if c == nil {
		return Code{}
	}
	return Code{Code: cleanID(c.Code), System: cleanID(c.System), Display: cleanText(c.Text)}
}

func orgOf(i *attestIdent) Organization {
	return Organization{ID: cleanID(i.ID), System: cleanID(i.System), Name: cleanText(i.Name)}
}

// normOID strips the urn:oid: prefix so OIDs compare equal in either form.
func normOID(s string) string {
	return strings.TrimPrefix(strings.TrimSpace(s), "urn:oid:")
}
