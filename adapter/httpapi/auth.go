package httpapi

// This file maps authentication refusals to what each surface answers. It
// is where HelseID's errors meet the renderers; until they are wired in no
// refusal exists.

import "kjdd/xds"

// asAuthFault maps an authentication refusal to its SOAP fault.
func asAuthFault(error) (*xds.Fault, bool) { return nil, false }

// asAuthProblem maps an authentication refusal to an HTTP status and a
// WWW-Authenticate challenge.
func asAuthProblem(error) (status int, challenge string, ok bool) { return 0, "", false }
