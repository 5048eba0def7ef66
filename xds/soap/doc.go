// Package soap is the transport of kjdd's wire: SOAP 1.2 with
// WS-Addressing, MTOM/XOP, and the guard every request passes before it is
// built into a tree (size, depth and element limits, no DTDs, the
// encoding, the deferred XUA assertion in wsse:Security). A Reader reads a
// request into a Message whose tree and MIME parts live until
// Message.Close; Fault is a transport or security failure and
// FaultEnvelope renders it; AppendEnvelope and the MTOM writer write
// answers.
//
// It knows nothing of the ebRIM model: packages rim, query and validate
// sit above it and read the message's body. It imports only hl7 and
// internal/xmlw of the xds subpackages, and does no I/O of its own.
package soap
