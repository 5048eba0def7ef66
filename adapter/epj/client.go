// Package epj is kjdd's client of the hospital EPJ's own XDS.b repository:
// documents registered by ITI-42 (metadata only) are fetched from there
// with ITI-43 when they are retrieved, and streamed through.
package epj

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"syscall"
	"time"

	"kjdd/xds/rim"
	"kjdd/xds/soap"
)

// Default timeouts; see Options.
const (
	DefaultConnectTimeout        = 5 * time.Second
	DefaultResponseHeaderTimeout = 30 * time.Second
	DefaultTimeout               = 2 * time.Minute
	// retryDelay is the pause before the one retry after a refused
	// connection (an EPJ instance restarting behind its address).
	retryDelay = 200 * time.Millisecond
)

// Options configure a Client. Zero fields take the defaults.
type Options struct {
	// Limits bound the EPJ's answer as they bound requests to kjdd.
	Limits soap.Limits
	// Spool keeps documents larger than Limits.MemoryPartBytes while they
	// are streamed to the caller (adapter/spool); nil refuses them.
	Spool soap.Spool
	// ConnectTimeout bounds TCP connect and TLS handshake.
	ConnectTimeout time.Duration
	// ResponseHeaderTimeout bounds the wait for the EPJ to start answering.
	ResponseHeaderTimeout time.Duration
	// Timeout bounds one retrieve as a whole, reading the document
	// included.
	Timeout time.Duration
}

// Client retrieves documents from the EPJ repositories it was configured
// with. It is safe for concurrent use.
type Client struct {
	repos   map[string]*url.URL // by bare repositoryUniqueId
	http    *http.Client
	reader  *soap.Reader
	spool   soap.Spool // where the reader spools large documents
	timeout time.Duration
	// dial opens connections; tests count attempts through it.
	dial func(ctx context.Context, network, addr string) (net.Conn, error)
}

// Retrieved is a document fetched from the EPJ. Content streams it (from
// memory or from the spooled MIME part); closing Content removes the
// spooled file, so it must always be closed.
type Retrieved struct {
	MimeType string
	Content  io.ReadCloser
	Size     int64
}

// NewClient returns a client of the repositories in repos (repository OID
// to URL, as ParseRepositories returns them). An entry whose URL does not
// parse is left out, so a retrieve from it fails as for an unknown
// repository.
func NewClient(repos map[string]string, opts Options) *Client {
	opts = opts.orDefaults()
	c := &Client{
		repos:   make(map[string]*url.URL, len(repos)),
		reader:  soap.NewReader(soap.ReaderConfig{Limits: opts.Limits, Spool: opts.Spool}),
		spool:   opts.Spool,
		timeout: opts.Timeout,
	}
	for oid, raw := range repos {
		if u, err := url.Parse(raw); err == nil && u.Host != "" {
			c.repos[normalizeOID(oid)] = u
		}
	}
	dialer := &net.Dialer{Timeout: opts.ConnectTimeout, KeepAlive: 30 * time.Second}
	c.dial = dialer.DialContext
	transport := &http.Transport{
		Proxy: http.ProxyFromEnvironment,
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			return c.dial(ctx, network, addr)
		},
		TLSHandshakeTimeout:   opts.ConnectTimeout,
		ResponseHeaderTimeout: opts.ResponseHeaderTimeout,
		IdleConnTimeout:       90 * time.Second,
		MaxIdleConnsPerHost:   16,
		ForceAttemptHTTP2:     true,
	}
	c.http = &http.Client{
		Transport: transport,
		// A redirected POST would either lose its body or go where the
		// configuration did not say; refuse it.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	return c
}

// orDefaults fills zero fields.
func (o Options) orDefaults() Options {
	if o.ConnectTimeout <= 0 {
		o.ConnectTimeout = DefaultConnectTimeout
	}
	if o.ResponseHeaderTimeout <= 0 {
		o.ResponseHeaderTimeout = DefaultResponseHeaderTimeout
	}
	if o.Timeout <= 0 {
		o.Timeout = DefaultTimeout
	}
	if o.Limits == (soap.Limits{}) {
		o.Limits = soap.DefaultLimits()
	}
	return o
}

// Serves reports whether repositoryUniqueID (bare or urn:oid:) is one of
// the client's repositories.
func (c *Client) Serves(repositoryUniqueID string) bool {
	if c == nil {
		return false
	}
	_, ok := c.repos[normalizeOID(repositoryUniqueID)]
	return ok
}

