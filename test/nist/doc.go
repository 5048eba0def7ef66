// Package nist replays the NIST XDS Toolkit registry, stored-query and XCA
// Responding Gateway test plans (shared/conformance/nist-testkit) against
// the built kjdd binary. Seed submissions are the ebRIM 3.0 equivalents in
// testdata/seed; expectations are read from the test plans themselves.
package nist
