// Package helseidtest holds fakes of what lies outside the hospital on the
// authentication side, for tests in any package and for the end-to-end
// tests against the binary: a HelseID issuer that serves OpenID discovery
// and a JWKS over loopback HTTP and mints access tokens and DPoP proofs,
// and a signer of XUA SAML assertions like those of NHN's national gateway.
// Each can produce the broken variants a validator must refuse.
//
// The fakes build their JWTs and JWKs by hand (crypto/*, encoding/json)
// rather than with the library the validator uses, so that a shared
// misunderstanding cannot make both sides agree on something wrong.
package helseidtest
