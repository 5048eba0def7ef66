package soap

// XML namespaces of the SOAP 1.2 transport and its security headers.
const (
	NSSOAP12 = "http://www.w3.org/2003/05/soap-envelope"
	NSSOAP11 = "http://schemas.xmlsoap.org/soap/envelope/"
	NSWSA    = "http://www.w3.org/2005/08/addressing"
	NSXOP    = "http://www.w3.org/2004/08/xop/include"
	NSWSSE   = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"
	NSWSU    = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd"
	NSSAML2  = "urn:oasis:names:tc:SAML:2.0:assertion"
)

// WS-Addressing actions of the transactions kjdd serves (IHE WSDLs).
const (
	ActionRegistryStoredQuery          = "urn:ihe:iti:2007:RegistryStoredQuery"
	ActionRegistryStoredQueryResponse  = "urn:ihe:iti:2007:RegistryStoredQueryResponse"
	ActionRegisterDocumentSet          = "urn:ihe:iti:2007:RegisterDocumentSet-b"
	ActionRegisterDocumentSetResponse  = "urn:ihe:iti:2007:RegisterDocumentSet-bResponse"
	ActionProvideAndRegister           = "urn:ihe:iti:2007:ProvideAndRegisterDocumentSet-b"
	ActionProvideAndRegisterResponse   = "urn:ihe:iti:2007:ProvideAndRegisterDocumentSet-bResponse"
	ActionRetrieveDocumentSet          = "urn:ihe:iti:2007:RetrieveDocumentSet"
	ActionRetrieveDocumentSetResponse  = "urn:ihe:iti:2007:RetrieveDocumentSetResponse"
	ActionCrossGatewayQuery            = "urn:ihe:iti:2007:CrossGatewayQuery"
	ActionCrossGatewayQueryResponse    = "urn:ihe:iti:2007:CrossGatewayQueryResponse"
	ActionCrossGatewayRetrieve         = "urn:ihe:iti:2007:CrossGatewayRetrieve"
	ActionCrossGatewayRetrieveResponse = "urn:ihe:iti:2007:CrossGatewayRetrieveResponse"
	ActionFault                        = "http://www.w3.org/2005/08/addressing/fault"
	ActionSOAPFault                    = "http://www.w3.org/2005/08/addressing/soap/fault"
)
