// Package epjtest is a fake EPJ repository for tests: an HTTP server on
// loopback that speaks real ITI-43 (SOAP 1.2, WS-Addressing, MTOM), so that
// kjdd's EPJ client is tested against the protocol, not against a mock.
// Large documents are generated on the fly, never held in memory, so that
// memory use of a large retrieve can be measured.
package epjtest

import (
	"bytes"
	"encoding/base64"
	"errors"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/beevik/etree"

	"kjdd/xds/rim"
	"kjdd/xds/soap"
)

// Doc is one document the fake repository holds, by documentUniqueId.
type Doc struct {
	MimeType string
	// Content is the document. When nil, Size bytes are generated from
	// Seed instead (deterministic, streamed).
	Content []byte
	Size    int64
	Seed    byte
	// Inline answers with plain SOAP and the document as base64 in the
	// envelope instead of MTOM.
	Inline bool
	// Status, when not zero, makes a request for this document fail with
	// this HTTP status and a SOAP fault.
	Status int
	// Delay holds the answer back this long (or until the client goes).
	Delay time.Duration
}

// Open returns a reader of the document's bytes.
func (d Doc) Open() io.Reader {
	if d.Content != nil {
		return bytes.NewReader(d.Content)
	}
	return io.LimitReader(rand.NewChaCha8([32]byte{d.Seed}), d.Size)
}

// NewServer starts a fake repository serving docs. Close it when done.
func NewServer(docs map[string]Doc) *httptest.Server {
	return httptest.NewServer(Handler(docs))
}

// Handler is the fake repository's HTTP handler, for callers that run
// their own server.
func Handler(docs map[string]Doc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			w.Header().Set("Allow", http.MethodPost)
			http.Error(w, "POST an ITI-43 request", http.StatusMethodNotAllowed)
			return
		}
		m, err := soap.ReadMessage(r.Body, r.Header.Get("Content-Type"), soap.DefaultLimits())
		if err != nil {
			writeFault(w, http.StatusBadRequest, asFault(err), "")
			return
		}
		defer m.Close()
		if m.Action != soap.ActionRetrieveDocumentSet {
			writeFault(w, http.StatusBadRequest, &soap.Fault{Code: soap.FaultSender, Subcode: "wsa:ActionNotSupported",
				Reason: "this repository serves ITI-43 only"}, m.MessageID)
			return
		}
		reqs, ok := documentRequests(m.BodyRoot)
		if !ok {
			writeFault(w, http.StatusBadRequest, &soap.Fault{Code: soap.FaultSender,
				Reason: "the body is not a RetrieveDocumentSetRequest with DocumentRequests"}, m.MessageID)
			return
		}
		for _, req := range reqs {
			d, found := docs[req.DocumentUniqueID]
			if !found {
				continue
			}
			if d.Delay > 0 {
				select {
				case <-time.After(d.Delay):
				case <-r.Context().Done():
					return
				}
			}
			if d.Status != 0 {
				writeFault(w, d.Status, &soap.Fault{Code: soap.FaultReceiver, Reason: "repository failure"}, m.MessageID)
				return
			}
		}
		answer(w, m.MessageID, reqs, docs)
	})
}

// asFault returns err as a fault (ReadMessage returns only faults).
func asFault(err error) *soap.Fault {
	var f *soap.Fault
	if errors.As(err, &f) {
		return f
	}
	return &soap.Fault{Code: soap.FaultReceiver, Reason: err.Error()}
}

// writeFault answers with a SOAP 1.2 fault.
func writeFault(w http.ResponseWriter, status int, f *soap.Fault, relatesTo string) {
	w.Header().Set("Content-Type", soap.ContentTypeSOAP)
	w.WriteHeader(status)
	_, _ = soap.FaultEnvelope(f, relatesTo).WriteTo(w)
}

