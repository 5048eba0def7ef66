package epj

import (
	"errors"
	"fmt"
	"strings"

	"github.com/beevik/etree"

	"kjdd/xds/rim"
	"kjdd/xds/soap"
)

// sourceError is a failure of the EPJ repository: the registry error the
// caller gets (its context is safe to send) and the cause, for logs.
type sourceError struct {
	reg   *rim.RegistryError
	cause error
}

// Error implements error; it carries the cause, so it is for logs only.
func (e *sourceError) Error() string { return "epj: " + e.reg.Error() + ": " + e.cause.Error() }

// Unwrap exposes both, so that rim.AsRegistryErrors finds the registry
// error and errors.Is finds e.g. context.DeadlineExceeded.
func (e *sourceError) Unwrap() []error { return []error{e.reg, e.cause} }

// unavailable is the answer to every failure of the EPJ other than "no such
// document": unreachable, timed out, 5xx, or an answer kjdd cannot use.
func unavailable(cause error) error {
	return &sourceError{reg: rim.NewError(rim.XDSRepositoryError, "document source unavailable"), cause: cause}
}

// unavailablef is unavailable with a formatted cause.
func unavailablef(format string, args ...any) error {
	return unavailable(fmt.Errorf(format, args...))
}

// documentResponse is the DocumentResponse for the one document asked for.
type documentResponse struct {
	mimeType string
	document *etree.Element
}

// findDocument reads an ITI-43 answer. It returns the DocumentResponse of
// documentUniqueID, a *rim.RegistryError XDSDocumentUniqueIdError when the
// EPJ says it has no such document, or an unavailable error. An answer that
// carries any other document is refused: kjdd never passes on a document
// it did not ask for.
func findDocument(m *soap.Message, repositoryUniqueID, documentUniqueID string) (*documentResponse, error) {
	root := m.BodyRoot
	if root.Tag == "Fault" && root.NamespaceURI() == soap.NSSOAP12 {
		return nil, unavailablef("the EPJ answered with a SOAP fault")
	}
	if root.Tag != "RetrieveDocumentSetResponse" || root.NamespaceURI() != rim.NSXDSB {
		return nil, unavailablef("the EPJ answered with %s instead of RetrieveDocumentSetResponse", root.Tag)
	}
	var (
		found  *documentResponse
		status string
		codes  []string
	)
	for el := range root.ChildElementsSeq() {
		switch {
		case el.Tag == "RegistryResponse" && el.NamespaceURI() == rim.NSRS:
			status = el.SelectAttrValue("status", "")
			codes = append(codes, errorCodes(el)...)
		case el.Tag == "DocumentResponse" && el.NamespaceURI() == rim.NSXDSB:
			dr := readDocumentResponse(el)
			if dr.documentUniqueID != documentUniqueID ||
				dr.repositoryUniqueID != "" && normalizeOID(dr.repositoryUniqueID) != normalizeOID(repositoryUniqueID) {
				return nil, unavailablef("the EPJ answered with a document that was not asked for")
			}
			if found != nil || dr.document == nil {
				return nil, unavailablef("the EPJ's DocumentResponse is malformed")
			}
			found = &documentResponse{mimeType: dr.mimeType, document: dr.document}
		}
	}
	if found != nil {
		return found, nil
	}
	for _, c := range codes {
		if c == string(rim.XDSDocumentUniqueIDError) {
			return nil, &sourceError{
				reg:   rim.NewError(rim.XDSDocumentUniqueIDError, "document is not available"),
				cause: errors.New("the EPJ does not have the document"),
			}
		}
	}
	return nil, unavailablef("the EPJ returned no document (status %q, errors %s)", status, strings.Join(codes, ","))
}

// rawDocumentResponse is one xdsb:DocumentResponse as sent.
type rawDocumentResponse struct {
	repositoryUniqueID, documentUniqueID, mimeType string
	document                                       *etree.Element
}

// readDocumentResponse reads the children of a DocumentResponse by
// namespace and local name.
func readDocumentResponse(el *etree.Element) rawDocumentResponse {
	var dr rawDocumentResponse
	for c := range el.ChildElementsSeq() {
		if c.NamespaceURI() != rim.NSXDSB {
			continue
		}
		switch c.Tag {
		case "RepositoryUniqueId":
			dr.repositoryUniqueID = strings.TrimSpace(c.Text())
		case "DocumentUniqueId":
			dr.documentUniqueID = strings.TrimSpace(c.Text())
		case "mimeType":
			dr.mimeType = strings.TrimSpace(c.Text())
		case "Document":
			dr.document = c
		}
	}
	return dr
}

// errorCodes returns the errorCode of every RegistryError of a
// RegistryResponse.
func errorCodes(rr *etree.Element) []string {
	var codes []string
	for list := range rr.ChildElementsSeq() {
		if list.Tag != "RegistryErrorList" || list.NamespaceURI() != rim.NSRS {
			continue
		}
		for e := range list.ChildElementsSeq() {
			if e.Tag == "RegistryError" && e.NamespaceURI() == rim.NSRS {
				codes = append(codes, e.SelectAttrValue("errorCode", ""))
			}
		}
	}
	return codes
}
