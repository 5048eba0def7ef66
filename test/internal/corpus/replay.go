package corpus

import (
	"bytes"
	"slices"
	"strconv"
	"strings"
	"testing"

	"kjdd/test/internal/harness"
	"kjdd/test/internal/nistkit"
	"kjdd/test/testkit/paths"
)

const (
	home               = "urn:oid:" + harness.HomeCommunityID
	repositoryUniqueID = harness.RepositoryUniqueID
	// FakeRepository is the repositoryUniqueId of NIST's Register.b seeds,
	// configured as an EPJ repository that nothing answers.
	FakeRepository = "1.19.6.24.109.42.1"
	// swissPatient is the patient of the Swiss projectathon ITI-18 sample.
	swissPatient = "7e1c6e78-58f1-4a43-ae88-0d5a5c4ab43e^^^&1.3.6.1.4.1.21367.2017.2.5.45&ISO"
)

// transaction describes where a transaction's requests go.
type transaction struct {
	path, action string
	retrieve     bool
}

var transactions = map[string]transaction{
	"iti18": {path: harness.PathRegistry, action: "urn:ihe:iti:2007:RegistryStoredQuery"},
	"iti38": {path: harness.PathXCA, action: "urn:ihe:iti:2007:CrossGatewayQuery"},
	"iti39": {path: harness.PathXCA, action: "urn:ihe:iti:2007:CrossGatewayRetrieve", retrieve: true},
	"iti41": {path: harness.PathRepository, action: "urn:ihe:iti:2007:ProvideAndRegisterDocumentSet-b"},
	"iti42": {path: harness.PathRegistry, action: "urn:ihe:iti:2007:RegisterDocumentSet-b"},
	"iti43": {path: harness.PathRepository, action: "urn:ihe:iti:2007:RetrieveDocumentSet", retrieve: true},
}

// replay is one kjdd server of one profile with its seed data.
type replay struct {
	t        testing.TB
	srv      *harness.Server
	env      *nistkit.Env
	profile  string
	contents map[string][]byte // documents registered, by uniqueId
}

func (r *replay) section(key string) *nistkit.Section { return r.env.Section(r.t, key) }

func startReplay(t *testing.T, profile string) *replay {
	t.Helper()
	env := map[string]string{"KJDD_METADATA_PROFILE": profile}
	if profile == ihe {
		env["KJDD_EPJ_REPOSITORIES"] = FakeRepository + "=http://127.0.0.1:9/unused"
	}
	srv := harness.Start(t, harness.Options{Env: env})
	r := &replay{t: t, srv: srv, env: nistkit.NewEnv(t, srv), profile: profile, contents: map[string][]byte{}}
	switch profile {
	case ihe:
		r.seedSwissPatient(t)
	case norway:
		r.seedNorway(t)
	}
	return r
}

// Replay replays every request sample of the corpus whose transaction
// (the file name's prefix: iti18, iti38, ...) is one of txs,
// under its profile, against a kjdd of that profile seeded for it. Golden
// files are read from (and with -update written to) testdata/golden/
// of the calling test's package.
func Replay(t *testing.T, txs ...string) {
	for _, tx := range txs {
		if _, ok := transactions[tx]; !ok {
			t.Fatalf("no transaction %q", tx)
		}
	}
	for _, profile := range []string{ihe, norway} {
		var run []sample
		for _, s := range samples {
			if s.skip == "" && s.profile == profile && slices.Contains(txs, transactionOf(s.file)) {
				run = append(run, s)
			}
		}
		if len(run) == 0 {
			continue
		}
		t.Run(profile, func(t *testing.T) {
			r := startReplay(t, profile)
			for _, s := range run {
				t.Run(s.file, func(t *testing.T) { r.run(t, s) })
			}
		})
	}
}

// transactionOf is the transaction a sample file belongs to, by name.
func transactionOf(file string) string { return strings.SplitN(file, "-", 2)[0] }

