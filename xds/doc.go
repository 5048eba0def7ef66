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
// query and validate are independent of each other. The packages do no
// network or database I/O of their own; where stored-query execution needs
// data it asks a small port interface (query.Source) that the adapter
// implements. One exception remains: soap spools MTOM parts larger than
// Limits.MemoryPartBytes to temporary files in Limits.SpoolDir itself
// (issue 9 item 4 moves that behind a port as well).
package xds
