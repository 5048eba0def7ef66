package httpapi

import (
	"errors"
	"net/http"

	"github.com/gin-gonic/gin"
)

// Problem is an RFC 9457 problem detail, the error body of kjdd's JSON API.
type Problem struct {
	Type   string `json:"type,omitempty"`
	Title  string `json:"title"`
	Status int    `json:"status"`
	Detail string `json:"detail,omitempty"`
	// InvalidParams names the request fields that are wrong (the
	// "invalid-params" extension of RFC 9457's example); reasons never
	// quote the value.
	InvalidParams []InvalidParam `json:"invalid-params,omitempty"`
}

// InvalidParam is one wrong request field of a Problem.
type InvalidParam struct {
	Name   string `json:"name"`
	Reason string `json:"reason"`
}

// Error implements error.
func (p *Problem) Error() string { return p.Title + ": " + p.Detail }

// BadRequest is a 400 problem; detail is shown to the caller and must not
// carry a national id.
func BadRequest(detail string) *Problem {
	return &Problem{Title: "bad request", Status: http.StatusBadRequest, Detail: detail}
}

// NotFound is a 404 problem.
func NotFound(detail string) *Problem {
	return &Problem{Title: "not found", Status: http.StatusNotFound, Detail: detail}
}

// renderProblem is the one place a failed JSON request is answered:
// authentication refusals as 401/403 with WWW-Authenticate, *Problem as
// itself, anything else as a 500 whose cause goes to the log only.
func (s *Server) renderProblem(c *gin.Context, err error) {
	p := &Problem{Title: "internal error", Status: http.StatusInternalServerError}
	var pe *Problem
	switch {
	case errors.As(err, &pe):
		p = pe
	default:
		if status, challenge, ok := asAuthProblem(err); ok {
			p = &Problem{Title: http.StatusText(status), Status: status}
			if challenge != "" {
				c.Header("WWW-Authenticate", challenge)
			}
			s.log.Info("request refused", "route", c.FullPath(), "status", status, "reason", err.Error())
		} else {
			s.log.Error("request failed", "route", c.FullPath(), "err", err)
		}
	}
	c.Header("Content-Type", "application/problem+json")
	c.AbortWithStatusJSON(p.Status, p)
}
