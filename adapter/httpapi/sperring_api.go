package httpapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"kjdd/adapter/access"
	"kjdd/adapter/httpguard"
	"kjdd/adapter/store"
	"kjdd/consent"
	"kjdd/xds/hl7"
)

// SperringService is what the sperring API needs from the application: the
// store's sperring records, each change written through to the caches
// before the call returns.
type SperringService interface {
	// Create stores a record (Patient normalised) and returns it with its
	// id and what it blocks. Invalid records give an error wrapping
	// consent.ErrInvalid (a *consent.FieldError naming the field); one
	// naming another patient's document gives
	// consent.ErrOtherPatientsDocument.
	Create(ctx context.Context, rec consent.Sperring) (consent.Sperring, consent.Blocks, error)
	// Search returns the patient's records (patient normalised).
	Search(ctx context.Context, patient string) ([]consent.Sperring, error)
	// Delete removes a record; an unknown id gives an error satisfying
	// errors.Is(err, store.ErrNotFound).
	Delete(ctx context.Context, id string) error
}

// authorizer serves the sperring API's handlers: it authenticates a
// caller of the API through the registry's gate.
type authorizer interface {
	Authorize(ctx context.Context, cred access.Credentials) (*access.Caller, error)
}

// maxSperringBody bounds a sperring API request body: a record is a few
// hundred bytes.
const maxSperringBody = 16 << 10

// sperringCreate is the body of POST /api/v1/sperring.
type sperringCreate struct {
	Patient          string       `json:"patient"`
	Kind             consent.Kind `json:"kind"`
	DocumentUniqueID string       `json:"documentUniqueId,omitempty"`
	HPRNumber        string       `json:"hprNumber,omitempty"`
	Reason           string       `json:"reason,omitempty"`
}

// sperringCreated is the answer of a create: the record as stored, and
// what it blocks.
type sperringCreated struct {
	consent.Sperring
	Blocks consent.Blocks `json:"blocks"`
}

// sperringSearch is the body of POST /api/v1/sperring/_search.
type sperringSearch struct {
	Patient string `json:"patient"`
}

// sperringItems is the answer of _search.
type sperringItems struct {
	Items []consent.Sperring `json:"items"`
}

// mountSperring registers the sperring API's routes. The patient travels
// in bodies only: URLs end up in access logs and proxies.
func (s *Server) mountSperring(e *gin.Engine) {
	e.POST("/api/v1/sperring", s.jsonAPI(s.createSperring))
	e.POST("/api/v1/sperring/_search", s.jsonAPI(s.searchSperring))
	e.DELETE("/api/v1/sperring/:id", s.jsonAPI(s.deleteSperring))
}

// jsonAPI adapts a handler that returns its failure to renderProblem, and
// counts the outcome.
func (s *Server) jsonAPI(h func(c *gin.Context) error) gin.HandlerFunc {
	return func(c *gin.Context) {
		if err := h(c); err != nil {
			s.outcome(access.SperringAPI, "failure")
			s.renderProblem(c, err)
			return
		}
		s.outcome(access.SperringAPI, "success")
	}
}

func (s *Server) createSperring(c *gin.Context) error {
	var req sperringCreate
	parseErr := readJSON(c, &req)
	caller, err := s.sperringCaller(c, req.Patient)
	if err != nil {
		return err
	}
	if parseErr != nil {
		return parseErr
	}
	patient, err := consent.NormalizePatient(req.Patient)
	if err != nil {
		return invalidPatient(err)
	}
	rec, blocks, err := s.sperring.Create(c.Request.Context(), consent.Sperring{
		Patient:          patient,
		Kind:             req.Kind,
		DocumentUniqueID: req.DocumentUniqueID,
		HPRNumber:        req.HPRNumber,
		Reason:           req.Reason,
		CreatedBy:        caller.Principal.ClientID,
	})
	if err != nil {
		return invalidSperring(err)
	}
	c.Header("Location", "/api/v1/sperring/"+rec.ID)
	c.JSON(http.StatusCreated, sperringCreated{Sperring: rec, Blocks: blocks})
	return nil
}

func (s *Server) searchSperring(c *gin.Context) error {
	var req sperringSearch
	parseErr := readJSON(c, &req)
	if _, err := s.sperringCaller(c, req.Patient); err != nil {
		return err
	}
	if parseErr != nil {
		return parseErr
	}
	patient, err := consent.NormalizePatient(req.Patient)
	if err != nil {
		return invalidPatient(err)
	}
	recs, err := s.sperring.Search(c.Request.Context(), patient)
	if err != nil {
		return invalidSperring(err)
	}
	if recs == nil {
		recs = []consent.Sperring{}
	}
	c.JSON(http.StatusOK, sperringItems{Items: recs})
	return nil
}

