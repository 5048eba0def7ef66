package epj

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/beevik/etree"

	"kjdd/adapter/epj/epjtest"
	"kjdd/adapter/spool"
	"kjdd/xds/rim"
	"kjdd/xds/soap"
)

// repoOID is the repository the tests' fake EPJ plays.
const repoOID = "2.16.578.1.12.4.5.100.1.2"

// clientFor returns a client whose one repository is srv.
func clientFor(t *testing.T, srv *httptest.Server, opts Options) *Client {
	t.Helper()
	repos, err := ParseRepositories(repoOID + "=" + srv.URL + "/xds/repository")
	if err != nil {
		t.Fatal(err)
	}
	if opts.Limits == (soap.Limits{}) {
		opts.Limits = soap.DefaultLimits()
	}
	if opts.Spool == nil {
		opts.Spool = spool.Dir(t.TempDir())
	}
	return NewClient(repos, opts)
}

// wantRegistryError checks err carries a registry error of code with
// context.
func wantRegistryError(t *testing.T, err error, code rim.ErrorCode, context string) {
	t.Helper()
	errs, ok := rim.AsRegistryErrors(err)
	if !ok || len(errs) != 1 {
		t.Fatalf("error %v carries no single registry error", err)
	}
	if errs[0].Code != code || errs[0].Context != context {
		t.Fatalf("got %s %q, want %s %q", errs[0].Code, errs[0].Context, code, context)
	}
}

// readAll reads and closes a retrieved document.
func readAll(t *testing.T, got *Retrieved) []byte {
	t.Helper()
	data, err := io.ReadAll(got.Content)
	if err != nil {
		t.Fatal(err)
	}
	if err := got.Content.Close(); err != nil {
		t.Fatal(err)
	}
	return data
}

// TestRetrieve runs the client against the fake EPJ repository.
func TestRetrieve(t *testing.T) {
	letter := []byte("%PDF-1.7\nepikrise\n")
	docs := map[string]epjtest.Doc{
		"1.2.3.1": {MimeType: "application/pdf", Content: letter},
		"1.2.3.2": {MimeType: "text/xml", Content: []byte("<ClinicalDocument/>"), Inline: true},
		"1.2.3.3": {MimeType: "application/pdf", Size: 3 << 20, Seed: 9},
		"1.2.3.4": {MimeType: "application/pdf", Content: letter, Status: http.StatusServiceUnavailable},
		"1.2.3.5": {MimeType: "application/pdf", Content: letter, Status: http.StatusInternalServerError},
		"1.2.3.6": {MimeType: "application/pdf", Content: letter, Delay: 2 * time.Second},
	}
	srv := epjtest.NewServer(docs)
	defer srv.Close()
	tests := map[string]struct {
		repo, doc string
		opts      Options
		wantCode  rim.ErrorCode
		wantCtx   string
		wantIs    error
	}{
		"MTOM answer":                 {repo: repoOID, doc: "1.2.3.1"},
		"plain SOAP answer, inline":   {repo: repoOID, doc: "1.2.3.2"},
		"spooled 3 MB document":       {repo: repoOID, doc: "1.2.3.3"},
		"repository as urn:oid":       {repo: "urn:oid:" + repoOID, doc: "1.2.3.1"},
		"unknown repository":          {repo: "1.2.3.999", doc: "1.2.3.1", wantCode: rim.XDSUnknownRepositoryID, wantCtx: "repository 1.2.3.999 is not known here"},
		"unknown document":            {repo: repoOID, doc: "1.2.3.404", wantCode: rim.XDSDocumentUniqueIDError, wantCtx: "document is not available"},
		"EPJ answers 503":             {repo: repoOID, doc: "1.2.3.4", wantCode: rim.XDSRepositoryError, wantCtx: "document source unavailable"},
		"EPJ answers 500 with fault":  {repo: repoOID, doc: "1.2.3.5", wantCode: rim.XDSRepositoryError, wantCtx: "document source unavailable"},
		"EPJ slower than the timeout": {repo: repoOID, doc: "1.2.3.6", opts: Options{Timeout: 300 * time.Millisecond}, wantCode: rim.XDSRepositoryError, wantCtx: "document source unavailable", wantIs: context.DeadlineExceeded},
		"EPJ slower than the header timeout": {repo: repoOID, doc: "1.2.3.6", opts: Options{ResponseHeaderTimeout: 300 * time.Millisecond},
			wantCode: rim.XDSRepositoryError, wantCtx: "document source unavailable"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			c := clientFor(t, srv, tc.opts)
			dir := spoolDir(c)
			got, err := c.Retrieve(context.Background(), tc.repo, tc.doc)
			if tc.wantCode != "" {
				wantRegistryError(t, err, tc.wantCode, tc.wantCtx)
				if tc.wantIs != nil && !errors.Is(err, tc.wantIs) {
					t.Errorf("error %v is not %v", err, tc.wantIs)
				}
				noFiles(t, dir)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			d := docs[tc.doc]
			want, _ := io.ReadAll(d.Open())
			if got.MimeType != d.MimeType || got.Size != int64(len(want)) {
				t.Errorf("MimeType %q Size %d, want %q %d", got.MimeType, got.Size, d.MimeType, len(want))
			}
			if data := readAll(t, got); !bytes.Equal(data, want) {
				t.Error("content differs")
			}
			noFiles(t, dir)
		})
	}
}

