package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"

	"kjdd/adapter/config"
	"kjdd/helseid/devissuer"
)

const devUsage = `Usage:
  kjdd dev token [--hpr N] [--pid FNR] [--purpose TREAT|ETREAT|COC|BTG] [--scope S]... [--client]
  kjdd dev saml --patient FNR [--hpr N] [--pid FNR] [--purpose TREAT|ETREAT|COC|BTG]

Mint credentials from the development issuer of ` + "`kjdd serve --dev`" + ` (keys in KJDD_DEV_KEYS,
default .kjdd/dev; run serve --dev once first). token prints an access token: by default a
practitioner's, with every scope and an attest; --client prints a client-credentials token
of the hospital (registration, sperring API). saml prints a signed XUA assertion, the
saml:Assertion element alone, for wsse:Security on /xca.
`

// devCommand runs `kjdd dev ...` and returns the exit code.
func devCommand(args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, devUsage)
		return 2
	}
	var (
		out []byte
		err error
	)
	switch args[0] {
	case "token":
		out, err = devToken(args[1:], getenv)
	case "saml":
		out, err = devSAML(args[1:], getenv)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, devUsage)
		return 0
	default:
		fmt.Fprintf(stderr, "kjdd dev: unknown command %q\n\n%s", args[0], devUsage)
		return 2
	}
	var usage usageError
	switch {
	case errors.As(err, &usage):
		fmt.Fprintf(stderr, "kjdd dev %s: %v\n\n%s", args[0], err, devUsage)
		return 2
	case errors.Is(err, devissuer.ErrNoKeys):
		fmt.Fprintf(stderr, "kjdd dev %s: %v\nStart the development server once (`make run` or `kjdd serve --dev`) with the same KJDD_DEV_KEYS.\n", args[0], err)
		return 1
	case err != nil:
		fmt.Fprintf(stderr, "kjdd dev %s: %v\n", args[0], err)
		return 1
	}
	fmt.Fprintf(stdout, "%s\n", out)
	return 0
}

// usageError is a command line that cannot be run.
type usageError struct{ error }

// devFlags are the flags token and saml share.
type devFlags struct {
	fs                      *flag.FlagSet
	keys, hpr, pid, purpose string
}

func newDevFlags(name string, getenv func(string) string) *devFlags {
	f := &devFlags{fs: flag.NewFlagSet("kjdd dev "+name, flag.ContinueOnError)}
	f.fs.SetOutput(io.Discard)
	keys := getenv("KJDD_DEV_KEYS")
	if keys == "" {
		keys = config.Default().DevKeys
	}
	f.fs.StringVar(&f.keys, "dev-keys", keys, "directory of the development keys (KJDD_DEV_KEYS)")
	f.fs.StringVar(&f.hpr, "hpr", "", "the practitioner's HPR number")
	f.fs.StringVar(&f.pid, "pid", "", "the practitioner's fnr or D-number")
	f.fs.StringVar(&f.purpose, "purpose", "", "purpose of use: TREAT, ETREAT, COC or BTG")
	return f
}

func (f *devFlags) parse(args []string) error {
	if err := f.fs.Parse(args); err != nil {
		return usageError{err}
	}
	if f.fs.NArg() > 0 {
		return usageError{fmt.Errorf("unexpected argument %q", f.fs.Arg(0))}
	}
	f.purpose = strings.ToUpper(f.purpose)
	return nil
}

func devToken(args []string, getenv func(string) string) ([]byte, error) {
	f := newDevFlags("token", getenv)
	var scopes stringsFlag
	client := f.fs.Bool("client", false, "a client-credentials token of the hospital (no person, no attest)")
	f.fs.Var(&scopes, "scope", "a scope to grant (repeatable; default every scope)")
	if err := f.parse(args); err != nil {
		return nil, err
	}
	if *client && (f.hpr != "" || f.pid != "" || f.purpose != "") {
		return nil, usageError{errors.New("--client tokens name no person: --hpr, --pid and --purpose do not apply")}
	}
	iss, err := devissuer.Open(f.keys)
	if err != nil {
		return nil, err
	}
	tok, err := iss.Token(devissuer.TokenOptions{Client: *client, PID: f.pid, HPRNumber: f.hpr, Purpose: f.purpose, Scopes: scopes})
	return []byte(tok), err
}

func devSAML(args []string, getenv func(string) string) ([]byte, error) {
	f := newDevFlags("saml", getenv)
	patient := f.fs.String("patient", "", "the patient (fnr or D-number, or a CX) the assertion authorises")
	if err := f.parse(args); err != nil {
		return nil, err
	}
	if *patient == "" {
		return nil, usageError{errors.New("--patient is required")}
	}
	iss, err := devissuer.Open(f.keys)
	if err != nil {
		return nil, err
	}
	return iss.Assertion(devissuer.AssertionOptions{Patient: *patient, PID: f.pid, HPRNumber: f.hpr, Purpose: f.purpose})
}

// stringsFlag collects a repeatable flag.
type stringsFlag []string

func (s *stringsFlag) String() string { return strings.Join(*s, " ") }

func (s *stringsFlag) Set(v string) error {
	if v == "" || strings.ContainsAny(v, " \t,") {
		return fmt.Errorf("%q is not one scope name", v)
	}
	*s = append(*s, v)
	return nil
}
