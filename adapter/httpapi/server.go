// Package httpapi is kjdd's HTTP face: the SOAP endpoints of the XCA
// responding gateway and the XDS.b registry and repository, health and
// metrics. Handlers are thin: they read the message, call one use case and
// hand the outcome to one renderer; failures are returned, not written.
package httpapi

import (
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"kjdd/adapter/telemetry"
	"kjdd/xds/rim"
	"kjdd/xds/soap"
)

// Registry is every use case the handlers call (*registry.Registry is
// one); each handler keeps only the narrow interface it declares.
type Registry interface {
	querier
	retriever
	submitter
	authorizer
}

// Options configure the HTTP face.
type Options struct {
	Registry Registry
	// Reader reads SOAP requests; nil means one of the server's own with
	// Limits and no memo.
	Reader *soap.Reader
	// Writer writes SOAP answers; nil writes without a fragment cache.
	Writer *rim.Writer
	Limits soap.Limits
	Logger *slog.Logger
	// Ready are the checks of /readyz (store, caches, key sources); none
	// means always ready.
	Ready []ReadyCheck
	// DevHelseID serves the development issuer's discovery and JWKS under
	// /dev/helseid/ (serve --dev only); nil outside development.
	DevHelseID http.Handler
	// Sperring is the sperring API's back end; nil leaves the API unmounted.
	Sperring SperringService
	// Collectors are further metrics served on /metrics (e.g. the
	// sperring cache's events).
	Collectors []prometheus.Collector
}

// Server holds the handlers' dependencies.
type Server struct {
	// The use cases, each as the narrow interface its handler declares.
	query     querier
	retrieve  retriever
	submit    submitter
	authorize authorizer

	limits soap.Limits
	reader *soap.Reader
	writer *rim.Writer
	// answers recycles the buffers answers are written into.
	answers  sync.Pool
	log      *slog.Logger
	ready    []ReadyCheck
	metrics  *metrics
	sperring SperringService
}

// New returns the HTTP handler of kjdd.
func New(o Options) http.Handler {
	gin.SetMode(gin.ReleaseMode)
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	// Every log line of the server may quote the request: redacted, one
	// place for all of them.
	o.Logger = slog.New(telemetry.RedactingHandler(o.Logger.Handler()))
	if o.Reader == nil {
		o.Reader = soap.NewReader(soap.ReaderConfig{Limits: o.Limits})
	}
	s := &Server{query: o.Registry, retrieve: o.Registry, submit: o.Registry, authorize: o.Registry,
		limits: o.Reader.Limits(), reader: o.Reader, writer: o.Writer, log: o.Logger, ready: o.Ready, metrics: newMetrics(), sperring: o.Sperring}
	s.answers.New = func() any { b := make([]byte, 0, 128<<10); return &b }
	s.metrics.registry.MustRegister(o.Collectors...)
	e := gin.New()
	e.Use(gin.Recovery(), s.accessLog())
	e.POST("/xca", s.soap(xcaOps))
	e.GET("/xca", s.wsdl("xca.wsdl"))
	e.POST("/xds/registry", s.soap(registryOps))
	e.GET("/xds/registry", s.wsdl("registry.wsdl"))
	e.POST("/xds/repository", s.soap(repositoryOps))
	e.GET("/xds/repository", s.wsdl("repository.wsdl"))
	e.GET("/xsd/*path", s.schema)
	e.GET("/healthz", func(c *gin.Context) { c.JSON(http.StatusOK, gin.H{"status": "ok"}) })
	e.GET("/readyz", s.readyz)
	e.GET("/metrics", gin.WrapH(promhttp.HandlerFor(s.metrics.registry, promhttp.HandlerOpts{})))
	if o.DevHelseID != nil {
		e.Any("/dev/helseid/*path", gin.WrapH(http.StripPrefix("/dev/helseid", o.DevHelseID)))
	}
	if s.sperring != nil {
		s.mountSperring(e)
	}
	e.NoRoute(notFound)
	return e
}

func notFound(c *gin.Context) {
	c.JSON(http.StatusNotFound, gin.H{"title": "not found", "status": 404})
}

// accessLog logs one line per request: method, route, status, duration.
// Never the query string or body, which may carry national ids.
func (s *Server) accessLog() gin.HandlerFunc {
	return func(c *gin.Context) {
		if !s.log.Enabled(c.Request.Context(), slog.LevelDebug) {
			// The usual case: no attributes to build per request.
			c.Next()
			return
		}
		start := time.Now()
		c.Next()
		s.log.Debug("request", "method", c.Request.Method, "route", c.FullPath(),
			"status", c.Writer.Status(), "duration_ms", time.Since(start).Milliseconds())
	}
}

type metrics struct {
	registry *prometheus.Registry
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec

	// The children of the vectors by label values, so that counting a
	// request does not hash its labels every time.
	mu        sync.RWMutex
	counters  map[[2]string]prometheus.Counter
	durations map[string]prometheus.Observer
}

// request counts one request of transaction tx with outcome.
func (m *metrics) request(tx, outcome string) {
	k := [2]string{tx, outcome}
	m.mu.RLock()
	c, ok := m.counters[k]
	m.mu.RUnlock()
	if !ok {
		c = m.requests.WithLabelValues(tx, outcome)
		m.mu.Lock()
		m.counters[k] = c
		m.mu.Unlock()
	}
	c.Inc()
}

// observe records the duration of one request of transaction tx.
func (m *metrics) observe(tx string, d time.Duration) {
	m.mu.RLock()
	o, ok := m.durations[tx]
	m.mu.RUnlock()
	if !ok {
		o = m.duration.WithLabelValues(tx)
		m.mu.Lock()
		m.durations[tx] = o
		m.mu.Unlock()
	}
	o.Observe(d.Seconds())
}

func newMetrics() *metrics {
	m := &metrics{
		counters:  make(map[[2]string]prometheus.Counter),
		durations: make(map[string]prometheus.Observer),
		registry:  prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "kjdd_requests_total", Help: "Requests by IHE transaction and outcome.",
		}, []string{"transaction", "outcome"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "kjdd_request_duration_seconds", Help: "Request duration by IHE transaction.",
			Buckets: prometheus.ExponentialBuckets(0.0005, 2, 16),
		}, []string{"transaction"}),
	}
	m.registry.MustRegister(m.requests, m.duration, collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}
