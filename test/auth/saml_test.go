package auth

import (
	"strings"
	"testing"
	"time"

	"github.com/beevik/etree"

	"kjdd/helseid/helseidtest"
	"kjdd/test/internal/harness"
	"kjdd/test/testkit/paths"
)

// TestAssertionRefused sends ITI-38 FindDocuments for a patient with
// documents, carrying each unacceptable XUA assertion (and the signature
// wrapping variants), to /xca. Every one is refused with a WS-Security
// fault that shows nothing of the patient; the log says why.
func TestAssertionRefused(t *testing.T) {
	srv := start(t, nil, nil)
	signer := srv.Identity().Issuer.SAML
	patientFNR := newFNR(t)
	patient := harness.CX(patientFNR)
	other := harness.CX(newFNR(t))
	register(t, srv, patient)
	register(t, srv, other)
	evil := helseidtest.EvilPatient[:11]
	tests := refusedAssertions(t, signer, patient, other)
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			logged := wantLogged(t, srv, tc.reason)
			resp := srv.With(harness.AuthNone).SOAP(t, harness.PathXCA, tc.envelope(), harness.ContentTypeSOAP)
			if tc.subcode == "" {
				// Refused before authentication: the body's first element
				// is not the query the action names.
				if f := resp.Fault(); f == nil || f.Code != "Sender" || resp.RegistryObjectList() != nil {
					t.Fatalf("fault %v, want a Sender fault", f)
				}
				return
			}
			logged()
			wantRefused(t, resp, tc.subcode, patientFNR, other[:11], evil)
			if resp.RegistryObjectList() != nil {
				t.Error("a refusal carries a RegistryObjectList")
			}
		})
	}
	t.Run("control: the same query with a valid assertion", func(t *testing.T) {
		resp := srv.With(harness.AuthNone).SOAP(t, harness.PathXCA, signer.Envelope(helseidtest.XUAPatient(patient)), harness.ContentTypeSOAP)
		if f := resp.Fault(); f != nil || resp.Contents().Documents != 1 {
			t.Fatalf("valid assertion: fault %v, %d documents, want 1", f, resp.Contents().Documents)
		}
	})
	wantNoNationalIDs(t, srv, patient, other, helseidtest.EvilPatient)
}

// refusedAssertion is an ITI-38 request whose XUA credential kjdd must
// refuse, with the WS-Security fault subcode and the logged reason (no
// subcode: refused before authentication).
type refusedAssertion struct {
	envelope func() []byte
	subcode  string
	reason   string
}

