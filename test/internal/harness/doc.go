// Package harness runs the built kjdd binary as a black box for end-to-end
// tests: it builds cmd/kjdd once per test process, starts `kjdd serve` on a
// free loopback port with its own SQLite store, sends SOAP 1.2 and MTOM
// requests, and validates every SOAP response against the official schemas
// (after reconstituting XOP) before a test sees it.
//
// The same process control (Build, Launch) is used by the load generator,
// which has no *testing.T.
package harness
