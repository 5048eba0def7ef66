package httpapi

import (
	"html"
	"net/http"
	"strings"
	"text/template"

	"github.com/gin-gonic/gin"
)

// wsdlTemplate describes the responding gateway's two operations on the one
// /xca address, as the IHE XCA WSDLs do (SOAP 1.2, document/literal, WS-A
// actions). Schemas are referenced by namespace; callers hold their own
// copies of the IHE schemas.
var wsdlTemplate = template.Must(template.New("wsdl").Parse(`<?xml version="1.0" encoding="UTF-8"?>
<definitions xmlns="http://schemas.xmlsoap.org/wsdl/" xmlns:soap12="http://schemas.xmlsoap.org/wsdl/soap12/"
  xmlns:wsaw="http://www.w3.org/2006/05/addressing/wsdl" xmlns:ihe="urn:ihe:iti:xds-b:2007"
  xmlns:query="urn:oasis:names:tc:ebxml-regrep:xsd:query:3.0" xmlns:xsd="http://www.w3.org/2001/XMLSchema"
  targetNamespace="urn:ihe:iti:xds-b:2007" name="kjdd_RespondingGateway">
  <documentation>kjdd: IHE XCA Responding Gateway (ITI-38, ITI-39)</documentation>
  <types>
    <xsd:schema elementFormDefault="qualified">
      <xsd:import namespace="urn:oasis:names:tc:ebxml-regrep:xsd:query:3.0"/>
      <xsd:import namespace="urn:ihe:iti:xds-b:2007"/>
    </xsd:schema>
  </types>
  <message name="CrossGatewayQuery_Message"><part name="body" element="query:AdhocQueryRequest"/></message>
  <message name="CrossGatewayQueryResponse_Message"><part name="body" element="query:AdhocQueryResponse"/></message>
  <message name="CrossGatewayRetrieve_Message"><part name="body" element="ihe:RetrieveDocumentSetRequest"/></message>
  <message name="CrossGatewayRetrieveResponse_Message"><part name="body" element="ihe:RetrieveDocumentSetResponse"/></message>
  <portType name="RespondingGateway_PortType">
    <operation name="RespondingGateway_CrossGatewayQuery">
      <input message="ihe:CrossGatewayQuery_Message" wsaw:Action="urn:ihe:iti:2007:CrossGatewayQuery"/>
      <output message="ihe:CrossGatewayQueryResponse_Message" wsaw:Action="urn:ihe:iti:2007:CrossGatewayQueryResponse"/>
    </operation>
    <operation name="RespondingGateway_CrossGatewayRetrieve">
      <input message="ihe:CrossGatewayRetrieve_Message" wsaw:Action="urn:ihe:iti:2007:CrossGatewayRetrieve"/>
      <output message="ihe:CrossGatewayRetrieveResponse_Message" wsaw:Action="urn:ihe:iti:2007:CrossGatewayRetrieveResponse"/>
    </operation>
  </portType>
  <binding name="RespondingGateway_Binding_Soap12" type="ihe:RespondingGateway_PortType">
    <soap12:binding style="document" transport="http://schemas.xmlsoap.org/soap/http"/>
    <operation name="RespondingGateway_CrossGatewayQuery">
      <soap12:operation soapAction="urn:ihe:iti:2007:CrossGatewayQuery"/>
      <input><soap12:body use="literal"/></input><output><soap12:body use="literal"/></output>
    </operation>
    <operation name="RespondingGateway_CrossGatewayRetrieve">
      <soap12:operation soapAction="urn:ihe:iti:2007:CrossGatewayRetrieve"/>
      <input><soap12:body use="literal"/></input><output><soap12:body use="literal"/></output>
    </operation>
  </binding>
  <service name="RespondingGateway_Service">
    <port name="RespondingGateway_Port_Soap12" binding="ihe:RespondingGateway_Binding_Soap12">
      <soap12:address location="{{.}}"/>
    </port>
  </service>
</definitions>
`))

// wsdl answers GET /xca?wsdl.
func (s *Server) wsdl(c *gin.Context) {
	if _, ok := c.GetQuery("wsdl"); !ok {
		c.JSON(http.StatusMethodNotAllowed, gin.H{"title": "use POST for SOAP requests or GET ?wsdl", "status": 405})
		return
	}
	scheme := "http"
	if c.Request.TLS != nil || strings.EqualFold(c.GetHeader("X-Forwarded-Proto"), "https") {
		scheme = "https"
	}
	c.Header("Content-Type", "text/xml; charset=UTF-8")
	c.Status(http.StatusOK)
	// The Host header is the caller's: escape it before it enters XML.
	_ = wsdlTemplate.Execute(c.Writer, html.EscapeString(scheme+"://"+c.Request.Host+"/xca"))
}
