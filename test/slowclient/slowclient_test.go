package slowclient

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"kjdd/test/internal/harness"
)

func TestMain(m *testing.M) { os.Exit(harness.Run(m)) }

// The settings under test, short so that the test takes seconds.
const (
	headerTimeout = 2 * time.Second
	idleTimeout   = 2 * time.Second
	grace         = time.Second
	bodyRate      = 64 << 10 // the default
	writeRate     = 1 << 20
	// slack is what a bound may be overshot by on a shared, busy machine.
	slack = 1500 * time.Millisecond
)

func start(t *testing.T) *harness.Server {
	return harness.Start(t, harness.Options{Env: map[string]string{
		"KJDD_READ_HEADER_TIMEOUT": headerTimeout.String(),
		"KJDD_IDLE_TIMEOUT":        idleTimeout.String(),
		"KJDD_BODY_GRACE":          grace.String(),
		"KJDD_MIN_BODY_RATE":       fmt.Sprint(bodyRate),
		"KJDD_MIN_WRITE_RATE":      fmt.Sprint(writeRate),
	}})
}

// patient is a synthetic fødselsnummer (Skatteetaten's test range); the
// trickled bodies carry it too, and it must not reach the log.
const patient = "02857510049"

// trickle opens a connection, writes head at once and then rest a byte
// every interval until kjdd closes the connection; it returns the time
// from the first byte to the close and what kjdd answered.
func trickle(addr, head, rest string, interval time.Duration) (took time.Duration, answer string, err error) {
	c, err := net.Dial("tcp", addr)
	if err != nil {
		return 0, "", err
	}
	defer c.Close()
	begin := time.Now()
	if _, err := io.WriteString(c, head); err != nil {
		return 0, "", err
	}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		for i := 0; i < len(rest); i++ {
			select {
			case <-stop:
				return
			case <-time.After(interval):
			}
			if _, err := c.Write([]byte{rest[i]}); err != nil {
				return
			}
		}
	})
	// Whatever kjdd writes, up to its close (EOF or a reset).
	_ = c.SetReadDeadline(time.Now().Add(time.Minute))
	got, rerr := io.ReadAll(c)
	took = time.Since(begin)
	close(stop)
	wg.Wait()
	if rerr != nil && !errors.Is(rerr, syscall.ECONNRESET) {
		return took, string(got), rerr
	}
	return took, string(got), nil
}