func (r *replay) run(t *testing.T, s sample) {
	r.t = t
	tx, ok := transactions[transactionOf(s.file)]
	if !ok {
		t.Fatalf("no transaction for %s", s.file)
	}
	raw := paths.Sample(t, s.file)
	var vars map[string]string
	var step nistkit.Step
	if s.nist != "" {
		step = r.planStep(t, s)
		vars = r.env.Vars(t, s.nist, step)
	} else if s.vars != nil {
		vars = s.vars(r)
	}
	text := nistkit.Substitute(string(raw), vars, true)
	if left := nistkit.Placeholders(text); len(left) > 0 && !strings.Contains(s.file, "-template") {
		t.Fatalf("unresolved placeholders %v", left)
	}
	body, ct := []byte(text), harness.ContentTypeSOAP
	switch {
	case strings.HasSuffix(s.file, ".txt"):
		var err error
		if ct, body, err = harness.MIMECapture(body); err != nil {
			t.Fatal(err)
		}
	case !strings.Contains(firstElement(text), "Envelope"):
		body = harness.Envelope(tx.action, text)
	}
	resp := r.srv.SOAP(t, tx.path, body, ct)
	if s.nist != "" && !s.nistVarsOnly {
		r.env.Check(t, s.nist, step, resp, vars)
		if tx.retrieve && resp.Fault() == nil && !resp.MTOM {
			t.Errorf("retrieve answered without MTOM")
		}
	} else {
		checkExpect(t, r, tx, resp, s)
	}
	checkAddressing(t, tx, ct, body, resp)
	literals := map[string]string{}
	for _, k := range []string{"$now$", "$lastyear$"} {
		if v, ok := vars[k]; ok && strings.Contains(text, v) {
			literals[v] = strings.ToUpper(strings.Trim(k, "$"))
		}
	}
	Golden(t, transactionOf(s.file), strings.TrimSuffix(strings.TrimSuffix(s.file, ".xml"), ".txt"), ct, body, resp, literals)
}

// planStep finds the test-plan step whose MetadataFile the sample is.
func (r *replay) planStep(t *testing.T, s sample) nistkit.Step {
	t.Helper()
	for _, st := range r.env.Plan(t, s.nist).Steps {
		if st.MetadataFile == s.nistFile {
			return st
		}
	}
	t.Fatalf("%s has no step with MetadataFile %s", s.nist, s.nistFile)
	return nistkit.Step{}
}

func firstElement(doc string) string {
	i := 0
	for {
		j := strings.IndexByte(doc[i:], '<')
		if j < 0 {
			return ""
		}
		i += j
		if !strings.HasPrefix(doc[i:], "<?") && !strings.HasPrefix(doc[i:], "<!--") {
			end := strings.IndexAny(doc[i:], " >/\n\t\r")
			if end < 0 {
				return doc[i:]
			}
			return doc[i : i+end]
		}
		i++
	}
}

// checkAddressing checks the WS-Addressing reply headers: RelatesTo names
// the request's MessageID, Action is the request's plus "Response" (or the
// WS-Addressing fault action).
func checkAddressing(t *testing.T, tx transaction, ct string, body []byte, resp *harness.Response) {
	t.Helper()
	req, err := harness.ParseMessage(ct, body)
	if err != nil {
		return // a request kjdd cannot parse has no MessageID to relate to
	}
	if req.MessageID != "" && resp.RelatesTo != req.MessageID {
		t.Errorf("RelatesTo %q, want the request's MessageID %q", resp.RelatesTo, req.MessageID)
	}
	if resp.Fault() != nil {
		if resp.Action != "http://www.w3.org/2005/08/addressing/soap/fault" && resp.Action != "http://www.w3.org/2005/08/addressing/fault" {
			t.Errorf("fault with wsa:Action %q", resp.Action)
		}
		return
	}
	if want := req.Action + "Response"; resp.Action != want {
		t.Errorf("wsa:Action %q, want %q", resp.Action, want)
	}
}