// refusedAssertions are the unacceptable XUA assertions (and the signature
// wrapping variants) of a FindDocuments for patient by signer, the
// gateway's trusted signer; other is a second patient with documents.
func refusedAssertions(t *testing.T, signer *helseidtest.SAMLSigner, patient, other string) map[string]refusedAssertion {
	untrusted := helseidtest.NewSAMLSigner(t)
	now := time.Now()
	return map[string]refusedAssertion{
		"no wsse:Security": {subcode: "InvalidSecurity", reason: "no wsse:Security header",
			envelope: func() []byte { return harness.Envelope(harness.ActionCrossGatewayQuery, findDocuments(patient)) }},
		"unsigned": {subcode: "FailedAuthentication", reason: "assertion is not signed",
			envelope: func() []byte { return signer.Envelope(helseidtest.XUAPatient(patient), helseidtest.Unsigned()) }},
		"expired": {subcode: "FailedAuthentication", reason: "assertion expired",
			envelope: func() []byte {
				return signer.Envelope(helseidtest.XUAPatient(patient), helseidtest.XUAValidity(now.Add(-2*time.Hour), now.Add(-time.Hour)))
			}},
		"not yet valid": {subcode: "FailedAuthentication", reason: "in the future",
			envelope: func() []byte {
				return signer.Envelope(helseidtest.XUAPatient(patient), helseidtest.XUAValidity(now.Add(time.Hour), now.Add(2*time.Hour)))
			}},
		"window inverted, both bounds within the skew": {subcode: "FailedAuthentication", reason: "lifetime window is inverted",
			envelope: func() []byte {
				return signer.Envelope(helseidtest.XUAPatient(patient), helseidtest.XUAValidity(now.Add(2*time.Minute), now.Add(-2*time.Minute)))
			}},
		"ten-year lifetime": {subcode: "FailedAuthentication", reason: "exceeds the maximum 8h0m0s",
			envelope: func() []byte {
				return signer.Envelope(helseidtest.XUAPatient(patient), helseidtest.XUAValidity(now.Add(-time.Minute), now.AddDate(10, 0, 0)))
			}},
		"subject confirmation window inverted": {subcode: "FailedAuthentication", reason: "subject confirmation window is inverted",
			envelope: func() []byte {
				return signer.Envelope(helseidtest.XUAPatient(patient), helseidtest.XUASubjectConfirmationWindow(now.Add(2*time.Minute), now.Add(time.Minute)))
			}},
		"authentication session ends before it began": {subcode: "FailedAuthentication", reason: "authentication session window is inverted",
			envelope: func() []byte {
				return signer.Envelope(helseidtest.XUAPatient(patient), helseidtest.XUAAuthnSession(now, now.Add(-time.Minute)))
			}},
		"wrong audience": {subcode: "FailedAuthentication", reason: "not for our audience",
			envelope: func() []byte {
				return signer.Envelope(helseidtest.XUAPatient(patient), helseidtest.XUAAudience("urn:someone-else"))
			}},
		"wrong issuer": {subcode: "FailedAuthentication", reason: "issuer is not the configured one",
			envelope: func() []byte {
				return signer.Envelope(helseidtest.XUAPatient(patient), helseidtest.XUAIssuer("https://helseid-xdssaml.nhn.no"))
			}},
		"untrusted certificate": {subcode: "FailedAuthentication", reason: "signature does not verify with a trusted certificate",
			envelope: func() []byte { return untrusted.Envelope(helseidtest.XUAPatient(patient)) }},
		"patient mismatch": {subcode: "FailedAuthentication", reason: "patient in request differs from the patient in the credential",
			envelope: func() []byte {
				return signer.Envelope(helseidtest.XUAPatient(other), helseidtest.XUAQueryPatient(patient))
			}},
		"security level 3": {subcode: "FailedAuthentication", reason: "security level 3 below 4",
			envelope: func() []byte {
				return signer.Envelope(helseidtest.XUAPatient(patient), helseidtest.XUASecurityLevel("3"))
			}},
		"no purpose of use": {subcode: "FailedAuthentication", reason: "states no purpose of use",
			envelope: func() []byte { return signer.Envelope(helseidtest.XUAPatient(patient), helseidtest.XUAPurpose("")) }},
		"signed content altered": {subcode: "FailedAuthentication", reason: "signature does not verify",
			envelope: func() []byte { return signer.Envelope(helseidtest.XUAPatient(patient), helseidtest.Tampered()) }},
		"wrapping: a second, unsigned assertion": {subcode: "InvalidSecurity", reason: "2 assertions in the message",
			envelope: func() []byte {
				return signer.Envelope(helseidtest.XUAPatient(patient), helseidtest.SecondUnsignedAssertion())
			}},
		"wrapping: signed assertion inside an evil one": {subcode: "InvalidSecurity", reason: "2 assertions in the message",
			envelope: func() []byte {
				return signer.Envelope(helseidtest.XUAPatient(patient), helseidtest.WrappedInEvilAssertion())
			}},
		"wrapping: signed assertion moved under another element": {subcode: "InvalidSecurity", reason: "not a direct child of wsse:Security",
			envelope: func() []byte {
				return signer.Envelope(helseidtest.XUAPatient(patient), helseidtest.SignedMovedUnderWrapper())
			}},
		"wrapping: signed assertion moved to the body, before the query": {
			envelope: func() []byte {
				return signer.Envelope(helseidtest.XUAPatient(patient), helseidtest.SignedMovedToBody())
			}},
		"wrapping: signed assertion moved to the body, after the query": {subcode: "InvalidSecurity", reason: "2 assertions in the message",
			envelope: func() []byte {
				return wrapperAfterQuery(t, signer.Envelope(helseidtest.XUAPatient(patient), helseidtest.SignedMovedToBody()))
			}},
	}
}