// TestTricklingClientsAreCut: five clients trickle a request's headers
// and five its body, a byte every 300 ms, as the red team's did; kjdd
// closes each within its bound (header timeout; grace for the body, which
// is answered 408 first) and an idle keep-alive connection after the idle
// timeout, answers an ITI-38 query on another connection
// meanwhile, and logs the cut bodies without their content.
func TestTricklingClientsAreCut(t *testing.T) {
	srv := start(t)
	const n = 5
	const interval = 300 * time.Millisecond
	body := string(harness.Envelope(harness.ActionCrossGatewayQuery, findDocuments(harness.CX(patient))))
	heads := map[string]string{
		"header": "POST /xca HTTP/1.1\r\nHost: kjdd\r\nContent-Type: " + harness.ContentTypeSOAP + "\r\n",
		"body": "POST /xca HTTP/1.1\r\nHost: kjdd\r\nContent-Type: " + harness.ContentTypeSOAP +
			"\r\nContent-Length: " + fmt.Sprint(len(body)) + "\r\n\r\n",
	}
	type result struct {
		kind   string
		took   time.Duration
		answer string
		err    error
	}
	results := make(chan result, 2*n)
	for kind, head := range heads {
		for range n {
			go func() {
				rest := body
				if kind == "header" {
					// Headers that never end.
					rest = strings.Repeat("X-Padding: "+patient+"\r\n", 100)
					head, rest = head[:1], head[1:]+rest
				}
				took, answer, err := trickle(srv.Addr, head, rest, interval)
				results <- result{kind, took, answer, err}
			}()
		}
	}

	// A keep-alive connection that asks once and then idles.
	idle := make(chan result, 1)
	go func() {
		c, err := net.Dial("tcp", srv.Addr)
		if err != nil {
			idle <- result{err: err}
			return
		}
		defer c.Close()
		if _, err := io.WriteString(c, "GET /healthz HTTP/1.1\r\nHost: kjdd\r\n\r\n"); err != nil {
			idle <- result{err: err}
			return
		}
		br := bufio.NewReader(c)
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			idle <- result{err: err}
			return
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		answered := time.Now()
		_ = c.SetReadDeadline(time.Now().Add(time.Minute))
		_, err = br.ReadByte()
		if errors.Is(err, io.EOF) || errors.Is(err, syscall.ECONNRESET) {
			err = nil
		}
		idle <- result{kind: "idle", took: time.Since(answered), err: err}
	}()

	// Meanwhile a query on another connection is answered, promptly.
	time.Sleep(500 * time.Millisecond)
	began := time.Now()
	resp := srv.SOAP(t, harness.PathXCA, harness.Envelope(harness.ActionCrossGatewayQuery, findDocuments(harness.CX(patient))), harness.ContentTypeSOAP)
	if f := resp.Fault(); f != nil || resp.Status() != harness.StatusSuccess {
		t.Fatalf("ITI-38 beside the slow clients: fault %v, status %s", f, resp.Status())
	}
	t.Logf("ITI-38 beside %d trickling connections answered in %v", 2*n, time.Since(began).Round(time.Millisecond))

	bound := map[string][2]time.Duration{
		"header": {headerTimeout, headerTimeout + slack},
		"body":   {grace, grace + slack},
	}
	longest := map[string]time.Duration{}
	for range 2 * n {
		r := <-results
		if r.err != nil {
			t.Errorf("%s trickle: %v", r.kind, r.err)
			continue
		}
		longest[r.kind] = max(longest[r.kind], r.took)
		if b := bound[r.kind]; r.took < b[0]-100*time.Millisecond || r.took > b[1] {
			t.Errorf("%s trickle closed after %v, want between %v and %v", r.kind, r.took, b[0], b[1])
		}
		if r.kind == "body" && !strings.HasPrefix(r.answer, "HTTP/1.1 408 ") {
			t.Errorf("body trickle answered %q, want 408", clip(r.answer))
		}
		if r.kind == "body" && !strings.Contains(r.answer, "slower than the minimum rate") {
			t.Errorf("body trickle: the fault does not say why: %q", clip(r.answer))
		}
	}
	if r := <-idle; r.err != nil {
		t.Errorf("idle connection: %v", r.err)
	} else {
		t.Logf("idle keep-alive connection closed %v after its answer (idle timeout %v)", r.took.Round(time.Millisecond), idleTimeout)
		if r.took < idleTimeout-100*time.Millisecond || r.took > idleTimeout+slack {
			t.Errorf("idle connection closed after %v, want about %v", r.took, idleTimeout)
		}
	}
	t.Logf("longest hold: header trickle %v (timeout %v), body trickle %v (grace %v)",
		longest["header"].Round(time.Millisecond), headerTimeout, longest["body"].Round(time.Millisecond), grace)

	logs := srv.Logs()
	if got := strings.Count(logs, "request body too slow"); got != n {
		t.Errorf("%d cut bodies logged, want %d", got, n)
	}
	if strings.Contains(logs, patient) {
		t.Errorf("the log quotes a trickled request:\n%s", logs)
	}
}

