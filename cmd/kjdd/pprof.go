//go:build pprof

package main

// Built only with -tags pprof, for profiling under test/load: serves
// net/http/pprof on KJDD_PPROF_ADDR (loopback only). Release builds carry no
// profiling endpoint.

import (
	"log/slog"
	"net"
	"net/http"
	_ "net/http/pprof"
	"os"
)

func init() {
	addr := os.Getenv("KJDD_PPROF_ADDR")
	if addr == "" {
		return
	}
	host, _, err := net.SplitHostPort(addr)
	if err != nil || !net.ParseIP(host).IsLoopback() {
		slog.Error("KJDD_PPROF_ADDR must be a loopback host:port", "addr", addr)
		return
	}
	go func() { _ = http.ListenAndServe(addr, nil) }()
}
