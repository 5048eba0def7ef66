package main

import (
	"bufio"
	"bytes"
	"crypto/sha1"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"

	"kjdd/test/internal/harness"
)

// generator yields n deterministic pseudo-random bytes (xorshift64*), so a
// document of any size can be streamed and re-derived without storing it.
type generator struct {
	state uint64
	left  int64
	buf   [8]byte
	off   int
}

func newGenerator(n int64) *generator { return &generator{state: 0x9E3779B97F4A7C15, left: n, off: 8} }

func (g *generator) Read(p []byte) (int, error) {
	if g.left <= 0 {
		return 0, io.EOF
	}
	if int64(len(p)) > g.left {
		p = p[:g.left]
	}
	for i := range p {
		if g.off == 8 {
			g.state ^= g.state >> 12
			g.state ^= g.state << 25
			g.state ^= g.state >> 27
			binary.LittleEndian.PutUint64(g.buf[:], g.state*0x2545F4914F6CDD1D)
			g.off = 0
		}
		p[i] = g.buf[g.off]
		g.off++
	}
	g.left -= int64(len(p))
	return len(p), nil
}

// memory is a reading of /proc/PID/status.
type memory struct{ rss, hwm int64 } // bytes

func readMemory(pid int) (memory, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return memory{}, err
	}
	defer f.Close()
	var m memory
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) < 3 || fields[2] != "kB" {
			continue
		}
		v, err := strconv.ParseInt(fields[1], 10, 64)
		if err != nil {
			continue
		}
		switch fields[0] {
		case "VmRSS:":
			m.rss = v << 10
		case "VmHWM:":
			m.hwm = v << 10
		}
	}
	if m.rss == 0 || m.hwm == 0 {
		return m, errors.New("no VmRSS/VmHWM in /proc status")
	}
	return m, sc.Err()
}

// resetPeak resets the process' peak RSS (VmHWM) to its current RSS.
func resetPeak(pid int) error {
	return os.WriteFile(fmt.Sprintf("/proc/%d/clear_refs", pid), []byte("5"), 0)
}

// rssPatient is a synthetic fødselsnummer (month + 80, Skatteetaten's test
// numbers): sperring is decided on national ids, and an entry of any
// other patient id is never shown.
const rssPatient = "02857510049^^^&amp;2.16.578.1.12.4.1.4.1&amp;ISO"

// provideRequest is an IHE-valid ITI-41 submission of one document whose
// content follows as an MTOM part.
func provideRequest(docUID, ssUID string) []byte {
	cl := func(id, scheme, code, system string) string {
		return `<rim:Classification id="` + id + `" classificationScheme="` + scheme + `" classifiedObject="Document01" nodeRepresentation="` + code + `">` +
			`<rim:Slot name="codingScheme"><rim:ValueList><rim:Value>` + system + `</rim:Value></rim:ValueList></rim:Slot>` +
			`<rim:Name><rim:LocalizedString value="` + code + `"/></rim:Name></rim:Classification>`
	}
	slot := func(name, v string) string {
		return `<rim:Slot name="` + name + `"><rim:ValueList><rim:Value>` + v + `</rim:Value></rim:ValueList></rim:Slot>`
	}
	ei := func(id, scheme, obj, v string) string {
		return `<rim:ExternalIdentifier id="` + id + `" identificationScheme="` + scheme + `" registryObject="` + obj + `" value="` + v + `"/>`
	}
	sor := `<lcm:SubmitObjectsRequest xmlns:lcm="urn:oasis:names:tc:ebxml-regrep:xsd:lcm:3.0" xmlns:rim="urn:oasis:names:tc:ebxml-regrep:xsd:rim:3.0"><rim:RegistryObjectList>` +
		`<rim:ExtrinsicObject id="Document01" mimeType="application/octet-stream" objectType="urn:uuid:7edca82f-054d-47f2-a032-9b2a5b5186c1">` +
		slot("creationTime", "20250101120000") + slot("languageCode", "nb-NO") + slot("sourcePatientId", rssPatient) +
		`<rim:Name><rim:LocalizedString value="RSS test document"/></rim:Name>` +
		cl("c1", "urn:uuid:41a5887f-8865-4c09-adf7-e362475b143a", "A00-1", "2.16.578.1.12.4.1.1.9602") +
		cl("c2", "urn:uuid:f0306f51-975f-434e-a61c-c59651d33983", "A01-2", "2.16.578.1.12.4.1.1.9602") +
		cl("c3", "urn:uuid:a09d5840-386c-46f2-b5ad-9c3699a4309d", "urn:ihe:iti:xds:2017:mimeTypeSufficient", "1.3.6.1.4.1.19376.1.2.3") +
		cl("c4", "urn:uuid:f33fb8ac-18af-42cc-ae0e-ed0b0bdb91e1", "86.211", "2.16.578.1.12.4.1.1.1303") +
		cl("c5", "urn:uuid:cccf5598-8b07-4b77-a05e-ae952c785ead", "4", "2.16.578.1.12.4.1.1.8653") +
		cl("c6", "urn:uuid:f4f85eac-e6cb-4883-b524-f2705394840f", "N", "2.16.840.1.113883.5.25") +
		ei("e1", "urn:uuid:58a6f841-87b3-4a3e-92fd-a8ffeff98427", "Document01", rssPatient) +
		ei("e2", "urn:uuid:2e82c1f6-a085-4c72-9da3-8640a32e42ab", "Document01", docUID) +
		`</rim:ExtrinsicObject>` +
		`<rim:RegistryPackage id="SubmissionSet01">` + slot("submissionTime", "20250101120000") +
		`<rim:Classification id="c7" classificationScheme="urn:uuid:aa543740-bdda-424e-8c96-df4873be8500" classifiedObject="SubmissionSet01" nodeRepresentation="A00-1">` +
		`<rim:Slot name="codingScheme"><rim:ValueList><rim:Value>2.16.578.1.12.4.1.1.9602</rim:Value></rim:ValueList></rim:Slot></rim:Classification>` +
		ei("e3", "urn:uuid:96fdda7c-d067-4183-912e-bf5ee74998a8", "SubmissionSet01", ssUID) +
		ei("e4", "urn:uuid:554ac39e-e3fe-47fe-b233-965d2a147832", "SubmissionSet01", harness.HomeCommunityID) +
		ei("e5", "urn:uuid:6b5aea1a-874d-4603-a4bc-96a0a7b38446", "SubmissionSet01", rssPatient) +
		`</rim:RegistryPackage>` +
		`<rim:Classification id="c8" classificationNode="urn:uuid:a54d6aa5-d40d-43f9-88c5-b4633d873bdd" classifiedObject="SubmissionSet01"/>` +
		`<rim:Association id="a1" associationType="urn:oasis:names:tc:ebxml-regrep:AssociationType:HasMember" sourceObject="SubmissionSet01" targetObject="Document01">` +
		slot("SubmissionSetStatus", "Original") + `</rim:Association>` +
		`</rim:RegistryObjectList></lcm:SubmitObjectsRequest>`
	body := `<xdsb:ProvideAndRegisterDocumentSetRequest xmlns:xdsb="urn:ihe:iti:xds-b:2007">` + sor +
		`<xdsb:Document id="Document01">` + harness.XOPInclude("document@kjdd.load") + `</xdsb:Document></xdsb:ProvideAndRegisterDocumentSetRequest>`
	return harness.Envelope("urn:ihe:iti:2007:ProvideAndRegisterDocumentSet-b", body)
}

