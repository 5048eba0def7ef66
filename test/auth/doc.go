// Package auth tests HelseID authentication end to end: the built kjdd
// binary against a fake HelseID (discovery and JWKS over loopback, with a
// key rotation mid-test) and a fake national-gateway SAML signer, a real
// redis-server where instances share the DPoP replay cache. Every refused
// case is refused with the right SOAP fault or 401/403 and
// WWW-Authenticate, and changes nothing.
package auth
