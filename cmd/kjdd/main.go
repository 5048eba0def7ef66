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
	"net"
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
	"kjdd/adapter/telemetry"
	"kjdd/xds"
)

// version is set at build time with -ldflags "-X main.version=…".
var version = "dev"

const usage = `kjdd shares a hospital's EPJ documents with kjernejournal (IHE XCA/XDS.b).

Usage:
  kjdd serve [--dev] [--listen ADDR] [--store DSN] [...]   run (flags override KJDD_* variables)
  kjdd dev token [--client] [--scope S]... [...]            print an access token of serve --dev's issuer
  kjdd dev saml --patient FNR [...]                         print a signed XUA assertion of serve --dev's signer
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
	case "dev":
		return devCommand(args[1:], os.Getenv, stdout, stderr)
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
	if gc, limit := tuneGC(os.Getenv); gc != -2 || limit != -1 {
		log.Debug("garbage collector tuned", "gc_percent", gc, "memory_limit_bytes", limit)
	}
	if cfg.Dev {
		log.Warn("DEVELOPMENT MODE (--dev): demo patients and documents are loaded; never run this with real patient data")
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	st, err := store.Open(ctx, cfg.Store, store.WithObjectCache(cfg.ObjectCache))
	if err != nil {
		return fmt.Errorf("store: %w", err)
	}
	defer st.Close()

	var epjClient *epj.Client
	if len(cfg.Repositories) > 0 {
		epjClient = epj.NewClient(cfg.Repositories, epj.Options{Limits: cfg.Limits()})
	}

	// Listen first: --dev's issuer URL is this listener's address.
	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return err
	}
	defer ln.Close()

	rdb, err := newRedis(cfg, log)
	if err != nil {
		return fmt.Errorf("redis: %w", err)
	}
	if rdb != nil {
		defer rdb.Close()
	}
	auth, err := buildAuthentication(ctx, cfg, ln.Addr(), rdb, log)
	if err != nil {
		return fmt.Errorf("authentication: %w", err)
	}
	spr, err := buildSperring(ctx, cfg, st, rdb, log)
	if err != nil {
		return fmt.Errorf("sperring: %w", err)
	}
	if spr.close != nil {
		// Before the Redis client closes (deferred earlier, so later).
		defer func() {
			if err := spr.close(); err != nil {
				log.Warn("sperring cache did not stop cleanly", "err", err)
			}
		}()
	}

	validation := xds.DefaultValidationOptions(xds.ITI42)
	validation.Norwegian = cfg.MetadataProfile == config.ProfileNorway
	validation.HomeCommunityID = cfg.HomeCommunityID
	reg := registry.New(st, registry.Options{
		HomeCommunityID:    cfg.HomeCommunityID,
		RepositoryUniqueID: cfg.RepositoryUniqueID,
		Validation:         validation,
		MaxResults:         cfg.MaxResults,
		OnRegistered:       spr.onRegistered,
	}, epjClient, access.Compose(auth.authenticator, spr.policy))

	if cfg.Dev {
		if err := devdata.Seed(ctx, reg); err != nil {
			return fmt.Errorf("demo data: %w", err)
		}
	}

	reader := xds.NewReader(xds.ReaderConfig{Limits: cfg.Limits(), AssertionMemoBytes: xds.DefaultAssertionMemoBytes})
	writer := xds.NewWriter(xds.WriterConfig{FragmentCacheBytes: xds.DefaultFragmentCacheBytes})
	caches := telemetry.Caches{"assertion_memo": reader.AssertionMemo, "fragments": writer.FragmentCache}
	handler := httpapi.New(httpapi.Options{
		Registry:   reg,
		Reader:     reader,
		Writer:     writer,
		Logger:     log,
		Ready:      readiness(st.Ping, auth.ready, spr.ready),
		DevHelseID: auth.devHandler,
		Sperring:   spr.service,
		Collectors: append(spr.collectors, caches),
	})
	srv := &http.Server{
		Handler:           handler,
		ReadHeaderTimeout: 10 * time.Second,
		// No overall write timeout: retrieves stream large documents.
		IdleTimeout:    120 * time.Second,
		MaxHeaderBytes: 64 << 10,
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	log.Info("kjdd listening", "addr", ln.Addr().String(), "home_community_id", cfg.HomeCommunityID,
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

// readiness combines readiness checks; nil checks are skipped.
func readiness(checks ...func(context.Context) error) func(context.Context) error {
	return func(ctx context.Context) error {
		for _, check := range checks {
			if check == nil {
				continue
			}
			if err := check(ctx); err != nil {
				return err
			}
		}
		return nil
	}
}
