package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"kjdd/test/internal/harness"
	"kjdd/test/testkit/xsd"
)

// findDocuments is the ITI-38 request of the throughput scenario, with
// security (a wsse:Security header) unless it is empty.
func findDocuments(security string) []byte {
	pid := strings.ReplaceAll(targetPatient, "&", "&amp;")
	body := `<query:AdhocQueryRequest xmlns:query="urn:oasis:names:tc:ebxml-regrep:xsd:query:3.0" xmlns:rim="urn:oasis:names:tc:ebxml-regrep:xsd:rim:3.0">` +
		`<query:ResponseOption returnComposedObjects="true" returnType="LeafClass"/>` +
		`<rim:AdhocQuery id="urn:uuid:14d4debf-8f97-4251-9a74-a90016b0af0d">` +
		`<rim:Slot name="$XDSDocumentEntryPatientId"><rim:ValueList><rim:Value>'` + pid + `'</rim:Value></rim:ValueList></rim:Slot>` +
		`<rim:Slot name="$XDSDocumentEntryStatus"><rim:ValueList><rim:Value>('urn:oasis:names:tc:ebxml-regrep:StatusType:Approved')</rim:Value></rim:ValueList></rim:Slot>` +
		`</rim:AdhocQuery></query:AdhocQueryRequest>`
	var opts []harness.EnvelopeOption
	if security != "" {
		opts = append(opts, harness.WithHeader(security))
	}
	return harness.Envelope("urn:ihe:iti:2007:CrossGatewayQuery", body, opts...)
}

// result is one load measurement.
type result struct {
	name     string
	requests int
	errors   int
	elapsed  time.Duration
	p50, p99 time.Duration
	// cpuSelf is the CPU time of this process (the load generator, and the
	// bare server when it is the one loaded); cpuServer that of kjdd.
	cpuSelf, cpuServer time.Duration
}

// perRequest is d divided among the result's requests.
func (r result) perRequest(d time.Duration) time.Duration {
	if r.requests == 0 {
		return 0
	}
	return d / time.Duration(r.requests)
}

func (r result) rps() float64 { return float64(r.requests) / r.elapsed.Seconds() }

// load sends body to url with c.workers keep-alive workers until
// c.duration has passed or c.maxRequests were sent. An answer with another
// status than want counts as an error.
func load(c config, name, url string, body []byte, want int, serverPID int) (result, error) {
	tr := &http.Transport{
		MaxIdleConns: c.workers, MaxIdleConnsPerHost: c.workers, MaxConnsPerHost: c.workers,
		DisableCompression: true, IdleConnTimeout: time.Minute,
		DialContext: (&net.Dialer{Timeout: 5 * time.Second}).DialContext,
	}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, Timeout: 30 * time.Second}
	var sent, failed atomic.Int64
	deadline := time.Now().Add(c.duration)
	lat := make([][]time.Duration, c.workers)
	perWorker := c.maxRequests/c.workers + 1
	var wg sync.WaitGroup
	cpu := startCPU(serverPID)
	start := time.Now()
	for w := 0; w < c.workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			l := make([]time.Duration, 0, min(perWorker, 1<<20))
			for time.Now().Before(deadline) && sent.Add(1) <= int64(c.maxRequests) {
				t0 := time.Now()
				if err := post(client, url, body, want); err != nil {
					failed.Add(1)
					continue
				}
				l = append(l, time.Since(t0))
			}
			lat[w] = l
		}(w)
	}
	wg.Wait()
	elapsed := time.Since(start)
	cpuSelf, cpuServer := cpu.stop()
	var all []time.Duration
	for _, l := range lat {
		all = append(all, l...)
	}
	if len(all) == 0 {
		return result{}, fmt.Errorf("%s: no successful request (%d failed)", name, failed.Load())
	}
	sort.Slice(all, func(i, j int) bool { return all[i] < all[j] })
	return result{
		name: name, requests: len(all), errors: int(failed.Load()), elapsed: elapsed,
		p50: all[len(all)*50/100], p99: all[min(len(all)-1, len(all)*99/100)],
		cpuSelf: cpuSelf, cpuServer: cpuServer,
	}, nil
}

