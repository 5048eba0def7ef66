// Command kjdd shares a hospital's EPJ documents with the national
// kjernejournal: an IHE XCA responding gateway with its own XDS.b registry
// and repository. This file is wiring only.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"kjdd/adapter/access"
	"kjdd/adapter/config"
	"kjdd/adapter/devdata"
	"kjdd/adapter/epj"
	"kjdd/adapter/httpapi"
	"kjdd/adapter/registry"
	"kjdd/adapter/store"
	"kjdd/xds"
)

// version is set at build time with -ldflags "-X main.version=…".
var version = "dev"

const usage = `kjdd shares a hospital's EPJ documents with kjernejournal (IHE XCA/XDS.b).

Usage:
  kjdd serve [--dev] [--listen ADDR] [--store DSN] [...]   run (flags override KJDD_* variables)
  kjdd version                                             print the version
`

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	switch args[0] {
	case "serve":
		if err := serve(args[1:], stderr); err != nil {
			fmt.Fprintln(stderr, "kjdd:", err)
			return 1
		}
		return 0
	case "version":
		fmt.Fprintln(stdout, "kjdd", version)
		return 0
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return 0
	default:
		fmt.Fprintf(stderr, "kjdd: unknown command %q\n\n%s", args[0], usage)
		return 2
	}
}

func serve(args []string, stderr io.Writer) error {
	cfg, err := config.Load(args, os.Getenv)
	if err != nil {
		return fmt.Errorf("configuration: %w", err)
	}
	log := newLogger(stderr, cfg.LogLevel)
	slog.SetDefault(log)
	if cfg.Dev {
		log.Warn("DEVELOPMENT MODE (--dev): demo patients and documents are loaded; never run this with real patient data")
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	st, err := store.Open(ctx, cfg.Store)
	if err != nil {
		return fmt.Errorf("store: %w", err)
	}
	defer st.Close()

	var epjClient *epj.Client
	if len(cfg.Repositories) > 0 {
		epjClient = epj.NewClient(cfg.Repositories, epj.Options{Limits: cfg.Limits()})
	}
	validation := xds.DefaultValidationOptions(xds.ITI42)
	validation.Norwegian = cfg.MetadataProfile == config.ProfileNorway
	validation.HomeCommunityID = cfg.HomeCommunityID
	// Authentication (HelseID) and sperring plug into this gate; until they
	// do, every caller is let in.
	gate := access.Unauthenticated{}
	log.Warn("authentication and sperring are not enforced by this build: keep kjdd off any network but a test one")
	reg := registry.New(st, registry.Options{
		HomeCommunityID:    cfg.HomeCommunityID,
		RepositoryUniqueID: cfg.RepositoryUniqueID,
		Validation:         validation,
		MaxResults:         cfg.MaxResults,
	}, epjClient, gate)

	if cfg.Dev {
		if err := devdata.Seed(ctx, reg); err != nil {
			return fmt.Errorf("demo data: %w", err)
		}
	}

	handler := httpapi.New(httpapi.Options{
		Registry: reg,
		Limits:   cfg.Limits(),
		Logger:   log,
		Ready:    st.Ping,
	})
	srv := &http.Server{
		Addr:              cfg.Listen,
		Handler:           handler,
		ReadHeaderTimeout: 10 * time.Second,
		// No overall write timeout: retrieves stream large documents.
		IdleTimeout:    120 * time.Second,
		MaxHeaderBytes: 64 << 10,
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.ListenAndServe() }()
	log.Info("kjdd listening", "addr", cfg.Listen, "home_community_id", cfg.HomeCommunityID,
		"repository_unique_id", cfg.RepositoryUniqueID, "metadata_profile", cfg.MetadataProfile, "version", version)

	select {
	case err := <-errc:
		if !errors.Is(err, http.ErrServerClosed) {
			return err
		}
	case <-ctx.Done():
		log.Info("shutting down")
		shutdownCtx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		if err := srv.Shutdown(shutdownCtx); err != nil {
			return err
		}
	}
	return nil
}

func newLogger(w io.Writer, level string) *slog.Logger {
	var l slog.Level
	_ = l.UnmarshalText([]byte(level))
	return slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: l}))
}