// TestAssertionBindsItsPatient: an assertion for one patient reaches none
// of another patient's documents, by query for the other patient, by
// document id, or by retrieve.
func TestAssertionBindsItsPatient(t *testing.T) {
	srv := start(t, nil, nil)
	id := srv.Identity()
	mine, theirs := harness.CX(newFNR(t)), harness.CX(newFNR(t))
	register(t, srv, mine)
	theirDoc := register(t, srv, theirs)
	asMine := srv.With(harness.AuthNone)
	sec := harness.WithHeader(id.Security(mine))

	t.Run("retrieve of another patient's document", func(t *testing.T) {
		resp := asMine.SOAP(t, harness.PathXCA, harness.Envelope(harness.ActionCrossGatewayRetrieve, retrieveRequest(theirDoc, true), sec), harness.ContentTypeSOAP)
		if f := resp.Fault(); f != nil {
			t.Fatalf("fault %s, want the answer for an unknown document", f)
		}
		docs, err := resp.Documents()
		if err != nil || len(docs) != 0 || !strings.Contains(strings.Join(resp.ErrorCodes(), " "), "XDSDocumentUniqueIdError") {
			t.Fatalf("documents %d (%v), errors %v; want none and XDSDocumentUniqueIdError", len(docs), err, resp.ErrorCodes())
		}
	})
	t.Run("query by id of another patient's document", func(t *testing.T) {
		q := `<query:AdhocQueryRequest xmlns:query="urn:oasis:names:tc:ebxml-regrep:xsd:query:3.0" xmlns:rim="urn:oasis:names:tc:ebxml-regrep:xsd:rim:3.0">` +
			`<query:ResponseOption returnType="LeafClass" returnComposedObjects="true"/>` +
			`<rim:AdhocQuery id="urn:uuid:5c4f972b-d56b-40ac-a5fc-c8ca9b40b9d4" home="urn:oid:` + harness.HomeCommunityID + `">` +
			`<rim:Slot name="$XDSDocumentEntryUniqueId"><rim:ValueList><rim:Value>('` + theirDoc + `')</rim:Value></rim:ValueList></rim:Slot>` +
			`</rim:AdhocQuery></query:AdhocQueryRequest>`
		resp := asMine.SOAP(t, harness.PathXCA, harness.Envelope(harness.ActionCrossGatewayQuery, q, sec), harness.ContentTypeSOAP)
		if f := resp.Fault(); f != nil || resp.Contents().Documents != 0 {
			t.Fatalf("fault %v, %d documents; want an empty answer", f, resp.Contents().Documents)
		}
	})
	t.Run("control: the own patient's document by retrieve", func(t *testing.T) {
		myDoc := register(t, srv, mine)
		resp := asMine.SOAP(t, harness.PathXCA, harness.Envelope(harness.ActionCrossGatewayRetrieve, retrieveRequest(myDoc, true), sec), harness.ContentTypeSOAP)
		docs, err := resp.Documents()
		if err != nil || string(docs[myDoc]) != string(documentContent) {
			t.Fatalf("own document not retrieved: %v, errors %v", err, resp.ErrorCodes())
		}
	})
	t.Run("retrieve without wsse:Security", func(t *testing.T) {
		resp := asMine.SOAP(t, harness.PathXCA, harness.Envelope(harness.ActionCrossGatewayRetrieve, retrieveRequest(theirDoc, true)), harness.ContentTypeSOAP)
		wantRefused(t, resp, "InvalidSecurity", theirs[:11])
	})
}

// TestRealNHNAssertionRefused replays NHN's PJD samples with the XUA
// assertions they were captured with: long expired, signed by NHN's test
// certificate, which this kjdd does not trust, and pretty-printed after
// signing. Each is refused; the same message with a fresh assertion from
// the trusted signer is answered (so the refusal is the assertion's).
func TestRealNHNAssertionRefused(t *testing.T) {
	srv := start(t, nil, map[string]string{"KJDD_METADATA_PROFILE": "norway"})
	for _, file := range []string{
		"iti38-FindDocuments-pjd-kjernejournal-saml.xml",
		"iti38-FindDocuments-pjd-helsenord-saml.xml",
		"iti38-FindDocuments-pjd-acp-saml.xml",
		"iti39-request-pjd-kjernejournal-saml.xml",
		"iti39-request-pjd-helsenord-saml.xml",
	} {
		t.Run(file, func(t *testing.T) {
			raw := paths.Sample(t, file)
			resp := srv.With(harness.AuthNone).SOAP(t, harness.PathXCA, raw, harness.ContentTypeSOAP)
			f := resp.Fault()
			if f == nil || (f.Subcode != "wsse:FailedAuthentication" && f.Subcode != "wsse:InvalidSecurity") {
				t.Fatalf("original assertion: fault %v, want wsse:FailedAuthentication or wsse:InvalidSecurity", f)
			}
			if resp.RegistryObjectList() != nil {
				t.Error("a refusal carries a RegistryObjectList")
			}
			if f := srv.SOAP(t, harness.PathXCA, raw, harness.ContentTypeSOAP).Fault(); f != nil {
				t.Fatalf("with a fresh assertion: fault %s", f)
			}
		})
	}
}

// wrapperAfterQuery moves the element holding the genuine signed assertion
// from the start of the SOAP Body to its end, so that the body's first
// element is the query and the message reaches authentication.
func wrapperAfterQuery(t *testing.T, env []byte) []byte {
	t.Helper()
	doc := etree.NewDocument()
	if err := doc.ReadFromBytes(env); err != nil {
		t.Fatal(err)
	}
	body := doc.FindElement("/Envelope/Body")
	kids := body.ChildElements()
	if len(kids) != 2 || kids[0].Tag != "Wrapper" {
		t.Fatalf("unexpected body shape: %d children", len(kids))
	}
	body.RemoveChild(kids[0])
	body.AddChild(kids[0])
	out, err := doc.WriteToBytes()
	if err != nil {
		t.Fatal(err)
	}
	return out
}
