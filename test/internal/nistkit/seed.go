package nistkit

import (
	"crypto/rand"
	"errors"
	"fmt"
	"math/big"
	"strings"

	"github.com/beevik/etree"
)

// uniqueIDSchemes are the ExternalIdentifier schemes whose value is an
// object's uniqueId (DocumentEntry, SubmissionSet, Folder).
var uniqueIDSchemes = map[string]bool{
	"urn:uuid:2e82c1f6-a085-4c72-9da3-8640a32e42ab": true,
	"urn:uuid:96fdda7c-d067-4183-912e-bf5ee74998a8": true,
	"urn:uuid:75df8f67-9973-4fbe-a900-df66cefecc5a": true,
}

// referenceAttrs hold ids of other objects in a submission.
var referenceAttrs = []string{"id", "classifiedObject", "registryObject", "sourceObject", "targetObject"}

// Assigned is what a prepared submission assigned: for each symbolic id of
// the seed file its entryUUID, and for each object with a uniqueId that
// uniqueId (keyed by the object's symbolic id).
type Assigned struct {
	UUIDs map[string]string
	UIDs  map[string]string
}

// Prepare turns a seed SubmitObjectsRequest (symbolic ids, placeholder
// uniqueIds, $patientid$) into one ready to send: vars are substituted,
// every symbolic id becomes a fresh urn:uuid (NIST's AssignUuids) and every
// uniqueId a fresh OID, so that the same seed can be registered on every
// run without XDSDuplicateUniqueIdInRegistry.
func Prepare(seed []byte, vars map[string]string) ([]byte, *Assigned, error) {
	doc := etree.NewDocument()
	if err := doc.ReadFromString(Substitute(string(seed), vars, true)); err != nil {
		return nil, nil, err
	}
	if doc.Root() == nil {
		return nil, nil, errors.New("seed has no root element")
	}
	if left := Placeholders(docString(doc)); len(left) > 0 {
		return nil, nil, fmt.Errorf("unresolved placeholders %v", left)
	}
	a := &Assigned{UUIDs: map[string]string{}, UIDs: map[string]string{}}
	all := descendantsOrSelf(doc.Root())
	for _, e := range all {
		id := e.SelectAttrValue("id", "")
		if id == "" || strings.HasPrefix(id, "urn:uuid:") || e.Tag == "ObjectRef" {
			continue
		}
		if _, dup := a.UUIDs[id]; dup {
			return nil, nil, fmt.Errorf("symbolic id %q used twice", id)
		}
		a.UUIDs[id] = NewUUIDURN()
	}
	for _, e := range all {
		if e.Tag == "ExternalIdentifier" && uniqueIDSchemes[e.SelectAttrValue("identificationScheme", "")] {
			owner := e.SelectAttrValue("registryObject", "")
			uid := NewOID()
			a.UIDs[owner] = uid
			e.CreateAttr("value", uid)
		}
		for _, name := range referenceAttrs {
			if attr := e.SelectAttr(name); attr != nil {
				if u, ok := a.UUIDs[attr.Value]; ok {
					attr.Value = u
				}
			}
		}
	}
	doc.Indent(etree.NoIndent)
	out, err := doc.WriteToBytes()
	return out, a, err
}

func docString(d *etree.Document) string {
	s, _ := d.WriteToString()
	return s
}

// NewUUIDURN returns a random UUID as urn:uuid:….
func NewUUIDURN() string {
	var u [16]byte
	_, _ = rand.Read(u[:])
	u[6] = u[6]&0x0f | 0x40
	u[8] = u[8]&0x3f | 0x80
	return fmt.Sprintf("urn:uuid:%x-%x-%x-%x-%x", u[0:4], u[4:6], u[6:8], u[8:10], u[10:16])
}

// NewOID returns a fresh OID under 2.25 (the UUID-derived arc, ITU-T X.667),
// at most 44 characters.
func NewOID() string {
	var u [16]byte
	_, _ = rand.Read(u[:])
	u[6] = u[6]&0x0f | 0x40
	u[8] = u[8]&0x3f | 0x80
	return "2.25." + new(big.Int).SetBytes(u[:]).String()
}

// NewPatientID returns a fresh patient id in NIST's test assigning
// authority, so runs never see each other's data.
func NewPatientID() string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return fmt.Sprintf("%x^^^&1.3.6.1.4.1.21367.2005.3.7&ISO", b)
}
