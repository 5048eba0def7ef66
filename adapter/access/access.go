// Package access is the one place in every request path where kjdd decides
// who is calling and what that caller may see. Every use case asks its Gate,
// and nothing else, for both answers: authentication (issue: HelseID JWT and
// XUA SAML) and the sperring decision (issue: consent) plug in here and
// nowhere else.
package access

import (
	"context"
	"net/http"

	"kjdd/helseid"
	"kjdd/xds/rim"
	"kjdd/xds/soap"
)

// Transaction names a use of kjdd, as audited and as matched against the
// credentials a caller must present.
type Transaction string

// The transactions kjdd serves.
const (
	ITI18 Transaction = "ITI-18" // Registry Stored Query
	ITI38 Transaction = "ITI-38" // Cross Gateway Query
	ITI39 Transaction = "ITI-39" // Cross Gateway Retrieve
	ITI41 Transaction = "ITI-41" // Provide and Register Document Set-b
	ITI42 Transaction = "ITI-42" // Register Document Set-b
	ITI43 Transaction = "ITI-43" // Retrieve Document Set
)

// The REST surfaces, named like transactions so the gate can tell which
// credential they require.
const (
	SperringAPI Transaction = "sperring-api" // EPJ sets and lifts sperring
	AuditAPI    Transaction = "audit-api"    // privacy officers review access
)

// Credentials are what a request presents, as received: what a SOAP
// request's WS-Security header offers as an XUA credential, or the HTTP
// request for bearer/DPoP tokens. They are values the request owns: no
// element of a message's tree, which lives only until the message is
// closed.
type Credentials struct {
	Transaction Transaction
	// XUA is the XUA credential of a SOAP request (XUAFrom).
	XUA helseid.SecurityHeader
	// HTTP is the request, for Authorization and DPoP headers; its body
	// may already have been consumed.
	HTTP *http.Request
	// PatientID is the patient the request is about, when the request
	// names one (the CX of a query, or the sperring API's patient); the
	// XCA rule that the assertion's patient equals the queried one needs it.
	PatientID string
}

// Caller is an authenticated caller of one request.
type Caller struct {
	Transaction Transaction
	// Principal is who HelseID says is calling; nil only under Open.
	Principal *helseid.Principal
}

// Authenticator establishes who is calling, or refuses with an error that
// renders as a SOAP fault or an HTTP 401/403.
type Authenticator interface {
	Authenticate(ctx context.Context, cred Credentials) (*Caller, error)
}

// Policy decides which entries a caller may see.
type Policy interface {
	// Visible returns the subset of entries (of one or several patients)
	// the caller may see, in their order. An error means deny: the caller
	// must treat it as "nothing may be shown", never as "show everything".
	Visible(ctx context.Context, c *Caller, entries []*rim.DocumentEntry) ([]*rim.DocumentEntry, error)
	// PatientHidden reports whether nothing at all of the patient may be
	// shown with the caller (patient- or practitioner-level sperring, or
	// another patient than the credential's): then not even the patient's
	// SubmissionSets and Folders are listed. An error means deny.
	PatientHidden(ctx context.Context, c *Caller, patientID string) (bool, error)
}

// Gate authenticates callers and decides what they may see.
type Gate interface {
	Authenticator
	Policy
}

// Compose makes a Gate of an Authenticator and a Policy.
func Compose(a Authenticator, p Policy) Gate { return composed{a, p} }

type composed struct {
	Authenticator
	Policy
}

// Open lets every caller in without a Principal. It exists only for tests
// of the layers below authentication; serve never uses it.
type Open struct{}

// Authenticate accepts every request.
func (Open) Authenticate(_ context.Context, cred Credentials) (*Caller, error) {
	return &Caller{Transaction: cred.Transaction}, nil
}

// ShowAll is the Policy that hides nothing. It exists only for tests of the
// layers below the sperring decision; serve never uses it.
type ShowAll struct{}

// Visible shows every entry.
func (ShowAll) Visible(_ context.Context, _ *Caller, entries []*rim.DocumentEntry) ([]*rim.DocumentEntry, error) {
	return entries, nil
}

// PatientHidden hides no patient.
func (ShowAll) PatientHidden(context.Context, *Caller, string) (bool, error) { return false, nil }

// Interface guards.
var (
	_ Authenticator = Open{}
	_ Policy        = ShowAll{}
	_ Gate          = composed{}
)

// XUAFrom is the XUA credential a SOAP message offers, as helseid takes it:
// the same value on the other side of the adapter.
func XUAFrom(h soap.SecurityHeader) helseid.SecurityHeader {
	return helseid.SecurityHeader{Present: h.Present, Assertions: h.Assertions, Space: h.Space, Local: h.Local,
		InSecurity: h.InSecurity, Assertion: helseid.Assertion(h.Assertion)}
}
