// Package xca tests kjdd's XCA Responding Gateway (ITI-38 Cross Gateway
// Query, ITI-39 Cross Gateway Retrieve) against the built binary: the
// conformance corpus' ITI-38/39 samples replayed with golden answers.
package xca
