package httpapi

import (
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"

	"kjdd/adapter/access"
	"kjdd/adapter/httpguard"
	"kjdd/xds/hl7"
	"kjdd/xds/rim"
	"kjdd/xds/soap"
)

// soapOp is one SOAP operation: the transaction an Action selects on an
// endpoint, how it is served, and how its failure answer looks.
type soapOp struct {
	tx             access.Transaction
	responseAction string
	// mtom answers with multipart/related (retrieve transactions).
	mtom bool
	// serve handles a parsed request and writes the success answer.
	serve func(s *Server, c *gin.Context, op soapOp, m *soap.Message, cred access.Credentials) error
	// failure appends the body of an answer that carries only errors.
	failure func(s *Server, dst []byte, errs rim.RegistryErrors) []byte
	// internal is the code for an unexpected failure of this transaction.
	internal rim.ErrorCode
}

var (
	queryFailure = func(s *Server, dst []byte, errs rim.RegistryErrors) []byte {
		return s.writer.AppendAdhocQueryResponse(dst, nil, rim.ReturnObjectRef, "", errs)
	}
	retrieveFailure = func(_ *Server, dst []byte, errs rim.RegistryErrors) []byte {
		return rim.AppendRetrieveDocumentSetResponse(dst, nil, errs)
	}
	registerFailure = func(_ *Server, dst []byte, errs rim.RegistryErrors) []byte {
		return rim.AppendRegistryResponse(dst, errs)
	}
	xcaOps = map[string]soapOp{
		soap.ActionCrossGatewayQuery: {tx: access.ITI38, responseAction: soap.ActionCrossGatewayQueryResponse,
			serve: (*Server).serveQuery, failure: queryFailure, internal: rim.XDSRegistryError},
		soap.ActionCrossGatewayRetrieve: {tx: access.ITI39, responseAction: soap.ActionCrossGatewayRetrieveResponse, mtom: true,
			serve: (*Server).serveRetrieve, failure: retrieveFailure, internal: rim.XDSRepositoryError},
	}
	registryOps = map[string]soapOp{
		soap.ActionRegistryStoredQuery: {tx: access.ITI18, responseAction: soap.ActionRegistryStoredQueryResponse,
			serve: (*Server).serveQuery, failure: queryFailure, internal: rim.XDSRegistryError},
		soap.ActionRegisterDocumentSet: {tx: access.ITI42, responseAction: soap.ActionRegisterDocumentSetResponse,
			serve: (*Server).serveRegister, failure: registerFailure, internal: rim.XDSRegistryError},
	}
	repositoryOps = map[string]soapOp{
		soap.ActionProvideAndRegister: {tx: access.ITI41, responseAction: soap.ActionProvideAndRegisterResponse,
			serve: (*Server).serveRegister, failure: registerFailure, internal: rim.XDSRepositoryError},
		soap.ActionRetrieveDocumentSet: {tx: access.ITI43, responseAction: soap.ActionRetrieveDocumentSetResponse, mtom: true,
			serve: (*Server).serveRetrieve, failure: retrieveFailure, internal: rim.XDSRepositoryError},
	}
)

// soap returns the handler of one SOAP endpoint serving ops.
func (s *Server) soap(ops map[string]soapOp) gin.HandlerFunc {
	return func(c *gin.Context) {
		start := time.Now()
		// The reader bounds the envelope and each MTOM part; this bounds
		// the request as a whole: one envelope and one largest document.
		body := http.MaxBytesReader(c.Writer, c.Request.Body, s.limits.MaxBodyBytes+s.limits.MaxPartBytes)
		m, err := s.reader.Read(body, c.GetHeader("Content-Type"))
		if err != nil {
			s.outcome("unknown", "fault")
			if httpguard.TooSlow(c.Request) {
				// Whatever the reader made of the cut-off body, the
				// cause is the rate; the client may still read this.
				err = &soap.Fault{Code: soap.FaultSender, HTTPStatus: http.StatusRequestTimeout,
					Reason: "the request body arrived slower than the minimum rate this endpoint accepts"}
			}
			s.renderFault(c, err, "", "")
			return
		}
		defer m.Close()
		op, ok := ops[m.Action]
		if !ok {
			s.outcome("unknown", "fault")
			// The action is the caller's text: the log gets it masked,
			// like any text quoted from a request.
			s.renderFault(c, &soap.Fault{Code: soap.FaultSender, Subcode: "wsa:ActionNotSupported",
				Reason: "the action is not supported at this endpoint", ProblemAction: m.Action,
				Detail: hl7.RedactNationalIDs(m.Action)}, m.MessageID, "")
			return
		}
		cred := access.Credentials{Transaction: op.tx, XUA: access.XUAFrom(m.SecurityHeader()), HTTP: c.Request}
		err = op.serve(s, c, op, m, cred)
		if err != nil {
			s.renderError(c, op, m, err)
		} else {
			// Served, so its assertion (if any) was verified: the reader
			// may step over the same bytes in the session's next request.
			m.AssertionVerified()
		}
		s.metrics.observe(string(op.tx), time.Since(start))
	}
}