// TestLargeTransfersAtNormalRate: with the minimum rates in force, an
// ITI-41 of a 32 MiB document, sent at the client's normal speed, is
// registered and retrieved whole; a client that stops reading that
// retrieve is cut off once it falls below the write rate.
func TestLargeTransfersAtNormalRate(t *testing.T) {
	srv := start(t)
	const size = 32 << 20
	doc := make([]byte, size)
	if _, err := rand.Read(doc); err != nil {
		t.Fatal(err)
	}
	uid := newUID(t)
	began := time.Now()
	srv.Provide(t, provideRequest(harness.CX(patient), uid),
		harness.Document{ID: "Document01", ContentType: "application/octet-stream", Body: bytes.NewReader(doc)})
	t.Logf("ITI-41 of %d MiB registered in %v (minimum body rate %d B/s)", size>>20, time.Since(began).Round(time.Millisecond), bodyRate)

	began = time.Now()
	resp := srv.SOAP(t, harness.PathRepository, harness.Envelope(harness.ActionRetrieve, retrieveRequest(uid)), harness.ContentTypeSOAP)
	docs, err := resp.Documents()
	if err != nil || !bytes.Equal(docs[uid], doc) {
		t.Fatalf("ITI-43 of the %d MiB document: %v, %d bytes back", size>>20, err, len(docs[uid]))
	}
	t.Logf("ITI-43 of %d MiB retrieved in %v (minimum write rate %d B/s)", size>>20, time.Since(began).Round(time.Millisecond), writeRate)

	// A client that reads the answer's headers and then nothing: a small
	// receive window, so that what the kernels hold is small beside
	// the document.
	dialer := &net.Dialer{Control: func(_, _ string, c syscall.RawConn) error {
		var serr error
		err := c.Control(func(fd uintptr) { serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 4096) })
		return errors.Join(err, serr)
	}}
	stalled := srv.With(harness.AuthAuto)
	stalled.Client = &http.Client{Transport: &http.Transport{DialContext: dialer.DialContext, DisableCompression: true}}
	began = time.Now()
	r := stalled.Post(t, harness.PathRepository, harness.ContentTypeSOAP,
		bytes.NewReader(harness.Envelope(harness.ActionRetrieve, retrieveRequest(uid))), nil)
	defer r.Body.Close()
	var took time.Duration
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for ctx.Err() == nil && took == 0 {
		if strings.Contains(srv.Logs(), "answer read too slowly") {
			took = time.Since(began)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if took == 0 {
		t.Fatal("a client that stopped reading a retrieve was not cut off within 30 s")
	}
	n, _ := io.Copy(io.Discard, bufio.NewReader(r.Body))
	if n >= size {
		t.Errorf("the stalled client still got the whole document (%d bytes)", n)
	}
	t.Logf("a client that stopped reading a %d MiB retrieve was cut off after %v (grace %v, write rate %d B/s), having received %d bytes",
		size>>20, took.Round(time.Millisecond), grace, writeRate, n)
	if took > grace+8*time.Second {
		t.Errorf("cut off after %v, want within %v", took, grace+8*time.Second)
	}
}

func clip(s string) string {
	if len(s) > 300 {
		return s[:300] + "…"
	}
	return s
}

func newUID(t *testing.T) string {
	n, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 100))
	if err != nil {
		t.Fatal(err)
	}
	return "2.25." + n.String()
}

func findDocuments(patient string) string {
	return `<query:AdhocQueryRequest xmlns:query="urn:oasis:names:tc:ebxml-regrep:xsd:query:3.0" xmlns:rim="urn:oasis:names:tc:ebxml-regrep:xsd:rim:3.0">` +
		`<query:ResponseOption returnType="ObjectRef" returnComposedObjects="true"/>` +
		`<rim:AdhocQuery id="urn:uuid:14d4debf-8f97-4251-9a74-a90016b0af0d">` +
		`<rim:Slot name="$XDSDocumentEntryPatientId"><rim:ValueList><rim:Value>'` + harness.XMLEscape(patient) + `'</rim:Value></rim:ValueList></rim:Slot>` +
		`<rim:Slot name="$XDSDocumentEntryStatus"><rim:ValueList><rim:Value>('urn:oasis:names:tc:ebxml-regrep:StatusType:Approved')</rim:Value></rim:ValueList></rim:Slot>` +
		`</rim:AdhocQuery></query:AdhocQueryRequest>`
}

func retrieveRequest(uid string) string {
	return `<xdsb:RetrieveDocumentSetRequest xmlns:xdsb="urn:ihe:iti:xds-b:2007"><xdsb:DocumentRequest>` +
		`<xdsb:RepositoryUniqueId>` + harness.RepositoryUniqueID + `</xdsb:RepositoryUniqueId>` +
		`<xdsb:DocumentUniqueId>` + uid + `</xdsb:DocumentUniqueId></xdsb:DocumentRequest></xdsb:RetrieveDocumentSetRequest>`
}

