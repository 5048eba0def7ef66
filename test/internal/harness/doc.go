// Package harness runs the built kjdd binary as a black box for end-to-end
// tests: it builds cmd/kjdd once per test process, starts `kjdd serve` on a
// free loopback port with its own SQLite store, sends SOAP 1.2 and MTOM
// requests, and validates every SOAP response against the official schemas
// (after reconstituting XOP) before a test sees it.
//
// kjdd refuses every request without HelseID credentials, so Start runs it
// against a fake HelseID and national-gateway SAML signer over loopback
// (Identity, from helseidtest), and the request helpers attach valid
// credentials per endpoint and action (AuthAuto): a fresh XUA assertion for
// the request's patient on /xca, DPoP-bound tokens elsewhere. Refusal tests
// use Server.With(AuthNone) and bring their own.
//
// The same process control (Build, Launch) is used by the load generator,
// which has no *testing.T.
package harness
