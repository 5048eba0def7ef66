// Package access is the one place in every request path where kjdd decides
// who is calling and what that caller may see. Every use case asks its Gate,
// and nothing else, for both answers: authentication (issue: HelseID JWT and
// XUA SAML) and the sperring decision (issue: consent) plug in here and
// nowhere else.
package access

import (
	"context"
	"net/http"

	"github.com/beevik/etree"

	"kjdd/xds"
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

// Credentials are what a request presents, as received: the WS-Security
// header of a SOAP request, or the HTTP request for bearer/DPoP tokens.
type Credentials struct {
	Transaction Transaction
	// Security is the wsse:Security header element of a SOAP request.
	Security *etree.Element
	// HTTP is the request, for Authorization and DPoP headers; its body
	// has already been consumed.
	HTTP *http.Request
}

// Caller is an authenticated caller of one request.
type Caller struct {
	Transaction Transaction
	// Authenticated is false only under the Unauthenticated gate.
	Authenticated bool
}

// Gate authenticates callers and decides what they may see.
type Gate interface {
	// Authenticate establishes the caller, or refuses with an error that
	// renders as a SOAP fault or an HTTP 401/403.
	Authenticate(ctx context.Context, cred Credentials) (*Caller, error)
	// Visible returns the subset of entries (of one or several patients)
	// the caller may see, in their order. An error means deny: the caller
	// must treat it as "nothing may be shown", never as "show everything".
	Visible(ctx context.Context, c *Caller, entries []*xds.DocumentEntry) ([]*xds.DocumentEntry, error)
}

// Unauthenticated is the gate of a kjdd without HelseID and sperring wired
// in: it lets every caller in and shows every entry. It exists so that the
// request path already has its single decision point; serve logs a warning
// while it is in use.
type Unauthenticated struct{}

// Authenticate accepts every request.
func (Unauthenticated) Authenticate(_ context.Context, cred Credentials) (*Caller, error) {
	return &Caller{Transaction: cred.Transaction}, nil
}

// Visible shows every entry.
func (Unauthenticated) Visible(_ context.Context, _ *Caller, entries []*xds.DocumentEntry) ([]*xds.DocumentEntry, error) {
	return entries, nil
}

// Interface guards.
var _ Gate = Unauthenticated{}
