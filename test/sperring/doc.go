// Package sperring proves, against the built kjdd binary, that sperring
// (patient blocking) holds on every read path: a randomized leak search
// over every stored query and ITI-38/39/43 with many principals, fault
// tests with the test's own redis-server and an unreadable store, and two
// instances sharing one Redis and one store. Identities come from a fake
// HelseID issuer and a test XUA signer over loopback.
package sperring