func (s *Server) deleteSperring(c *gin.Context) error {
	if _, err := s.sperringCaller(c, ""); err != nil {
		return err
	}
	id := c.Param("id")
	if !plausibleRecordID(id) {
		return NotFound("no sperring record has this id")
	}
	err := s.sperring.Delete(c.Request.Context(), id)
	if errors.Is(err, store.ErrNotFound) {
		return NotFound("no sperring record has this id")
	}
	if err != nil {
		return err
	}
	c.Status(http.StatusNoContent)
	return nil
}

// sperringCaller authenticates the request through the registry's gate. A
// caller the gate let in without a Principal (no authentication wired) is
// refused: changing sperring anonymously could lift a block.
func (s *Server) sperringCaller(c *gin.Context, patient string) (*access.Caller, error) {
	caller, err := s.authorize.Authorize(c.Request.Context(), access.Credentials{HTTP: c.Request, PatientID: patient})
	if err != nil {
		return nil, err
	}
	if caller == nil || caller.Principal == nil {
		c.Header("WWW-Authenticate", "Bearer")
		return nil, &Problem{Title: http.StatusText(http.StatusUnauthorized), Status: http.StatusUnauthorized}
	}
	return caller, nil
}

// invalidPatient is invalidSperring for the patient field, whose errors
// (consent.NormalizePatient's) name no field themselves.
func invalidPatient(err error) error {
	var fe *consent.FieldError
	if errors.Is(err, consent.ErrInvalid) && !errors.As(err, &fe) {
		err = &consent.FieldError{Field: "patient", Reason: strings.TrimPrefix(err.Error(), consent.ErrInvalid.Error()+": ")}
	}
	return invalidSperring(err)
}

// invalidSperring turns consent's validation errors into a 400 naming the
// field (their messages never quote the value), and a record naming
// another patient's document into a 409; anything else stays an internal
// error.
func invalidSperring(err error) error {
	var fe *consent.FieldError
	switch {
	case errors.As(err, &fe):
		p := BadRequest(err.Error())
		p.InvalidParams = []InvalidParam{{Name: fe.Field, Reason: fe.Reason}}
		return p
	case errors.Is(err, consent.ErrInvalid):
		return BadRequest(err.Error())
	case errors.Is(err, consent.ErrOtherPatientsDocument):
		return &Problem{Title: "document of another patient", Status: http.StatusConflict,
			Detail:        "documentUniqueId names a document registered for another patient; a record blocks its own patient's documents only",
			InvalidParams: []InvalidParam{{Name: "documentUniqueId", Reason: "registered for another patient"}}}
	}
	return err
}

// readJSON decodes the bounded body as one JSON object into v, refusing
// unknown fields and trailing data. Problems are returned, not written, so
// that authentication can be answered first.
func readJSON(c *gin.Context, v any) error {
	if ct := c.ContentType(); ct != "application/json" {
		return &Problem{Title: http.StatusText(http.StatusUnsupportedMediaType), Status: http.StatusUnsupportedMediaType,
			Detail: "the body must be application/json"}
	}
	body, err := io.ReadAll(http.MaxBytesReader(c.Writer, c.Request.Body, maxSperringBody))
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			return &Problem{Title: http.StatusText(http.StatusRequestEntityTooLarge), Status: http.StatusRequestEntityTooLarge,
				Detail: "the body is larger than the sperring API accepts"}
		}
		if httpguard.TooSlow(c.Request) {
			return &Problem{Title: http.StatusText(http.StatusRequestTimeout), Status: http.StatusRequestTimeout,
				Detail: "the body arrived slower than the minimum rate"}
		}
		return BadRequest("the body could not be read")
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return BadRequest(jsonProblem(err))
	}
	if _, err := dec.Token(); err != io.EOF {
		return BadRequest("the body must hold exactly one JSON object")
	}
	return nil
}

// jsonProblem describes a decoding error without echoing values (they may
// be identity numbers); field names are echoed with any number redacted.
func jsonProblem(err error) string {
	var typeErr *json.UnmarshalTypeError
	switch {
	case errors.As(err, &typeErr):
		return "field " + hl7.RedactNationalIDs(typeErr.Field) + " has the wrong type"
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		return "unknown field " + hl7.RedactNationalIDs(strings.TrimPrefix(err.Error(), "json: unknown field "))
	}
	return "the body is not a valid JSON object"
}

// plausibleRecordID bounds what reaches the store as an id.
func plausibleRecordID(id string) bool {
	if id == "" || len(id) > 64 {
		return false
	}
	for _, r := range id {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '.', r == '_', r == ':', r == '-':
		default:
			return false
		}
	}
	return true
}
