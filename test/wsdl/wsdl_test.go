package wsdl

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"errors"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path"
	"sort"
	"strings"
	"testing"

	"kjdd/test/internal/harness"
	"kjdd/test/testkit/paths"
)

func TestMain(m *testing.M) { os.Exit(harness.Run(m)) }

// python is Debian's interpreter, where python3-zeep installs; a pyenv
// python earlier on PATH would not have it.
const python = "/usr/bin/python3"

// w3cXMLSchema is imported by ebRS rim.xsd by its absolute URL; kjdd
// serves the same file at /xsd/w3c/xml.xsd for clients that map it.
const w3cXMLSchema = "http://www.w3.org/2001/xml.xsd"

// endpoints are the SOAP endpoints and the operations (name → SOAP
// action) their WSDLs must bind, named as in IHE's WSDLs.
var endpoints = []struct {
	name, path string
	ops        map[string]string
}{
	{"xca", harness.PathXCA, map[string]string{
		"RespondingGateway_CrossGatewayQuery":    "urn:ihe:iti:2007:CrossGatewayQuery",
		"RespondingGateway_CrossGatewayRetrieve": "urn:ihe:iti:2007:CrossGatewayRetrieve",
	}},
	{"registry", harness.PathRegistry, map[string]string{
		"DocumentRegistry_RegistryStoredQuery":   "urn:ihe:iti:2007:RegistryStoredQuery",
		"DocumentRegistry_RegisterDocumentSet-b": "urn:ihe:iti:2007:RegisterDocumentSet-b",
	}},
	{"repository", harness.PathRepository, map[string]string{
		"DocumentRepository_ProvideAndRegisterDocumentSet-b": "urn:ihe:iti:2007:ProvideAndRegisterDocumentSet-b",
		"DocumentRepository_RetrieveDocumentSet":             "urn:ihe:iti:2007:RetrieveDocumentSet",
	}},
}

// zeepOperation is one operation as testdata/bind.py reports it.
type zeepOperation struct {
	Service, Port, Address, Operation, Action string
	Input, Output                             string
}

// TestZeepBindsOperations loads each served WSDL with python-zeep over
// HTTP and checks that it binds exactly the endpoint's operations, with
// their actions, the endpoint's address and resolved body elements. It
// fails, not skips, without zeep: .ci/run and `make deps` install it.
func TestZeepBindsOperations(t *testing.T) {
	if out, err := exec.Command(python, "-c", "import zeep").CombinedOutput(); err != nil {
		t.Fatalf("python-zeep is missing (apt-get install python3-zeep): %v\n%s", err, out)
	}
	srv := harness.Start(t, harness.Options{})
	script, err := paths.Repo("test", "wsdl", "testdata", "bind.py")
	if err != nil {
		t.Fatal(err)
	}
	for _, ep := range endpoints {
		t.Run(ep.name, func(t *testing.T) {
			var stderr bytes.Buffer
			cmd := exec.Command(python, script, srv.URL, ep.path+"?wsdl")
			cmd.Stderr = &stderr
			out, err := cmd.Output()
			if err != nil {
				t.Fatalf("zeep: %v\n%s", err, stderr.String())
			}
			var got struct {
				Operations []zeepOperation
				Loaded     []string
			}
			if err := json.Unmarshal(out, &got); err != nil {
				t.Fatalf("zeep output: %v\n%s", err, out)
			}
			t.Logf("zeep loaded %s", strings.Join(got.Loaded, " "))
			bound := map[string]string{}
			for _, op := range got.Operations {
				bound[op.Operation] = op.Action
				if op.Address != srv.URL+ep.path {
					t.Errorf("%s: address %q, want %q", op.Operation, op.Address, srv.URL+ep.path)
				}
				if op.Input == "" || op.Output == "" {
					t.Errorf("%s: body elements not resolved (input %q, output %q)", op.Operation, op.Input, op.Output)
				}
			}
			if len(bound) != len(ep.ops) {
				t.Errorf("zeep bound %v, want %v", bound, ep.ops)
			}
			for name, action := range ep.ops {
				if bound[name] != action {
					t.Errorf("operation %s: bound with action %q, want %q", name, bound[name], action)
				}
			}
		})
	}
}