func checkExpect(t *testing.T, r *replay, tx transaction, resp *harness.Response, s sample) {
	t.Helper()
	problems := evaluate(r, tx, resp, s.want)
	if len(problems) > 0 && s.or != nil && len(evaluate(r, tx, resp, *s.or)) == 0 {
		return
	}
	for _, p := range problems {
		t.Error(p)
	}
	if len(problems) > 0 && s.why != "" {
		t.Logf("expected because: %s", s.why)
	}
}

func evaluate(r *replay, tx transaction, resp *harness.Response, e expect) []string {
	var bad []string
	f := resp.Fault()
	switch {
	case e.fault == "" && f != nil:
		return []string{"unexpected SOAP Fault " + f.String()}
	case e.fault != "" && f == nil:
		return []string{"want a SOAP Fault " + e.fault + ", got status " + resp.Status()}
	case e.fault != "":
		if e.fault != f.Code && e.fault != f.SubcodeLocal() {
			bad = append(bad, "fault "+f.String()+", want "+e.fault)
		}
		if f.Code == "Sender" && (resp.StatusCode < 400 || resp.StatusCode > 499) {
			bad = append(bad, "Sender fault with HTTP "+strconv.Itoa(resp.StatusCode))
		}
		return bad
	}
	if e.status != "any" && !strings.HasSuffix(resp.Status(), ":"+e.status) {
		bad = append(bad, "status "+resp.Status()+", want "+e.status+"; errors "+strings.Join(resp.ErrorCodes(), ","))
	}
	codes := resp.ErrorCodes()
	for _, c := range e.codes {
		if !has(codes, c) {
			bad = append(bad, "error codes "+strings.Join(codes, ",")+", want "+c)
		}
	}
	if len(e.anyOf) > 0 {
		found := false
		for _, c := range e.anyOf {
			found = found || has(codes, c)
		}
		if !found {
			bad = append(bad, "error codes "+strings.Join(codes, ",")+", want one of "+strings.Join(e.anyOf, ","))
		}
	}
	if e.counts != nil {
		c := resp.Contents()
		got := counts{docs: c.Documents, sets: c.SubmissionSets, folders: c.Folders, assocs: c.Associations, refs: c.ObjectRefs}
		if !countsMatch(got, *e.counts) || c.Unclassified != 0 {
			bad = append(bad, "contents "+fmtCounts(got)+", want "+fmtCounts(*e.counts))
		}
	}
	if e.home {
		for _, o := range resp.Objects() {
			if h := o.SelectAttrValue("home", ""); h != home {
				bad = append(bad, o.Tag+" home="+h+", want "+home)
			}
		}
	}
	if tx.retrieve && !resp.MTOM {
		bad = append(bad, "retrieve answered without MTOM")
	}
	if e.docs >= 0 {
		docs, err := resp.Documents()
		if err != nil {
			bad = append(bad, err.Error())
		}
		if len(docs) != e.docs {
			bad = append(bad, "documents "+strconv.Itoa(len(docs))+", want "+strconv.Itoa(e.docs))
		}
		for uid, got := range docs {
			want, ok := r.contents[uid]
			if !ok && r.env != nil {
				want, ok = r.env.Content(uid)
			}
			if !ok || !bytes.Equal(got, want) {
				bad = append(bad, "document "+uid+" is not the content registered")
			}
		}
	}
	return bad
}

func countsMatch(got, want counts) bool {
	eq := func(g, w int) bool { return w < 0 || g == w }
	return eq(got.docs, want.docs) && eq(got.sets, want.sets) && eq(got.folders, want.folders) &&
		eq(got.assocs, want.assocs) && eq(got.refs, want.refs)
}

func fmtCounts(c counts) string {
	return "docs=" + strconv.Itoa(c.docs) + " sets=" + strconv.Itoa(c.sets) + " folders=" + strconv.Itoa(c.folders) + " assocs=" + strconv.Itoa(c.assocs) + " refs=" + strconv.Itoa(c.refs)
}

func has(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}
