// Package xds is the wire of kjdd. It holds no code; its subpackages are
// its parts, each importing only the ones listed before it:
//
//   - hl7: HL7 v2 datatypes and identifiers (CX, XCN, XON, XTN, DTM, OIDs,
//     Norwegian identity and organisation numbers, urn:uuid ids).
//   - internal/xmlw: appending XML bytes exactly as etree writes them.
//   - soap: SOAP 1.2 with WS-Addressing, MTOM/XOP and the request guard;
//     the Reader and its Message, the Fault, the envelope writers.
//   - rim: the ebRIM 3.0 model of XDS metadata, its vocabulary, the IHE
//     registry errors, the parsers of registry requests and the Writer of
//     every answer.
//   - query: stored queries (parsing and execution against a Source port).
//   - validate: metadata validation for IHE and the Norwegian profile.
//
// query and validate are independent of each other. The packages are pure:
// they do no network, file or database I/O of their own. Where they need
// data or storage they ask a small port that the adapter implements:
// stored-query execution a query.Source, the SOAP reader a soap.Spool for
// MTOM parts too large for memory (adapter/spool).
package xds