// outcome counts a request by transaction and outcome.
func (s *Server) outcome(tx access.Transaction, outcome string) {
	s.metrics.request(string(tx), outcome)
}

// renderError is the one place a failed SOAP request is answered: a SOAP
// fault for transport and security failures, the transaction's own answer
// with a RegistryErrorList for registry failures, and an internal error code
// (details only in the log) for anything else.
func (s *Server) renderError(c *gin.Context, op soapOp, m *soap.Message, err error) {
	var fault *soap.Fault
	if errors.As(err, &fault) {
		s.outcome(op.tx, "fault")
		s.renderFault(c, fault, m.MessageID, op.tx)
		return
	}
	if f, ok := asAuthFault(err); ok {
		s.outcome(op.tx, "denied")
		s.renderFault(c, f, m.MessageID, op.tx)
		return
	}
	errs, ok := rim.AsRegistryErrors(err)
	if !ok {
		s.log.Error("request failed", "transaction", op.tx, "err", err)
		errs = rim.RegistryErrors{rim.NewError(op.internal, "internal error")}
		s.outcome(op.tx, "error")
	} else {
		s.outcome(op.tx, "failure")
		s.log.Info("request refused", "transaction", op.tx, "errors", errs.Error())
	}
	s.writeAnswer(c, op, m, func(dst []byte) []byte { return op.failure(s, dst, errs) }, nil)
}

// renderFault answers with a SOAP 1.2 fault. The reason is the fault's
// caller-facing text; Detail goes to the log only.
func (s *Server) renderFault(c *gin.Context, err error, relatesTo string, tx access.Transaction) {
	var f *soap.Fault
	if !errors.As(err, &f) {
		s.log.Error("request failed before dispatch", "err", err)
		f = &soap.Fault{Code: soap.FaultReceiver, Reason: "internal error"}
	}
	if tx == "" {
		tx = "unknown"
	}
	s.log.Info("soap fault", "transaction", tx, "code", f.Code, "subcode", f.Subcode, "reason", f.Reason, "detail", f.Detail)
	// SOAP 1.2 HTTP binding (Part 2, 7.5.2.2): env:Sender is 400, every
	// other fault code 500.
	status := f.HTTPStatus
	if status == 0 {
		status = http.StatusInternalServerError
		if f.Code == soap.FaultSender {
			status = http.StatusBadRequest
		}
	}
	doc := soap.FaultEnvelope(f, relatesTo)
	c.Header("Content-Type", soap.ContentTypeSOAP)
	c.Status(status)
	if _, err := doc.WriteTo(c.Writer); err != nil {
		s.log.Debug("fault not delivered", "err", err)
	}
}

// attachment is an MTOM part of an answer.
type attachment struct {
	contentID, contentType string
	write                  func(w *soap.MTOMWriter, cid, ctype string) error
}

// writeAnswer writes an answer whose body appendBody appends as bytes:
// plain SOAP or, for retrieve transactions, MTOM with the documents
// streamed as parts after the envelope.
func (s *Server) writeAnswer(c *gin.Context, op soapOp, m *soap.Message, appendBody func(dst []byte) []byte, parts []attachment) {
	bp := s.answers.Get().(*[]byte)
	buf := soap.AppendEnvelope((*bp)[:0], op.responseAction, m.MessageID, appendBody)
	defer func() {
		// The buffer is written out before it is reused: nothing keeps it.
		if cap(buf) <= maxPooledAnswer {
			*bp = buf[:0]
			s.answers.Put(bp)
		}
	}()
	if !op.mtom {
		h := c.Writer.Header()
		h.Set("Content-Type", soap.SOAPContentType(op.responseAction))
		h.Set("Content-Length", strconv.Itoa(len(buf)))
		c.Status(http.StatusOK)
		if _, err := c.Writer.Write(buf); err != nil {
			s.log.Debug("answer not delivered", "err", err)
		}
		return
	}
	mw := soap.NewMTOMWriter(c.Writer, op.responseAction)
	c.Header("Content-Type", mw.ContentType())
	c.Status(http.StatusOK)
	if err := mw.WriteRootBytes(buf); err != nil {
		s.log.Debug("answer not delivered", "err", err)
		return
	}
	for _, p := range parts {
		if err := p.write(mw, p.contentID, p.contentType); err != nil {
			// The status line is gone; the truncated multipart tells the
			// client the answer is incomplete.
			s.log.Warn("document stream broken", "transaction", op.tx, "err", err)
			return
		}
	}
	if err := mw.Close(); err != nil {
		s.log.Debug("answer not delivered", "err", err)
	}
}

// maxPooledAnswer bounds the answer buffers kept for reuse (an ITI-38
// answer of twenty entries is about 100 KB): one huge answer must not stay
// pinned in the pool.
const maxPooledAnswer = 4 << 20