// Retrieve fetches one document with ITI-43 (SOAP 1.2, WS-Addressing,
// plain application/soap+xml request; MTOM or plain answer). Failures are
// errors carrying a *rim.RegistryError: XDSUnknownRepositoryId for a
// repository not configured, XDSDocumentUniqueIdError when the EPJ says it
// has no such document, XDSRepositoryError "document source unavailable"
// for everything else (unreachable, timeout, 5xx, an unusable answer).
// POST is not retried, except once when the connection was refused (the
// request never reached the EPJ).
func (c *Client) Retrieve(ctx context.Context, repositoryUniqueID, documentUniqueID string) (*Retrieved, error) {
	var endpoint *url.URL
	if c != nil {
		endpoint = c.repos[normalizeOID(repositoryUniqueID)]
	}
	if endpoint == nil {
		return nil, rim.NewError(rim.XDSUnknownRepositoryID, "repository "+repositoryUniqueID+" is not known here")
	}
	body, messageID, err := retrieveRequest(endpoint.String(), repositoryUniqueID, documentUniqueID)
	if err != nil {
		return nil, unavailable(err)
	}
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	resp, err := c.post(ctx, endpoint, body)
	if err != nil {
		return nil, unavailable(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		// 5xx (a SOAP fault included), and 3xx/4xx which mean the
		// configuration or the EPJ is wrong: the caller can do nothing.
		return nil, unavailablef("the EPJ answered HTTP %d", resp.StatusCode)
	}
	// The whole answer is read (large parts spooled) before the context
	// ends; Content then reads from memory or disk, not from the network.
	m, err := c.reader.Read(resp.Body, resp.Header.Get("Content-Type"))
	if err != nil {
		if ctx.Err() != nil {
			return nil, unavailable(ctx.Err())
		}
		return nil, unavailable(fmt.Errorf("reading the EPJ's answer: %w", err))
	}
	got, err := c.retrieved(m, messageID, repositoryUniqueID, documentUniqueID)
	if err != nil {
		m.Close()
		return nil, err
	}
	return got, nil
}

// post sends the request, once more if the connection was refused.
func (c *Client) post(ctx context.Context, endpoint *url.URL, body []byte) (*http.Response, error) {
	for attempt := 0; ; attempt++ {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint.String(), bytes.NewReader(body))
		if err != nil {
			return nil, err
		}
		req.Header.Set("Content-Type", soap.SOAPContentType(soap.ActionRetrieveDocumentSet))
		req.Header.Set("Accept", "multipart/related, application/soap+xml")
		resp, err := c.http.Do(req)
		if err == nil || attempt > 0 || !errors.Is(err, syscall.ECONNREFUSED) {
			return resp, err
		}
		select {
		case <-time.After(retryDelay):
		case <-ctx.Done():
			return nil, err
		}
	}
}

// retrieved turns the answer into a Retrieved whose Content closes m.
func (c *Client) retrieved(m *soap.Message, messageID, repositoryUniqueID, documentUniqueID string) (*Retrieved, error) {
	if m.RelatesTo != "" && m.RelatesTo != messageID {
		return nil, unavailablef("the EPJ's answer relates to another request")
	}
	dr, err := findDocument(m, repositoryUniqueID, documentUniqueID)
	if err != nil {
		return nil, err
	}
	blob, err := m.Blob(dr.document)
	if err != nil {
		return nil, unavailable(fmt.Errorf("document content: %w", err))
	}
	rc, err := blob.Open()
	if err != nil {
		return nil, unavailable(err)
	}
	var size int64 = -1
	if sb, ok := blob.(soap.SizedBlob); ok {
		size = sb.Size()
	}
	mimeType := dr.mimeType
	if p, ok := blob.(*soap.Part); ok && mimeType == "" {
		mimeType = p.ContentType
	}
	return &Retrieved{MimeType: mimeType, Content: &content{ReadCloser: rc, msg: m}, Size: size}, nil
}

// content is the document's reader; Close also removes the spooled file.
type content struct {
	io.ReadCloser
	msg *soap.Message
}

// Close closes the reader and the message it came from.
func (c *content) Close() error {
	return errors.Join(c.ReadCloser.Close(), c.msg.Close())
}
