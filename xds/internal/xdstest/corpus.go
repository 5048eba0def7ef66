// Package xdstest holds the test helpers that the tests of several xds
// subpackages share: reading the conformance corpus and building minimal
// SOAP 1.2 requests. It imports no xds package, so that every
// subpackage's own tests may use it.
package xdstest

import (
	"os"
	"path/filepath"
	"testing"

	"kjdd/xds/internal/xsdtest"
)

// SamplePath is the path of a file in ../shared/conformance/samples.
func SamplePath(t testing.TB, name string) string {
	t.Helper()
	return filepath.Join(xsdtest.SharedDir(t), "conformance", "samples", name)
}

// ReadSample reads a file of the conformance corpus.
func ReadSample(t testing.TB, name string) []byte {
	t.Helper()
	data, err := os.ReadFile(SamplePath(t, name))
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// Envelope is a minimal SOAP 1.2 request around header blocks and a
// body root.
func Envelope(header, body string) string {
	return `<?xml version="1.0" encoding="UTF-8"?>` +
		`<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope" xmlns:a="http://www.w3.org/2005/08/addressing">` +
		`<s:Header>` + header + `</s:Header><s:Body>` + body + `</s:Body></s:Envelope>`
}

// ActionHeader is the wsa:Action header of an ITI-18 request.
const ActionHeader = `<a:Action s:mustUnderstand="1">urn:ihe:iti:2007:RegistryStoredQuery</a:Action>` +
	`<a:MessageID>urn:uuid:8d2ba4a6-4c1f-4a8e-9f0e-6f2b0f1c2d3e</a:MessageID>`

// QueryBody is a small body root.
const QueryBody = `<q:AdhocQueryRequest xmlns:q="urn:oasis:names:tc:ebxml-regrep:xsd:query:3.0"/>`