func post(client *http.Client, url string, body []byte, want int) error {
	resp, err := client.Post(url, harness.ContentTypeSOAP, bytes.NewReader(body))
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if _, err := io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<20)); err != nil {
		return err
	}
	if resp.StatusCode != want {
		return fmt.Errorf("HTTP %d", resp.StatusCode)
	}
	return nil
}

// capture sends one request and returns the answer's bytes, type and
// status, after checking it is what the benchmark claims to measure: the
// target patient's documents, or without auth the wsse:InvalidSecurity
// refusal.
func capture(url string, body []byte, auth bool) ([]byte, string, int, error) {
	resp, err := http.Post(url, harness.ContentTypeSOAP, bytes.NewReader(body))
	if err != nil {
		return nil, "", 0, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return nil, "", 0, err
	}
	ct := resp.Header.Get("Content-Type")
	msg, err := harness.ParseMessage(ct, b)
	if err != nil {
		return nil, "", 0, fmt.Errorf("answer is not SOAP: %w", err)
	}
	f := msg.Fault()
	switch {
	case !auth && (f == nil || f.Subcode != "wsse:InvalidSecurity"):
		return nil, "", 0, fmt.Errorf("answer without credentials is %v, want a wsse:InvalidSecurity fault", f)
	case auth && f != nil:
		return nil, "", 0, fmt.Errorf("answer is a fault: %s", f)
	case auth:
		if n := msg.Contents().Documents; n != targetEntries || !strings.HasSuffix(msg.Status(), ":Success") {
			return nil, "", 0, fmt.Errorf("answer has status %s and %d documents, want Success and %d", msg.Status(), n, targetEntries)
		}
	}
	if xsd.Available() {
		if err := harness.CheckMessage(msg); err != nil {
			return nil, "", 0, err
		}
	}
	return b, ct, resp.StatusCode, nil
}

// bareServer answers every request with status and body: the floor of
// what any Go HTTP server costs on this machine for this response.
func bareServer(body []byte, contentType string, status int) (string, func(), error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	srv := &http.Server{
		ReadHeaderTimeout: 10 * time.Second,
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			_, _ = io.Copy(io.Discard, r.Body) // read the request, as kjdd must
			w.Header().Set("Content-Type", contentType)
			w.WriteHeader(status)
			_, _ = w.Write(body)
		}),
	}
	go func() { _ = srv.Serve(l) }()
	stop := func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
	}
	return "http://" + l.Addr().String(), stop, nil
}

// startKJDD launches kjdd on dir's store (ihe profile: the load's
// metadata is generic IHE, the cost of a query does not depend on it),
// trusting id.
func startKJDD(bin, dir string, id *identity) (*harness.Process, error) {
	env := id.env()
	env["KJDD_METADATA_PROFILE"] = "ihe"
	// A binary built with -tags pprof serves profiles here (cmd/kjdd/pprof.go).
	if addr := os.Getenv("KJDD_PPROF_ADDR"); addr != "" {
		env["KJDD_PPROF_ADDR"] = addr
	}
	return harness.Launch(bin, harness.Options{Dir: dir, Env: env, ReadyTimeout: 2 * time.Minute})
}

// measured is one kjdd measurement with the answer it gave, for the bare
// server to repeat.
type measured struct {
	result
	request, answer []byte
	contentType     string
	status          int
}