// documentRequests reads the DocumentRequests of a
// RetrieveDocumentSetRequest.
func documentRequests(root *etree.Element) ([]rim.DocumentRequest, bool) {
	if root.Tag != "RetrieveDocumentSetRequest" || root.NamespaceURI() != rim.NSXDSB {
		return nil, false
	}
	var reqs []rim.DocumentRequest
	for _, dr := range root.ChildElements() {
		if dr.Tag != "DocumentRequest" || dr.NamespaceURI() != rim.NSXDSB {
			continue
		}
		var req rim.DocumentRequest
		for _, c := range dr.ChildElements() {
			switch c.Tag {
			case "HomeCommunityId":
				req.HomeCommunityID = strings.TrimSpace(c.Text())
			case "RepositoryUniqueId":
				req.RepositoryUniqueID = strings.TrimSpace(c.Text())
			case "DocumentUniqueId":
				req.DocumentUniqueID = strings.TrimSpace(c.Text())
			}
		}
		reqs = append(reqs, req)
	}
	return reqs, len(reqs) > 0
}

// answer writes the RetrieveDocumentSetResponse: MTOM with one part per
// document found, or plain SOAP when every document found is Inline; an
// XDSDocumentUniqueIdError for each document not found.
func answer(w http.ResponseWriter, relatesTo string, reqs []rim.DocumentRequest, docs map[string]Doc) {
	body := etree.NewElement("xdsb:RetrieveDocumentSetResponse")
	body.CreateAttr("xmlns:xdsb", rim.NSXDSB)
	body.CreateAttr("xmlns:rs", rim.NSRS)
	// RegistryResponse comes first (schema order); its status is set
	// once the documents are known.
	rr := body.CreateElement("rs:RegistryResponse")
	mw := soap.NewMTOMWriter(w, soap.ActionRetrieveDocumentSetResponse)
	type part struct {
		cid string
		doc Doc
	}
	var (
		parts   []part
		missing []string
		inline  = true
	)
	for _, req := range reqs {
		d, ok := docs[req.DocumentUniqueID]
		if !ok {
			missing = append(missing, req.DocumentUniqueID)
			continue
		}
		inline = inline && d.Inline
		dr := body.CreateElement("xdsb:DocumentResponse")
		dr.CreateElement("xdsb:RepositoryUniqueId").SetText(req.RepositoryUniqueID)
		dr.CreateElement("xdsb:DocumentUniqueId").SetText(req.DocumentUniqueID)
		dr.CreateElement("xdsb:mimeType").SetText(d.MimeType)
		docEl := dr.CreateElement("xdsb:Document")
		if d.Inline {
			data, _ := io.ReadAll(d.Open())
			docEl.SetText(base64.StdEncoding.EncodeToString(data))
			continue
		}
		cid := mw.NewContentID()
		docEl.AddChild(soap.XOPInclude(cid))
		parts = append(parts, part{cid, d})
	}
	switch {
	case len(missing) == 0:
		rr.CreateAttr("status", rim.ResponseSuccess)
	case len(missing) == len(reqs):
		rr.CreateAttr("status", rim.ResponseFailure)
	default:
		rr.CreateAttr("status", rim.ResponsePartialSuccess)
	}
	if len(missing) > 0 {
		list := rr.CreateElement("rs:RegistryErrorList")
		for _, id := range missing {
			e := list.CreateElement("rs:RegistryError")
			e.CreateAttr("errorCode", string(rim.XDSDocumentUniqueIDError))
			e.CreateAttr("codeContext", "document "+id+" is not in this repository")
			e.CreateAttr("severity", rim.SeverityError)
		}
	}

	doc := soap.NewEnvelope(soap.ActionRetrieveDocumentSetResponse, relatesTo, body)
	if inline && len(parts) == 0 && len(missing) < len(reqs) {
		w.Header().Set("Content-Type", soap.SOAPContentType(soap.ActionRetrieveDocumentSetResponse))
		_, _ = doc.WriteTo(w)
		return
	}
	w.Header().Set("Content-Type", mw.ContentType())
	if err := mw.WriteRoot(doc); err != nil {
		return
	}
	for _, p := range parts {
		if _, err := mw.WritePart(p.cid, p.doc.MimeType, p.doc.Open()); err != nil {
			return
		}
	}
	_ = mw.Close()
}
