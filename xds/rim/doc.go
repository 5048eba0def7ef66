// Package rim is the ebRIM 3.0 model of XDS metadata (DocumentEntry,
// SubmissionSet, Folder, Association, Submission), the vocabulary of XDS
// and ebRS (scheme UUIDs, statuses, object and association types,
// namespaces), the IHE registry errors (RegistryError, ErrorCode), the
// parsers of registry requests (Parse*) and the Writer of every answer,
// with its fragment cache keyed by Revision.
//
// It reads the trees of a soap.Message and imports soap and hl7 below it;
// query and validate sit above it.
package rim
