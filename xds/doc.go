// Package xds is the wire of kjdd: SOAP 1.2 with WS-Addressing, MTOM/XOP, the
// ebRIM 3.0 model of XDS metadata (DocumentEntry, SubmissionSet, Folder,
// Association), stored queries, metadata validation for IHE and the Norwegian
// profile, and the IHE RegistryError codes.
//
// The package is pure: it does no network, file or database I/O of its own.
// Where it needs data (stored-query execution) it asks a small port interface
// that the adapter implements.
package xds