// register streams the ITI-41 request through a pipe: the document is
// generated while it is sent, never held in memory.
func register(url string, size int64, docUID, authorization string) error {
	pr, pw := io.Pipe()
	w := harness.NewMTOMWriter(pw, "urn:ihe:iti:2007:ProvideAndRegisterDocumentSet-b")
	go func() {
		err := w.WriteRoot(provideRequest(docUID, "2.25.2"+docUID[len("2.25.1"):]))
		if err == nil {
			err = w.WritePart(harness.Part{ContentID: "document@kjdd.load", Body: newGenerator(size)})
		}
		if err == nil {
			err = w.Close()
		}
		pw.CloseWithError(err)
	}()
	req, err := http.NewRequest(http.MethodPost, url, pr)
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", w.ContentType())
	req.Header.Set("Authorization", authorization)
	client := &http.Client{Timeout: 10 * time.Minute}
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return err
	}
	msg, err := harness.ParseMessage(resp.Header.Get("Content-Type"), b)
	if err != nil {
		return fmt.Errorf("ITI-41 answer: %w", err)
	}
	if f := msg.Fault(); f != nil || !strings.HasSuffix(msg.Status(), ":Success") {
		return fmt.Errorf("ITI-41 not accepted: fault %v, status %s, errors %v", f, msg.Status(), msg.ErrorCodes())
	}
	return nil
}

