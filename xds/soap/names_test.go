package soap

// Names of the registry layer that the transport's tests put into the
// messages they read and write. The transport knows nothing of ebRS or
// XDS.b; these are the values of rim.NSRS, rim.NSXDSB, rim.NSLCM and
// rim.ResponseSuccess.
const (
	nsRS            = "urn:oasis:names:tc:ebxml-regrep:xsd:rs:3.0"
	nsXDSB          = "urn:ihe:iti:xds-b:2007"
	nsLCM           = "urn:oasis:names:tc:ebxml-regrep:xsd:lcm:3.0"
	responseSuccess = "urn:oasis:names:tc:ebxml-regrep:ResponseStatusType:Success"
)
