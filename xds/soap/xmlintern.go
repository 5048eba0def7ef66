package soap

import "strings"

// internVocabulary is the names and namespace URIs of SOAP, WS-Addressing,
// WS-Security, SAML, XML Signature and ebXML RegRep that recur in every
// request. The scanner hands out shared strings for them instead of
// allocating a copy per occurrence.
const internVocabulary = `
		s soap soapenv soap12 env S SOAP-ENV a wsa wsa5 add addressing wsse wsu saml saml2 ds dsig ec xsi xs xsd
		query rim rs lcm xdsb ihe xop xmlns xml urn tns ns1 ns2 ns3 ns4 ns5 xenc exc14n
		Envelope Header Body Fault Action MessageID ReplyTo Address To RelatesTo From FaultTo
		mustUnderstand role relay Security Timestamp Created Expires
		Assertion Issuer Signature SignedInfo CanonicalizationMethod SignatureMethod Reference Transforms
		Transform InclusiveNamespaces PrefixList DigestMethod DigestValue SignatureValue KeyInfo X509Data
		X509Certificate KeyValue RSAKeyValue Modulus Exponent Subject NameID SubjectConfirmation
		SubjectConfirmationData Conditions AudienceRestriction Audience AuthnStatement AuthnContext
		AuthnContextClassRef AttributeStatement Attribute AttributeValue Version IssueInstant ID Id id
		Format Method Algorithm URI NotBefore NotOnOrAfter AuthnInstant SessionIndex Name NameFormat
		FriendlyName type lang href Recipient InResponseTo
		AdhocQueryRequest AdhocQueryResponse ResponseOption AdhocQuery Slot ValueList Value
		returnType returnComposedObjects LeafClass ObjectRef true false name home
		RetrieveDocumentSetRequest DocumentRequest HomeCommunityId RepositoryUniqueId DocumentUniqueId
		ProvideAndRegisterDocumentSetRequest SubmitObjectsRequest RegistryObjectList ExtrinsicObject
		RegistryPackage Association Classification ExternalIdentifier LocalizedString Description
		Document Include
		objectType status lid mimeType classificationScheme classifiedObject nodeRepresentation
		identificationScheme registryObject value charset associationType sourceObject targetObject
		classificationNode
		http://www.w3.org/2003/05/soap-envelope
		http://www.w3.org/2005/08/addressing
		http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd
		http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd
		urn:oasis:names:tc:SAML:2.0:assertion
		http://www.w3.org/2000/09/xmldsig#
		http://www.w3.org/2001/10/xml-exc-c14n#
		http://www.w3.org/2000/09/xmldsig#enveloped-signature
		http://www.w3.org/2001/04/xmldsig-more#rsa-sha256
		http://www.w3.org/2001/04/xmlenc#sha256
		http://www.w3.org/2001/XMLSchema-instance
		http://www.w3.org/2001/XMLSchema
		urn:oasis:names:tc:ebxml-regrep:xsd:query:3.0
		urn:oasis:names:tc:ebxml-regrep:xsd:rim:3.0
		urn:oasis:names:tc:ebxml-regrep:xsd:rs:3.0
		urn:oasis:names:tc:ebxml-regrep:xsd:lcm:3.0
		urn:ihe:iti:xds-b:2007
		http://www.w3.org/2004/08/xop/include
		urn:ihe:iti:2007:CrossGatewayQuery
		urn:ihe:iti:2007:CrossGatewayRetrieve
		urn:ihe:iti:2007:RegistryStoredQuery
		urn:ihe:iti:2007:RetrieveDocumentSet
		urn:ihe:iti:2007:ProvideAndRegisterDocumentSet-b
		urn:ihe:iti:2007:RegisterDocumentSet-b
		urn:oasis:names:tc:SAML:2.0:cm:bearer
		urn:oasis:names:tc:SAML:2.0:attrname-format:uri
		urn:oasis:names:tc:SAML:2.0:attrname-format:basic
		urn:oasis:names:tc:SAML:2.0:ac:classes:X509
		urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified
		urn:oasis:names:tc:SAML:2.0:nameid-format:persistent
		xs:string xsd:string 1 0 2.0
	`

// internTable holds the vocabulary, built once and only read afterwards.
// It is a table with a few slots per hash rather than a map: the lookup is
// on every name.
var internTable = func() *[internSlots]string {
	words := strings.Fields(internVocabulary)
	var t [internSlots]string
	for _, w := range words {
		// A word whose slots are all taken is simply not shared
		// (TestInternTableHoldsEveryWord sees that none is left out).
		h := internHash([]byte(w))
		for i := range internProbes {
			if t[h+i] == "" {
				t[h+i] = w
				break
			}
		}
	}
	return &t
}()

// internWords is the vocabulary's size, for the test.
var internWords = len(strings.Fields(internVocabulary))

// internSlots is the size of internTable: a power of two well above the
// number of words, plus the further slots of the last hash.
const internSlots = 2048 + internProbes - 1

// internProbes is how many consecutive slots a word may take.
const internProbes = 4

// internHash picks a word's first slot from its length and four of its
// bytes: cheaper than a map's hash of every byte.
func internHash(b []byte) int {
	n := len(b)
	if n == 0 {
		return 0
	}
	v := uint32(n) | uint32(b[0])<<8 | uint32(b[n-1])<<16 | uint32(b[n/2])<<24
	v ^= uint32(b[n/3]) * 0x45d9f3b
	return int((v * 0x9E3779B1) >> 21) // 11 bits: 0..2047
}

// intern returns b as a string, shared when it is in the table.
func intern(b []byte) string {
	h := internHash(b)
	for _, s := range internTable[h : h+internProbes] {
		if s == string(b) {
			return s
		}
		if s == "" {
			break
		}
	}
	return string(b)
}

// internValue returns an attribute value as a string, shared when it is a
// known namespace URI or value.
func internValue(b []byte) string {
	if len(b) > 96 {
		return string(b)
	}
	return intern(b)
}
