// Package helseid decides who is calling kjdd. It validates HelseID access
// tokens (JWT, with DPoP proof-of-possession per RFC 9449) and the XUA SAML
// assertions NHN's national gateway puts in wsse:Security, and turns either
// into one Principal: the practitioner, the organisation, the purpose of use
// and the rest of the tillitsrammeverk attest.
//
// The package is domain code: it imports neither gin nor the adapter. What it
// needs from outside it asks through small ports: a KeySource for the
// issuer's signing keys and certificates, and a ReplayCache for DPoP proof
// identifiers. HTTP and Redis implementations of those ports live here too,
// because they speak fixed external protocols.
//
// Every check fails closed. Errors are *AuthError values that know their
// HTTP status, WWW-Authenticate challenge and SOAP fault subcode; the reason
// they carry is for logs only, and never contains a national identity
// number or a person's name.
package helseid