// TestSchemaLocationsResolve fetches each served WSDL and, transitively,
// every schemaLocation in it and in the schemas it reaches: each is
// well-formed XML, each location resolves on the running server (W3C's
// xml.xsd through kjdd's copy), and each schema is the official file of
// the conformance corpus byte for byte.
func TestSchemaLocationsResolve(t *testing.T) {
	srv := harness.Start(t, harness.Options{})
	seen := map[string]bool{}
	var queue []string
	for _, ep := range endpoints {
		queue = append(queue, srv.URL+ep.path+"?wsdl")
	}
	for len(queue) > 0 {
		loc := queue[0]
		queue = queue[1:]
		if seen[loc] {
			continue
		}
		seen[loc] = true
		fetch := loc
		if loc == w3cXMLSchema {
			fetch = srv.URL + "/xsd/w3c/xml.xsd"
		}
		if !strings.HasPrefix(fetch, srv.URL+"/") {
			t.Errorf("%s: a location outside kjdd", loc)
			continue
		}
		body, ctype := get(t, srv, fetch)
		if !strings.HasPrefix(ctype, "text/xml") {
			t.Errorf("%s: Content-Type %q", loc, ctype)
		}
		locations, err := schemaLocations(body)
		if err != nil {
			t.Errorf("%s: not well-formed: %v", loc, err)
			continue
		}
		if rel, ok := strings.CutPrefix(fetch, srv.URL+"/xsd/"); ok {
			sameAsCorpus(t, rel, body)
		}
		base, _ := url.Parse(loc)
		for _, l := range locations {
			ref, err := base.Parse(l)
			if err != nil {
				t.Errorf("%s: schemaLocation %q: %v", loc, l, err)
				continue
			}
			queue = append(queue, ref.String())
		}
	}
	var xsds []string
	for loc := range seen {
		if strings.HasSuffix(loc, ".xsd") {
			xsds = append(xsds, path.Base(loc))
		}
	}
	sort.Strings(xsds)
	if want := "XDS.b_DocumentRepository.xsd lcm.xsd query.xsd rim.xsd rs.xsd xml.xsd"; strings.Join(xsds, " ") != want {
		t.Errorf("schemas reached %v, want %s", xsds, want)
	}
}

// TestUnknownSchemaIsNotFound: /xsd/ serves its files only.
func TestUnknownSchemaIsNotFound(t *testing.T) {
	srv := harness.Start(t, harness.Options{})
	for _, p := range []string{"/xsd/", "/xsd/ebRS/", "/xsd/ebRS/cms.xsd", "/xsd/../go.mod", "/xsd/ebRS/..%2f..%2fxca.wsdl"} {
		if code, _ := srv.Get(t, p); code != http.StatusNotFound {
			t.Errorf("GET %s: HTTP %d, want 404", p, code)
		}
	}
}

func get(t *testing.T, srv *harness.Server, u string) (body []byte, contentType string) {
	t.Helper()
	resp, err := srv.Client.Get(u)
	if err != nil {
		t.Fatalf("GET %s: %v", u, err)
	}
	defer resp.Body.Close()
	body, err = io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("GET %s: %v", u, err)
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: HTTP %d", u, resp.StatusCode)
	}
	return body, resp.Header.Get("Content-Type")
}

// schemaLocations reads doc strictly to its end (so that it must be
// well-formed) and returns the schemaLocation of every xsd:import and
// xsd:include in it.
func schemaLocations(doc []byte) ([]string, error) {
	const nsXSD = "http://www.w3.org/2001/XMLSchema"
	d := xml.NewDecoder(bytes.NewReader(doc))
	var out []string
	for {
		tok, err := d.Token()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, err
		}
		se, ok := tok.(xml.StartElement)
		if !ok || se.Name.Space != nsXSD || (se.Name.Local != "import" && se.Name.Local != "include") {
			continue
		}
		for _, a := range se.Attr {
			if a.Name.Space == "" && a.Name.Local == "schemaLocation" {
				out = append(out, a.Value)
			}
		}
	}
}

// sameAsCorpus checks that a served schema is the corpus's file unchanged.
func sameAsCorpus(t *testing.T, rel string, served []byte) {
	t.Helper()
	p, err := paths.Conformance("schema", rel)
	if err != nil {
		t.Fatal(err)
	}
	want, err := os.ReadFile(p)
	if err != nil {
		t.Errorf("/xsd/%s: no such file in the corpus: %v", rel, err)
		return
	}
	if !bytes.Equal(served, want) {
		t.Errorf("/xsd/%s differs from conformance/schema/%s", rel, rel)
	}
}
