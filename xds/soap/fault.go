package soap

// FaultCode is the SOAP 1.2 fault code (env:Code/env:Value).
type FaultCode string

// SOAP 1.2 fault codes.
const (
	FaultSender           FaultCode = "Sender"
	FaultReceiver         FaultCode = "Receiver"
	FaultVersionMismatch  FaultCode = "VersionMismatch"
	FaultMustUnderstand   FaultCode = "MustUnderstand"
	FaultDataEncodingUnkn FaultCode = "DataEncodingUnknown"
)

// Fault is a transport- or security-level failure rendered as a SOAP 1.2
// Fault, as opposed to a registry failure which is answered with a
// RegistryResponse carrying a RegistryErrorList.
type Fault struct {
	Code FaultCode
	// Subcode is a qualified name such as "wsa:ActionNotSupported",
	// "wsa:InvalidAddressingHeader", "wsse:InvalidSecurity" or
	// "wsse:FailedAuthentication". The prefixes wsa and wsse are declared
	// by the renderer.
	Subcode string
	// Reason is the text sent to the caller: clear, but never revealing
	// internals, national ids or why exactly a credential was refused.
	Reason string
	// Detail is for logs only; it is never sent.
	Detail string
	// ProblemAction is the refused wsa:Action of a wsa:ActionNotSupported
	// fault, sent back in env:Detail as WS-Addressing 1.0 SOAP Binding
	// §6.4.2 requires, so that the caller sees which action was refused.
	ProblemAction string
	// HTTPStatus overrides the default status (400 for Sender, 500 otherwise).
	HTTPStatus int
}

// Error implements error.
func (f *Fault) Error() string {
	s := "soap fault " + string(f.Code)
	if f.Subcode != "" {
		s += " " + f.Subcode
	}
	s += ": " + f.Reason
	if f.Detail != "" {
		s += " (" + f.Detail + ")"
	}
	return s
}

// SenderFault is a convenience for a Sender fault with a subcode.
func SenderFault(subcode, reason string) *Fault {
	return &Fault{Code: FaultSender, Subcode: subcode, Reason: reason}
}
