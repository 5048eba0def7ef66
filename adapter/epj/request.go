package epj

import (
	"bytes"

	"github.com/beevik/etree"

	"kjdd/xds/rim"
	"kjdd/xds/soap"
)

// retrieveRequest renders the SOAP 1.2 ITI-43 request for one document and
// returns it with its wsa:MessageID. The WS-Addressing headers are those of
// a synchronous request (ITI TF-2 Appendix V): Action, MessageID, ReplyTo
// anonymous, To.
func retrieveRequest(to, repositoryUniqueID, documentUniqueID string) ([]byte, string, error) {
	body := etree.NewElement("xdsb:RetrieveDocumentSetRequest")
	body.CreateAttr("xmlns:xdsb", rim.NSXDSB)
	dr := body.CreateElement("xdsb:DocumentRequest")
	dr.CreateElement("xdsb:RepositoryUniqueId").SetText(repositoryUniqueID)
	dr.CreateElement("xdsb:DocumentUniqueId").SetText(documentUniqueID)

	doc := soap.NewEnvelope(soap.ActionRetrieveDocumentSet, "", body)
	header := doc.Root().SelectElement("Header")
	messageID := header.SelectElement("MessageID").Text()
	replyTo := header.CreateElement("wsa:ReplyTo")
	replyTo.CreateElement("wsa:Address").SetText(soap.NSWSA + "/anonymous")
	toEl := header.CreateElement("wsa:To")
	toEl.CreateAttr("env:mustUnderstand", "true")
	toEl.SetText(to)

	var buf bytes.Buffer
	if _, err := doc.WriteTo(&buf); err != nil {
		return nil, "", err
	}
	return buf.Bytes(), messageID, nil
}
