// Command load measures kjdd under load over keep-alive loopback HTTP and
// prints a Markdown table for BENCHMARKS.md.
//
// Scenarios (-scenario):
//
//	throughput  ITI-38 FindDocuments (LeafClass) for a patient with exactly 20
//	            entries in a store pre-seeded with -entries DocumentEntries,
//	            C workers for D seconds; then a bare net/http server answering
//	            the same bytes under the same load, and the throughput ratio.
//	            Every ITI-38 carries a signed XUA assertion that kjdd verifies
//	            (-auth=false: none, and kjdd's refusals are measured).
//	rss         registers a -size document (default 100 MB) via ITI-41 MTOM,
//	            streamed from a generator, resets the server's peak RSS and
//	            retrieves it via ITI-43 (streamed, SHA-1 checked); prints the
//	            peak RSS growth (VmHWM - VmRSS before).
//	scale       p50 of the throughput query at 1,000 and at 1,000,000 entries.
//
// Run with `go run ./test/load [flags]` from the repository root. Every loop
// is bounded in time and count; only loopback addresses are used.
package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"runtime"
	"time"
)

func main() {
	if err := run(os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "load:", err)
		os.Exit(1)
	}
}

// config is the parsed command line.
type config struct {
	scenario    string
	entries     int
	workers     int
	duration    time.Duration
	maxRequests int
	size        int64
	bin         string
	keep        bool
	auth        bool
}

func parseFlags(args []string, stderr io.Writer) (config, error) {
	var c config
	fs := flag.NewFlagSet("load", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&c.scenario, "scenario", "throughput", "throughput, rss or scale")
	fs.IntVar(&c.entries, "entries", 100_000, "DocumentEntries pre-seeded into the store (throughput)")
	fs.IntVar(&c.workers, "workers", 4*runtime.NumCPU(), "concurrent workers (keep-alive connections)")
	fs.DurationVar(&c.duration, "duration", 10*time.Second, "load duration per measurement")
	fs.IntVar(&c.maxRequests, "max-requests", 5_000_000, "upper bound of requests per measurement")
	fs.Int64Var(&c.size, "size", 100<<20, "document size in bytes (rss)")
	fs.StringVar(&c.bin, "bin", "", "kjdd binary to use (default: build ./cmd/kjdd)")
	fs.BoolVar(&c.keep, "keep", false, "keep the temporary directory (store, logs)")
	fs.BoolVar(&c.auth, "auth", true, "send HelseID credentials (XUA SAML on ITI-38, tokens on ITI-41/43); false measures kjdd refusing unauthenticated ITI-38")
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	switch {
	case c.scenario != "throughput" && c.scenario != "rss" && c.scenario != "scale":
		return c, fmt.Errorf("unknown scenario %q", c.scenario)
	case c.entries < targetEntries:
		return c, fmt.Errorf("-entries must be at least %d (the target patient's entries)", targetEntries)
	case c.workers < 1 || c.workers > 1024:
		return c, fmt.Errorf("-workers must be 1..1024")
	case c.duration <= 0 || c.duration > 10*time.Minute:
		return c, fmt.Errorf("-duration must be in (0, 10m]")
	case c.maxRequests < 1:
		return c, fmt.Errorf("-max-requests must be positive")
	case c.size < 1 || c.size > 4<<30:
		return c, fmt.Errorf("-size must be in [1, 4 GiB]")
	case !c.auth && c.scenario == "rss":
		return c, fmt.Errorf("-scenario rss needs -auth: kjdd stores and retrieves nothing without credentials")
	}
	return c, nil
}

func run(args []string, stdout, stderr io.Writer) error {
	c, err := parseFlags(args, stderr)
	if err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "kjdd-load-")
	if err != nil {
		return err
	}
	if c.keep {
		fmt.Fprintln(stderr, "keeping", dir)
	} else {
		defer os.RemoveAll(dir)
	}
	bin, err := kjddBinary(c, dir)
	if err != nil {
		return err
	}
	logf := func(format string, a ...any) { fmt.Fprintf(stderr, format+"\n", a...) }
	id, err := startIdentity(dir, c.auth)
	if err != nil {
		return fmt.Errorf("identity: %w", err)
	}
	defer id.close()
	switch c.scenario {
	case "throughput":
		return throughput(c, bin, dir, id, stdout, logf)
	case "rss":
		return rss(c, bin, dir, id, stdout, logf)
	default:
		return scale(c, bin, dir, id, stdout, logf)
	}
}
