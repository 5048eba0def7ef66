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

// How an XUA assertion is decided, and the three caches that decide it.
//
// An ITI-38 or ITI-39 request reaches helseid as one value, SecurityHeader:
// what the SOAP reader (xds) saw of the whole message in its one pass over
// it, namely how many elements are named like an assertion anywhere, where
// the first one stands, and, when it is a SAML 2.0 saml:Assertion, its exact
// bytes with the namespace bindings in scope (Assertion). SecurityHeader.sole
// applies the rules against signature wrapping to those facts; the tree of
// the assertion is built from its bytes only when it must be verified.
//
// Three caches take part, and together they may only ever save work, never
// change an answer:
//
//  1. The guard memo (xds/soap/assertion.go, one per soap.Reader, bounded
//     in bytes). The guard is a pure function of the bytes it reads and the
//     bindings in scope, so an assertion whose bytes and bindings equal one
//     it passed before, with room left under the message's element and
//     depth limits, is stepped over with the recorded effect: its element
//     count, nesting, the assertion-named elements inside it, and its
//     bytes (the memo's own copy, which the message's Assertion then
//     shares). Refusals always come from a full scan. An assertion enters
//     the memo only once the request that carried it was served, so its
//     verification passed (Message.AssertionVerified): nothing an
//     unauthenticated caller sends outlives its request.
//  2. The verified-assertion cache (saml_verified.go, one per SAMLValidator,
//     bounded in entries). A verification is reused by the Assertion's
//     bytes and bindings under the trust set's digest, compared byte for
//     byte (a hash collision costs a verification, never lends one), until
//     the assertion, a trusted certificate or fifteen minutes run out. A
//     reuse still checks the assertion's lifetime.
//  3. The trust-set digest (SAMLValidator.trustDigest): the SHA-256 of the
//     trusted certificates, recomputed whenever the certificate source hands
//     out a different set, so that a rotation makes every reuse key new.
//
// TestAuthChainAgrees (test/auth) drives the whole chain, reader with memo
// and validator with both caches, against a reader without memo and a
// validator that verifies every time, on the corpus, on every refused case
// of test/auth and under FuzzAuthChain: the two must agree on every
// answer.
