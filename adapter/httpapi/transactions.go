package httpapi

import (
	"context"
	"io"

	"github.com/gin-gonic/gin"

	"kjdd/adapter/access"
	"kjdd/adapter/registry"
	"kjdd/xds/query"
	"kjdd/xds/rim"
	"kjdd/xds/soap"
)

// The use cases the SOAP handlers call, each declared by the handler that
// needs it.
type (
	// querier serves serveQuery: stored queries (ITI-18, ITI-38).
	querier interface {
		Query(ctx context.Context, cred access.Credentials, q *query.StoredQuery) (*rim.QueryResult, error)
		HomeCommunityID() string
	}
	// retriever serves serveRetrieve (ITI-43, ITI-39).
	retriever interface {
		Retrieve(ctx context.Context, cred access.Credentials, reqs []rim.DocumentRequest) (*registry.RetrieveResult, error)
	}
	// submitter serves serveRegister (ITI-42, ITI-41).
	submitter interface {
		Submit(ctx context.Context, cred access.Credentials, sub *rim.Submission) (rim.RegistryErrors, error)
	}
)

// bodyRoot returns the SOAP body's element if it is the expected one, or
// a Sender fault naming what was expected.
func bodyRoot(m *soap.Message, space, local string) (*soap.Message, error) {
	r := m.BodyRoot
	if r == nil || r.Tag != local || r.NamespaceURI() != space {
		return nil, soap.SenderFault("", "the SOAP body must contain "+local+" for this action")
	}
	return m, nil
}

// serveQuery answers ITI-18 and ITI-38.
func (s *Server) serveQuery(c *gin.Context, op soapOp, m *soap.Message, cred access.Credentials) error {
	if _, err := bodyRoot(m, rim.NSQuery, "AdhocQueryRequest"); err != nil {
		return err
	}
	q, err := query.ParseAdhocQueryRequest(m.BodyRoot)
	if err != nil {
		return err
	}
	res, err := s.query.Query(c.Request.Context(), cred, q)
	if err != nil {
		return err
	}
	home := ""
	if cred.Transaction == access.ITI38 {
		home = s.query.HomeCommunityID()
	}
	s.outcome(cred.Transaction, "success")
	s.writeAnswer(c, op, m, func(dst []byte) []byte {
		return s.writer.AppendAdhocQueryResponse(dst, res, q.ReturnType, home, nil)
	}, nil)
	return nil
}

// serveRetrieve answers ITI-43 and ITI-39 with the documents streamed as
// MTOM parts.
func (s *Server) serveRetrieve(c *gin.Context, op soapOp, m *soap.Message, cred access.Credentials) error {
	if _, err := bodyRoot(m, rim.NSXDSB, "RetrieveDocumentSetRequest"); err != nil {
		return err
	}
	reqs, err := rim.ParseRetrieveDocumentSetRequest(m.BodyRoot)
	if err != nil {
		return err
	}
	res, err := s.retrieve.Retrieve(c.Request.Context(), cred, reqs)
	if err != nil {
		return err
	}
	defer res.Close()
	mw := soap.NewMTOMWriter(io.Discard, "") // only for fresh content ids
	docs := make([]rim.RetrievedDocument, 0, len(res.Documents))
	parts := make([]attachment, 0, len(res.Documents))
	for _, d := range res.Documents {
		cid := mw.NewContentID()
		docs = append(docs, rim.RetrievedDocument{
			HomeCommunityID:    d.HomeCommunityID,
			RepositoryUniqueID: d.RepositoryUniqueID,
			DocumentUniqueID:   d.DocumentUniqueID,
			MimeType:           d.MimeType,
			ContentID:          cid,
		})
		content := d.Content
		parts = append(parts, attachment{contentID: cid, contentType: d.MimeType,
			write: func(w *soap.MTOMWriter, cid, ctype string) error {
				_, err := w.WritePart(cid, ctype, content)
				return err
			}})
	}
	outcome := "success"
	switch {
	case len(res.Documents) == 0:
		outcome = "failure"
	case len(res.Errors) > 0:
		outcome = "partial"
	}
	s.outcome(cred.Transaction, outcome)
	s.writeAnswer(c, op, m, func(dst []byte) []byte {
		return rim.AppendRetrieveDocumentSetResponse(dst, docs, res.Errors)
	}, parts)
	return nil
}

// serveRegister answers ITI-42 and ITI-41.
func (s *Server) serveRegister(c *gin.Context, op soapOp, m *soap.Message, cred access.Credentials) error {
	var (
		sub *rim.Submission
		err error
	)
	if cred.Transaction == access.ITI41 {
		if _, err := bodyRoot(m, rim.NSXDSB, "ProvideAndRegisterDocumentSetRequest"); err != nil {
			return err
		}
		sub, err = rim.ParseProvideAndRegister(m.BodyRoot, m.Blob)
	} else {
		if _, err := bodyRoot(m, rim.NSLCM, "SubmitObjectsRequest"); err != nil {
			return err
		}
		sub, err = rim.ParseSubmitObjectsRequest(m.BodyRoot)
	}
	if err != nil {
		return err
	}
	warnings, err := s.submit.Submit(c.Request.Context(), cred, sub)
	if err != nil {
		return err
	}
	s.outcome(cred.Transaction, "success")
	s.writeAnswer(c, op, m, func(dst []byte) []byte { return rim.AppendRegistryResponse(dst, warnings) }, nil)
	return nil
}
