// Package retrieve tests, against the built kjdd binary, the retrieve paths
// and limits of issue 2 that the conformance suite leaves open: documents
// registered with ITI-42 whose content stays in the EPJ's own repository
// (a fake speaking real ITI-43 over loopback, with a 30 MB document, an
// HTTP 503 and a stopped repository), the error code of every way a
// DocumentRequest can fail on ITI-43 and ITI-39 with Success,
// PartialSuccess and Failure, the stored-query result limit
// (XDSTooManyResults) on ITI-18 and ITI-38, and the XCA home rules of
// ITI-38. Every response passes the harness' schema validation.
package xds
