package helseidtest

import (
	"testing"

	"kjdd/test/testkit/xsd"
)

// TestEnvelopesAreSchemaValid validates the fake's ITI-38 requests, in
// every variant, against the official SOAP 1.2 and ebRS schemas.
func TestEnvelopesAreSchemaValid(t *testing.T) {
	s := NewSAMLSigner(t)
	variants := map[string][]SAMLOption{
		"valid":                 {},
		"old attribute names":   {XUAOldAttributeNames()},
		"wrapped":               {WrappedInEvilAssertion()},
		"moved to the body":     {SignedMovedToBody()},
		"second assertion":      {SecondUnsignedAssertion()},
		"query another patient": {XUAQueryPatient(EvilPatient)},
	}
	for name, opts := range variants {
		t.Run(name, func(t *testing.T) {
			xsd.Check(t, s.Envelope(opts...))
		})
	}
}