// noFiles fails if dir holds files (spooled parts not cleaned up).
// spoolDir is the directory c spools into.
func spoolDir(c *Client) string { return string(c.spool.(spool.Dir)) }

func noFiles(t *testing.T, dir string) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 0 {
		t.Errorf("%d files left in the spool directory", len(entries))
	}
}

// TestRetrieveCallerCancels checks a cancelled context ends a retrieve.
func TestRetrieveCallerCancels(t *testing.T) {
	srv := epjtest.NewServer(map[string]epjtest.Doc{"1.2.3.6": {Content: []byte("x"), Delay: 5 * time.Second}})
	defer srv.Close()
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(100*time.Millisecond, cancel)
	_, err := clientFor(t, srv, Options{}).Retrieve(ctx, repoOID, "1.2.3.6")
	wantRegistryError(t, err, rim.XDSRepositoryError, "document source unavailable")
	if !errors.Is(err, context.Canceled) {
		t.Errorf("error %v is not context.Canceled", err)
	}
}

// closedAddr returns a loopback address nobody listens on.
func closedAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

// TestRetrieveConnectionRefused checks the one retry on a refused
// connection, by counting real dials: first to a closed port, then
// (in the recovering case) to the live fake.
func TestRetrieveConnectionRefused(t *testing.T) {
	srv := epjtest.NewServer(map[string]epjtest.Doc{"1.2.3.1": {MimeType: "text/plain", Content: []byte("ok")}})
	defer srv.Close()
	live := srv.Listener.Addr().String()
	dead := closedAddr(t)
	tests := map[string]struct {
		addrs     []string // address dialled at each attempt
		wantDials int32
		wantErr   bool
	}{
		"refused twice: no third attempt": {addrs: []string{dead, dead, dead}, wantDials: 2, wantErr: true},
		"refused once, then up":           {addrs: []string{dead, live}, wantDials: 2},
		"up at once":                      {addrs: []string{live}, wantDials: 1},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			c := clientFor(t, srv, Options{})
			var dials atomic.Int32
			var d net.Dialer
			c.dial = func(ctx context.Context, network, _ string) (net.Conn, error) {
				n := dials.Add(1)
				return d.DialContext(ctx, network, tc.addrs[min(int(n), len(tc.addrs))-1])
			}
			got, err := c.Retrieve(context.Background(), repoOID, "1.2.3.1")
			if dials.Load() != tc.wantDials {
				t.Errorf("%d dials, want %d", dials.Load(), tc.wantDials)
			}
			if tc.wantErr {
				wantRegistryError(t, err, rim.XDSRepositoryError, "document source unavailable")
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if string(readAll(t, got)) != "ok" {
				t.Error("wrong content")
			}
		})
	}
}

// misbehaving is an EPJ that answers every request with the response
// envelope respond builds (relatesTo is the request's MessageID), as
// MTOM with one part "cid@x" holding "payload".
func misbehaving(t *testing.T, respond func(relatesTo string) *etree.Document) *httptest.Server {
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		m, err := soap.ReadMessage(r.Body, r.Header.Get("Content-Type"), soap.Limits{})
		if err != nil {
			t.Errorf("the client sent an unreadable request: %v", err)
			return
		}
		defer m.Close()
		mw := soap.NewMTOMWriter(w, soap.ActionRetrieveDocumentSetResponse)
		w.Header().Set("Content-Type", mw.ContentType())
		_ = mw.WriteRoot(respond(m.MessageID))
		_, _ = mw.WritePart("cid@x", "text/plain", strings.NewReader("payload"))
		_ = mw.Close()
	}))
}

