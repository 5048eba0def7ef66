package xsdtest

import (
	"os"
	"path/filepath"
	"runtime"
	"testing"
)

// TestValidateAcceptsValidSample checks the helper against a sample the
// corpus marks as schema-valid.
func TestValidateAcceptsValidSample(t *testing.T) {
	data, err := os.ReadFile(filepath.Join(SharedDir(t), "conformance", "samples", "iti43-response-ihe-official-soap.xml"))
	if err != nil {
		t.Fatal(err)
	}
	Validate(t, data)
}

// TestValidateRejectsInvalid runs Validate in a sub-test recorder and
// expects it to fail for a Fault without its required Reason.
func TestValidateRejectsInvalid(t *testing.T) {
	bad := []byte(`<env:Envelope xmlns:env="http://www.w3.org/2003/05/soap-envelope"><env:Body><env:Fault><env:Code><env:Value>env:Sender</env:Value></env:Code></env:Fault></env:Body></env:Envelope>`)
	rec := &recorder{TB: t}
	done := make(chan struct{})
	go func() {
		defer close(done)
		Validate(rec, bad)
	}()
	<-done
	if !rec.failed {
		t.Fatal("Validate accepted a SOAP Fault without Reason")
	}
}

// recorder captures Fatalf instead of failing the real test.
type recorder struct {
	testing.TB
	failed bool
}

func (r *recorder) Fatalf(format string, args ...any) {
	r.failed = true
	r.TB.Logf("recorded failure: "+format, args...)
	runtime.Goexit()
}

func (r *recorder) Helper() {}