// measureKJDD seeds n entries, starts kjdd and loads it.
func measureKJDD(c config, bin, dir string, n int, id *identity, logf func(string, ...any)) (measured, error) {
	if _, err := seedStore(dir, n, logf); err != nil {
		return measured{}, err
	}
	p, err := startKJDD(bin, dir, id)
	if err != nil {
		return measured{}, err
	}
	sec, err := id.security(targetPatient)
	if err != nil {
		_ = p.Stop()
		return measured{}, err
	}
	m := measured{request: findDocuments(sec)}
	url := p.URL + harness.PathXCA
	m.answer, m.contentType, m.status, err = capture(url, m.request, c.auth)
	if err == nil {
		what := "one XUA assertion, its checks on every request"
		if !c.auth {
			what = "no credentials, refused"
		}
		logf("loading kjdd (%d entries) with %d workers for %s", n, c.workers, c.duration)
		m.result, err = load(c, fmt.Sprintf("kjdd ITI-38 FindDocuments, LeafClass, %d of %d entries, %s", targetEntries, n, what), url, m.request, m.status, p.PID)
		if stopErr := p.Stop(); err == nil && stopErr != nil {
			err = stopErr
		}
		if err != nil {
			return measured{}, fmt.Errorf("%w\nkjdd output:\n%s", err, p.Logs())
		}
		return m, nil
	}
	_ = p.Stop()
	return measured{}, fmt.Errorf("%w\nkjdd output:\n%s", err, p.Logs())
}

func throughput(c config, bin, dir string, id *identity, out io.Writer, logf func(string, ...any)) error {
	m, err := measureKJDD(c, bin, dir, c.entries, id, logf)
	if err != nil {
		return err
	}
	kr := m.result
	url, stop, err := bareServer(m.answer, m.contentType, m.status)
	if err != nil {
		return err
	}
	defer stop()
	logf("loading the bare net/http server with the same %d-byte request and answer", len(m.answer))
	br, err := load(c, fmt.Sprintf("bare Go net/http, same %d request and %d response bytes", len(m.request), len(m.answer)), url, m.request, m.status, 0)
	if err != nil {
		return err
	}
	printTable(out, c, []result{kr, br})
	fmt.Fprintf(out, "\nkjdd reaches %.1f%% of the bare server's throughput (ratio %.3f).\n", 100*kr.rps()/br.rps(), kr.rps()/br.rps())
	fmt.Fprintf(out, "CPU per request: kjdd %s, the load generator beside it %s; the bare server and the load generator together %s.\n",
		fmtDur(kr.perRequest(kr.cpuServer)), fmtDur(kr.perRequest(kr.cpuSelf)), fmtDur(br.perRequest(br.cpuSelf)))
	return nil
}

func scale(c config, bin, dir string, id *identity, out io.Writer, logf func(string, ...any)) error {
	sizes := []int{1_000, 1_000_000}
	var rs []result
	for _, n := range sizes {
		m, err := measureKJDD(c, bin, dir, n, id, logf)
		if err != nil {
			return err
		}
		rs = append(rs, m.result)
	}
	printTable(out, c, rs)
	if rs[0].p50 <= 0 {
		return errors.New("p50 at 1,000 entries is zero")
	}
	fmt.Fprintf(out, "\np50 at 1,000,000 entries is %.2f× p50 at 1,000 entries.\n", float64(rs[1].p50)/float64(rs[0].p50))
	return nil
}

func printTable(out io.Writer, c config, rs []result) {
	fmt.Fprintf(out, "| scenario | workers | duration | requests | errors | req/s | p50 | p99 |\n")
	fmt.Fprintf(out, "|---|---:|---:|---:|---:|---:|---:|---:|\n")
	for _, r := range rs {
		fmt.Fprintf(out, "| %s | %d | %s | %d | %d | %.0f | %s | %s |\n",
			r.name, c.workers, r.elapsed.Round(time.Millisecond), r.requests, r.errors, r.rps(), fmtDur(r.p50), fmtDur(r.p99))
	}
}

func fmtDur(d time.Duration) string {
	switch {
	case d < time.Millisecond:
		return fmt.Sprintf("%d µs", d.Microseconds())
	default:
		return fmt.Sprintf("%.2f ms", float64(d.Microseconds())/1000)
	}
}