// retrieve streams the ITI-43 answer: the root part is read (bounded), the
// document part goes through SHA-1 to io.Discard.
func retrieve(url, docUID, authorization string) (n int64, sum string, err error) {
	body := `<xdsb:RetrieveDocumentSetRequest xmlns:xdsb="urn:ihe:iti:xds-b:2007"><xdsb:DocumentRequest>` +
		`<xdsb:RepositoryUniqueId>` + harness.RepositoryUniqueID + `</xdsb:RepositoryUniqueId>` +
		`<xdsb:DocumentUniqueId>` + docUID + `</xdsb:DocumentUniqueId></xdsb:DocumentRequest></xdsb:RetrieveDocumentSetRequest>`
	req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(harness.Envelope("urn:ihe:iti:2007:RetrieveDocumentSet", body)))
	if err != nil {
		return 0, "", err
	}
	req.Header.Set("Content-Type", harness.ContentTypeSOAP)
	req.Header.Set("Authorization", authorization)
	client := &http.Client{Timeout: 10 * time.Minute}
	resp, err := client.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	mt, params, err := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/related" {
		return 0, "", fmt.Errorf("ITI-43 answer is %q, want MTOM multipart/related", resp.Header.Get("Content-Type"))
	}
	mr := multipart.NewReader(resp.Body, params["boundary"])
	var cid string
	for i := 0; i < 8; i++ {
		p, err := mr.NextRawPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			return 0, "", err
		}
		id := strings.Trim(p.Header.Get("Content-ID"), "<> ")
		if cid == "" {
			root, err := io.ReadAll(io.LimitReader(p, 1<<20+1))
			if err != nil {
				return 0, "", err
			}
			if len(root) > 1<<20 {
				return 0, "", errors.New("ITI-43 root part over 1 MiB: the document is inlined, not an MTOM part")
			}
			if !bytes.Contains(root, []byte("ResponseStatusType:Success")) {
				return 0, "", fmt.Errorf("ITI-43 not successful: %.2000s", root)
			}
			i := bytes.Index(root, []byte(`href="cid:`))
			if i < 0 {
				return 0, "", errors.New("ITI-43 root part has no xop:Include")
			}
			rest := root[i+len(`href="cid:`):]
			cid = string(rest[:bytes.IndexByte(rest, '"')])
			continue
		}
		if id != cid {
			continue
		}
		h := sha1.New()
		n, err := io.Copy(h, p)
		if err != nil {
			return 0, "", err
		}
		return n, hex.EncodeToString(h.Sum(nil)), nil
	}
	return 0, "", errors.New("ITI-43 answer has no document part")
}

func rss(c config, bin, dir string, id *identity, out io.Writer, logf func(string, ...any)) error {
	h := sha1.New()
	if _, err := io.Copy(h, newGenerator(c.size)); err != nil {
		return err
	}
	want := hex.EncodeToString(h.Sum(nil))
	epj, err := id.authorization(true)
	if err != nil {
		return err
	}
	practitioner, err := id.authorization(false)
	if err != nil {
		return err
	}
	p, err := startKJDD(bin, dir, id)
	if err != nil {
		return err
	}
	defer func() { _ = p.Stop() }()
	docUID := fmt.Sprintf("2.25.1%d", time.Now().UnixNano())
	before, err := readMemory(p.PID)
	if err != nil {
		return err
	}
	if err := resetPeak(p.PID); err != nil {
		return fmt.Errorf("reset peak RSS: %w", err)
	}
	logf("registering a %d-byte document (ITI-41, MTOM, streamed)", c.size)
	t0 := time.Now()
	if err := register(p.URL+harness.PathRepository, c.size, docUID, epj); err != nil {
		return fmt.Errorf("%w\nkjdd output:\n%s", err, p.Logs())
	}
	regTime := time.Since(t0)
	afterReg, err := readMemory(p.PID)
	if err != nil {
		return err
	}
	if err := resetPeak(p.PID); err != nil {
		return err
	}
	beforeGet, err := readMemory(p.PID)
	if err != nil {
		return err
	}
	logf("retrieving it (ITI-43, streamed to SHA-1)")
	t1 := time.Now()
	n, sum, err := retrieve(p.URL+harness.PathRepository, docUID, practitioner)
	if err != nil {
		return fmt.Errorf("%w\nkjdd output:\n%s", err, p.Logs())
	}
	getTime := time.Since(t1)
	afterGet, err := readMemory(p.PID)
	if err != nil {
		return err
	}
	if n != c.size || sum != want {
		return fmt.Errorf("retrieved %d bytes with SHA-1 %s, want %d bytes with %s", n, sum, c.size, want)
	}
	fmt.Fprintf(out, "| step | document | time | VmRSS before | peak VmHWM | peak growth |\n|---|---:|---:|---:|---:|---:|\n")
	fmt.Fprintf(out, "| ITI-41 register (MTOM) | %s | %s | %s | %s | %s |\n", mib(c.size), regTime.Round(time.Millisecond), mib(before.rss), mib(afterReg.hwm), mib(afterReg.hwm-before.rss))
	fmt.Fprintf(out, "| ITI-43 retrieve (MTOM) | %s | %s | %s | %s | %s |\n", mib(c.size), getTime.Round(time.Millisecond), mib(beforeGet.rss), mib(afterGet.hwm), mib(afterGet.hwm-beforeGet.rss))
	fmt.Fprintf(out, "\nRetrieved document verified: %d bytes, SHA-1 %s.\n", n, sum)
	return p.Stop()
}

func mib(b int64) string { return fmt.Sprintf("%.1f MiB", float64(b)/(1<<20)) }

// kjddBinary returns the kjdd binary: -bin, else $KJDD_TEST_BINARY, else
// one built into dir.
func kjddBinary(c config, dir string) (string, error) {
	if c.bin != "" {
		return c.bin, nil
	}
	if p := os.Getenv(harness.BinaryEnv); p != "" {
		return p, nil
	}
	return harness.Build(dir)
}