// provideRequest is the SubmitObjectsRequest of an ITI-41 of one document
// (xdsb:Document Document01) with uniqueId uid for patient (a CX).
func provideRequest(patient, uid string) string {
	p := harness.XMLEscape(patient)
	slot := func(name, v string) string {
		return `<rim:Slot name="` + name + `"><rim:ValueList><rim:Value>` + v + `</rim:Value></rim:ValueList></rim:Slot>`
	}
	code := func(obj, scheme, code, system string) string {
		return `<rim:Classification id="` + harness.NewUUIDURN() + `" classificationScheme="` + scheme + `" classifiedObject="` + obj + `" nodeRepresentation="` + code + `">` +
			slot("codingScheme", system) + `<rim:Name><rim:LocalizedString value="` + code + `"/></rim:Name></rim:Classification>`
	}
	id := func(scheme, obj, v string) string {
		return `<rim:ExternalIdentifier id="` + harness.NewUUIDURN() + `" identificationScheme="` + scheme + `" registryObject="` + obj + `" value="` + v + `"/>`
	}
	const volven = "2.16.578.1.12.4.1.1.9602"
	return `<lcm:SubmitObjectsRequest xmlns:lcm="urn:oasis:names:tc:ebxml-regrep:xsd:lcm:3.0" xmlns:rim="urn:oasis:names:tc:ebxml-regrep:xsd:rim:3.0"><rim:RegistryObjectList>` +
		`<rim:ExtrinsicObject id="Document01" mimeType="application/octet-stream" objectType="urn:uuid:7edca82f-054d-47f2-a032-9b2a5b5186c1">` +
		slot("creationTime", "20250101120000") + slot("languageCode", "nb-NO") + slot("sourcePatientId", p) +
		`<rim:Name><rim:LocalizedString value="Slow-client test document"/></rim:Name>` +
		code("Document01", "urn:uuid:41a5887f-8865-4c09-adf7-e362475b143a", "A00-1", volven) +
		code("Document01", "urn:uuid:f0306f51-975f-434e-a61c-c59651d33983", "A01-2", volven) +
		code("Document01", "urn:uuid:a09d5840-386c-46f2-b5ad-9c3699a4309d", "urn:ihe:iti:xds:2017:mimeTypeSufficient", "1.3.6.1.4.1.19376.1.2.3") +
		code("Document01", "urn:uuid:f33fb8ac-18af-42cc-ae0e-ed0b0bdb91e1", "86.211", "2.16.578.1.12.4.1.1.1303") +
		code("Document01", "urn:uuid:cccf5598-8b07-4b77-a05e-ae952c785ead", "4", "2.16.578.1.12.4.1.1.8653") +
		code("Document01", "urn:uuid:f4f85eac-e6cb-4883-b524-f2705394840f", "N", "2.16.840.1.113883.5.25") +
		id("urn:uuid:58a6f841-87b3-4a3e-92fd-a8ffeff98427", "Document01", p) +
		id("urn:uuid:2e82c1f6-a085-4c72-9da3-8640a32e42ab", "Document01", uid) +
		`</rim:ExtrinsicObject>` +
		`<rim:RegistryPackage id="SubmissionSet01">` + slot("submissionTime", "20250101120000") +
		`<rim:Classification id="` + harness.NewUUIDURN() + `" classificationScheme="urn:uuid:aa543740-bdda-424e-8c96-df4873be8500" classifiedObject="SubmissionSet01" nodeRepresentation="A00-1">` +
		slot("codingScheme", volven) + `</rim:Classification>` +
		id("urn:uuid:96fdda7c-d067-4183-912e-bf5ee74998a8", "SubmissionSet01", uid+".1") +
		id("urn:uuid:554ac39e-e3fe-47fe-b233-965d2a147832", "SubmissionSet01", harness.HomeCommunityID) +
		id("urn:uuid:6b5aea1a-874d-4603-a4bc-96a0a7b38446", "SubmissionSet01", p) +
		`</rim:RegistryPackage>` +
		`<rim:Classification id="` + harness.NewUUIDURN() + `" classificationNode="urn:uuid:a54d6aa5-d40d-43f9-88c5-b4633d873bdd" classifiedObject="SubmissionSet01"/>` +
		`<rim:Association id="` + harness.NewUUIDURN() + `" associationType="urn:oasis:names:tc:ebxml-regrep:AssociationType:HasMember" sourceObject="SubmissionSet01" targetObject="Document01">` +
		slot("SubmissionSetStatus", "Original") + `</rim:Association>` +
		`</rim:RegistryObjectList></lcm:SubmitObjectsRequest>`
}