// responseWith is a RetrieveDocumentSetResponse envelope; each of docs is
// a DocumentResponse (repository, document id) whose Document refers to
// cid@x, errs are RegistryError codes.
func responseWith(relatesTo, status string, docs [][2]string, errs ...string) *etree.Document {
	body := etree.NewElement("xdsb:RetrieveDocumentSetResponse")
	body.CreateAttr("xmlns:xdsb", rim.NSXDSB)
	body.CreateAttr("xmlns:rs", rim.NSRS)
	rr := body.CreateElement("rs:RegistryResponse")
	rr.CreateAttr("status", status)
	if len(errs) > 0 {
		list := rr.CreateElement("rs:RegistryErrorList")
		for _, code := range errs {
			list.CreateElement("rs:RegistryError").CreateAttr("errorCode", code)
		}
	}
	for _, d := range docs {
		dr := body.CreateElement("xdsb:DocumentResponse")
		dr.CreateElement("xdsb:RepositoryUniqueId").SetText(d[0])
		dr.CreateElement("xdsb:DocumentUniqueId").SetText(d[1])
		dr.CreateElement("xdsb:mimeType").SetText("text/plain")
		dr.CreateElement("xdsb:Document").AddChild(soap.XOPInclude("cid@x"))
	}
	return soap.NewEnvelope(soap.ActionRetrieveDocumentSetResponse, relatesTo, body)
}

// TestRetrieveRefusesBadAnswers checks that an answer kjdd cannot trust is
// never passed on.
func TestRetrieveRefusesBadAnswers(t *testing.T) {
	const doc = "1.2.3.1"
	tests := map[string]struct {
		respond  func(relatesTo string) *etree.Document
		wantCode rim.ErrorCode
	}{
		"well-formed answer is accepted": {respond: func(rt string) *etree.Document {
			return responseWith(rt, rim.ResponseSuccess, [][2]string{{repoOID, doc}})
		}},
		"another document": {respond: func(rt string) *etree.Document {
			return responseWith(rt, rim.ResponseSuccess, [][2]string{{repoOID, "1.2.3.666"}})
		}, wantCode: rim.XDSRepositoryError},
		"the document and another": {respond: func(rt string) *etree.Document {
			return responseWith(rt, rim.ResponseSuccess, [][2]string{{repoOID, doc}, {repoOID, "1.2.3.666"}})
		}, wantCode: rim.XDSRepositoryError},
		"the document twice": {respond: func(rt string) *etree.Document {
			return responseWith(rt, rim.ResponseSuccess, [][2]string{{repoOID, doc}, {repoOID, doc}})
		}, wantCode: rim.XDSRepositoryError},
		"another repository": {respond: func(rt string) *etree.Document {
			return responseWith(rt, rim.ResponseSuccess, [][2]string{{"1.2.3.999", doc}})
		}, wantCode: rim.XDSRepositoryError},
		"answer to another request": {respond: func(string) *etree.Document {
			return responseWith("urn:uuid:00000000-0000-4000-8000-000000000000", rim.ResponseSuccess, [][2]string{{repoOID, doc}})
		}, wantCode: rim.XDSRepositoryError},
		"success without document": {respond: func(rt string) *etree.Document {
			return responseWith(rt, rim.ResponseSuccess, nil)
		}, wantCode: rim.XDSRepositoryError},
		"failure with another error code": {respond: func(rt string) *etree.Document {
			return responseWith(rt, rim.ResponseFailure, nil, string(rim.XDSRepositoryBusy))
		}, wantCode: rim.XDSRepositoryError},
		"failure: unknown document": {respond: func(rt string) *etree.Document {
			return responseWith(rt, rim.ResponseFailure, nil, string(rim.XDSDocumentUniqueIDError))
		}, wantCode: rim.XDSDocumentUniqueIDError},
		"SOAP fault with status 200": {respond: func(rt string) *etree.Document {
			return soap.FaultEnvelope(&soap.Fault{Code: soap.FaultReceiver, Reason: "x"}, rt)
		}, wantCode: rim.XDSRepositoryError},
		"wrong body": {respond: func(rt string) *etree.Document {
			return soap.NewEnvelope(soap.ActionRetrieveDocumentSetResponse, rt, etree.NewElement("Other"))
		}, wantCode: rim.XDSRepositoryError},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			srv := misbehaving(t, tc.respond)
			defer srv.Close()
			c := clientFor(t, srv, Options{})
			got, err := c.Retrieve(context.Background(), repoOID, doc)
			if tc.wantCode == "" {
				if err != nil {
					t.Fatal(err)
				}
				if string(readAll(t, got)) != "payload" {
					t.Error("wrong content")
				}
				return
			}
			if err == nil {
				readAll(t, got)
				t.Fatal("a bad answer was accepted")
			}
			errs, _ := rim.AsRegistryErrors(err)
			if len(errs) != 1 || errs[0].Code != tc.wantCode {
				t.Fatalf("error %v, want %s", err, tc.wantCode)
			}
		})
	}
}

