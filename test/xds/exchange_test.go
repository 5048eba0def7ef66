package xds

import (
	"slices"
	"testing"

	"kjdd/test/internal/harness"
)

// transaction is a query or retrieve transaction as the tests send it.
type transaction struct {
	name, path, action, responseAction string
	// xca: sent to the gateway by the national kjernejournal, as an MTOM
	// request (as NHN's gateway sends it, attachments or not).
	xca bool
}

// The transactions under test.
var (
	iti18 = transaction{"ITI-18", harness.PathRegistry, harness.ActionStoredQuery, harness.ActionStoredQuery + "Response", false}
	iti38 = transaction{"ITI-38", harness.PathXCA, harness.ActionCrossGatewayQuery, harness.ActionCrossGatewayQuery + "Response", true}
	iti43 = transaction{"ITI-43", harness.PathRepository, harness.ActionRetrieve, harness.ActionRetrieve + "Response", false}
	iti39 = transaction{"ITI-39", harness.PathXCA, harness.ActionCrossGatewayRetrieve, harness.ActionCrossGatewayRetrieve + "Response", true}
)

// request is body in tx's envelope, as MTOM for XCA.
func request(t testing.TB, tx transaction, body string) (msg []byte, contentType string) {
	t.Helper()
	env := harness.Envelope(tx.action, body)
	if !tx.xca {
		return env, harness.ContentTypeSOAP
	}
	msg, contentType, err := harness.MTOM(env, tx.action)
	if err != nil {
		t.Fatal(err)
	}
	return msg, contentType
}

// send posts body in tx's envelope through the harness (credentials
// attached, response schema-validated) and requires an answer that is not
// a SOAP Fault, with tx's response action.
func send(t testing.TB, srv *harness.Server, tx transaction, body string) *harness.Response {
	t.Helper()
	msg, ct := request(t, tx, body)
	resp := srv.SOAP(t, tx.path, msg, ct)
	checkAnswer(t, tx, resp)
	return resp
}

// checkAnswer requires an answer that is not a SOAP Fault, with tx's
// response action.
func checkAnswer(t testing.TB, tx transaction, resp *harness.Response) {
	t.Helper()
	if f := resp.Fault(); f != nil {
		t.Fatalf("%s answered with a SOAP Fault %s (HTTP %d)", tx.name, f, resp.StatusCode)
	}
	if resp.Action != tx.responseAction {
		t.Errorf("%s answered with wsa:Action %q, want %q", tx.name, resp.Action, tx.responseAction)
	}
}

// IHE error codes (ITI TF-3 Table 4.2.4.1-2).
const (
	errUnknownRepository = "XDSUnknownRepositoryId"
	errUnknownDocument   = "XDSDocumentUniqueIdError"
	errRepository        = "XDSRepositoryError"
	errUnknownCommunity  = "XDSUnknownCommunity"
	errMissingCommunity  = "XDSMissingHomeCommunityId"
	errTooManyResults    = "XDSTooManyResults"
)

// checkErrors requires exactly the RegistryError codes want (any order),
// each of severity Error and, for XCA, with location = urn:oid:<home>
// (ITI TF-2 3.38.4.1.3, 3.39.4.1.3).
func checkErrors(t testing.TB, tx transaction, resp *harness.Response, want []string) {
	t.Helper()
	errs := resp.RegistryErrors()
	codes := resp.ErrorCodes()
	if !sameMultiset(codes, want) {
		t.Errorf("errors %v, want %v (%+v)", codes, want, errs)
	}
	for _, e := range errs {
		if e.Severity != severityError {
			t.Errorf("error %s has severity %q, want %q", e.Code, e.Severity, severityError)
		}
		if tx.xca && e.Location != urnOID(home) {
			t.Errorf("error %s has location %q, want %q", e.Code, e.Location, urnOID(home))
		}
	}
}

func sameMultiset(a, b []string) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(a, b)
}
