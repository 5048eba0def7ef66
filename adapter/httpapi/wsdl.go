package httpapi

import (
	"bytes"
	"embed"
	"html"
	"io/fs"
	"net/http"
	"strings"
	"text/template"

	"github.com/gin-gonic/gin"
)

// contract holds the WSDL templates of the three SOAP endpoints and the
// official schemas they import (wsdl/README.md says where each comes from).
//
//go:embed wsdl/*.wsdl wsdl/xsd
var contract embed.FS

var (
	wsdlTemplates = template.Must(template.ParseFS(contract, "wsdl/*.wsdl"))
	schemas       = must(fs.Sub(contract, "wsdl/xsd"))
)

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

// wsdl answers GET <endpoint>?wsdl with the named template, its addresses
// and schemaLocations absolute on the host the caller asked.
func (s *Server) wsdl(name string) gin.HandlerFunc {
	return func(c *gin.Context) {
		if _, ok := c.GetQuery("wsdl"); !ok {
			c.JSON(http.StatusMethodNotAllowed, gin.H{"title": "use POST for SOAP requests or GET ?wsdl", "status": 405})
			return
		}
		scheme := "http"
		if c.Request.TLS != nil || strings.EqualFold(c.GetHeader("X-Forwarded-Proto"), "https") {
			scheme = "https"
		}
		// The Host header is the caller's: escape it before it enters XML.
		base := html.EscapeString(scheme + "://" + c.Request.Host)
		var buf bytes.Buffer
		if err := wsdlTemplates.ExecuteTemplate(&buf, name, struct{ Base string }{base}); err != nil {
			s.log.Error("wsdl not rendered", "wsdl", name, "err", err)
			c.Status(http.StatusInternalServerError)
			return
		}
		c.Data(http.StatusOK, "text/xml; charset=UTF-8", buf.Bytes())
	}
}

// schema answers GET /xsd/<path> with an embedded schema, byte for byte.
func (s *Server) schema(c *gin.Context) {
	b, err := fs.ReadFile(schemas, strings.TrimPrefix(c.Param("path"), "/"))
	if err != nil {
		notFound(c)
		return
	}
	c.Data(http.StatusOK, "text/xml; charset=UTF-8", b)
}