// TestRetrieveRedirectRefused checks a redirect is not followed.
func TestRetrieveRedirectRefused(t *testing.T) {
	target := epjtest.NewServer(map[string]epjtest.Doc{"1.2.3.1": {Content: []byte("x")}})
	defer target.Close()
	srv := httptest.NewServer(http.RedirectHandler(target.URL, http.StatusTemporaryRedirect))
	defer srv.Close()
	_, err := clientFor(t, srv, Options{}).Retrieve(context.Background(), repoOID, "1.2.3.1")
	wantRegistryError(t, err, rim.XDSRepositoryError, "document source unavailable")
}

// TestRetrieveRequestIsValid checks the request the client sends against
// the IHE schema and the WS-Addressing headers of ITI TF-2 Appendix V.
func TestRetrieveRequestIsValid(t *testing.T) {
	body, messageID, err := retrieveRequest("https://epj.example/r", repoOID, "1.2.3.1")
	if err != nil {
		t.Fatal(err)
	}
	validateXSD(t, body)
	m, err := soap.ReadMessage(bytes.NewReader(body), soap.ContentTypeSOAP, soap.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	if m.Action != soap.ActionRetrieveDocumentSet || m.MessageID != messageID || m.To != "https://epj.example/r" ||
		m.ReplyTo != soap.NSWSA+"/anonymous" {
		t.Errorf("headers: Action %q MessageID %q To %q ReplyTo %q", m.Action, m.MessageID, m.To, m.ReplyTo)
	}
}

// TestServesNilClient checks a missing client serves nothing.
func TestServesNilClient(t *testing.T) {
	var c *Client
	if c.Serves(repoOID) {
		t.Error("nil client serves")
	}
	_, err := c.Retrieve(context.Background(), repoOID, "1.2.3.1")
	wantRegistryError(t, err, rim.XDSUnknownRepositoryID, "repository "+repoOID+" is not known here")
}

// TestRetrieve100MB retrieves a 100 MB document generated on the fly and
// reports the memory the retrieve took: the document is spooled to disk
// and streamed, so the heap stays far below the document's size.
func TestRetrieve100MB(t *testing.T) {
	if testing.Short() {
		t.Skip("100 MB transfer")
	}
	const size = 100 << 20
	doc := epjtest.Doc{MimeType: "application/pdf", Size: size, Seed: 42}
	srv := epjtest.NewServer(map[string]epjtest.Doc{"1.2.3.100": doc})
	defer srv.Close()
	c := clientFor(t, srv, Options{})

	want := sha256.New()
	io.Copy(want, doc.Open())

	runtime.GC()
	var before runtime.MemStats
	runtime.ReadMemStats(&before)
	var peak atomic.Uint64
	stop := make(chan struct{})
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		var ms runtime.MemStats
		for {
			runtime.ReadMemStats(&ms)
			if ms.HeapInuse > peak.Load() {
				peak.Store(ms.HeapInuse)
			}
			select {
			case <-stop:
				return
			case <-time.After(2 * time.Millisecond):
			}
		}
	}()
	start := time.Now()
	got, err := c.Retrieve(context.Background(), repoOID, "1.2.3.100")
	if err != nil {
		t.Fatal(err)
	}
	h := sha256.New()
	n, err := io.Copy(h, got.Content)
	if err != nil {
		t.Fatal(err)
	}
	got.Content.Close()
	elapsed := time.Since(start)
	close(stop)
	<-sampled
	var after runtime.MemStats
	runtime.ReadMemStats(&after)

	if n != size || got.Size != size || !bytes.Equal(h.Sum(nil), want.Sum(nil)) {
		t.Fatalf("read %d bytes (Size %d), hash equal %v", n, got.Size, bytes.Equal(h.Sum(nil), want.Sum(nil)))
	}
	growth := int64(peak.Load()) - int64(before.HeapInuse)
	t.Logf("100 MiB retrieve in %v: peak heap in use %.1f MiB above the %.1f MiB baseline; %.1f MiB allocated in total (client and fake server)",
		elapsed.Round(time.Millisecond), float64(growth)/(1<<20), float64(before.HeapInuse)/(1<<20),
		float64(after.TotalAlloc-before.TotalAlloc)/(1<<20))
	if growth > 32<<20 {
		t.Errorf("heap grew by %d MiB during a 100 MiB retrieve: the document is being buffered", growth>>20)
	}
	noFiles(t, spoolDir(c))
}
