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
	"slices"
	"syscall"
	"time"

	"github.com/redis/go-redis/v9"

	"kjdd/adapter/access"
	"kjdd/adapter/config"
	"kjdd/adapter/devdata"
	"kjdd/adapter/epj"
	"kjdd/adapter/httpapi"
	"kjdd/adapter/httpguard"
	"kjdd/adapter/keys"
	"kjdd/adapter/registry"
	"kjdd/adapter/sperring"
	"kjdd/adapter/spool"
	"kjdd/adapter/store"
	"kjdd/adapter/telemetry"
	"kjdd/xds/rim"
	"kjdd/xds/soap"
	"kjdd/xds/validate"
)

const usage = `kjdd shares a hospital's EPJ documents with kjernejournal (IHE XCA/XDS.b).

Usage:
  kjdd serve [--dev] [--listen ADDR] [--store DSN] [...]   run (flags override KJDD_* variables; serve --help lists them)
  kjdd dev token [--client] [--scope S]... [...]            print an access token of serve --dev's issuer
  kjdd dev saml --patient FNR [...]                         print a signed XUA assertion of serve --dev's signer
  kjdd version                                             print the module version and VCS revision
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
		err := serve(args[1:], stderr)
		if errors.Is(err, config.ErrHelp) {
			config.Usage(stdout)
			return 0
		}
		if err != nil {
			fmt.Fprintln(stderr, "kjdd:", err)
			return 1
		}
		return 0
	case "dev":
		return devCommand(args[1:], os.Getenv, stdout, stderr)
	case "version", "--version", "-version":
		fmt.Fprintln(stdout, "kjdd", version())
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
	if errors.Is(err, config.ErrHelp) {
		return err
	}
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

	// Listen first: --dev's issuer URL is this listener's address, and an
	// address that cannot be had must stop kjdd before the store file or
	// any development key is created.
	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return fmt.Errorf("KJDD_LISTEN: %w", err)
	}
	defer ln.Close()

	st, err := store.Open(ctx, string(cfg.Store), store.WithObjectCache(cfg.ObjectCache))
	if err != nil {
		return fmt.Errorf("store: %w", err)
	}
	defer st.Close()

	var epjClient *epj.Client
	if len(cfg.Repositories) > 0 {
		epjClient = epj.NewClient(cfg.Repositories, epj.Options{Limits: cfg.Limits(), Spool: spool.Dir(cfg.SpoolDir)})
	}

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
	root, err := keys.Load(cfg.AuditKey, cfg.Dev, cfg.DevKeys, log)
	if err != nil {
		return err
	}
	spr, err := sperring.New(ctx, st, sperring.Settings{
		Keys: root.Sperring(), OverridePurposes: cfg.OverridePurposes, Visibility: cfg.BlockedVisibility, Redis: rdb, Logger: log,
	})
	if err != nil {
		return fmt.Errorf("sperring: %w", err)
	}
	// Before the Redis client closes (deferred earlier, so later).
	defer func() {
		if err := spr.Close(); err != nil {
			log.Warn("sperring cache did not stop cleanly", "err", err)
		}
	}()

	validation := validate.DefaultOptions(validate.ITI42)
	validation.Norwegian = cfg.MetadataProfile == config.ProfileNorway
	validation.HomeCommunityID = cfg.HomeCommunityID
	reg := registry.New(st, registry.Options{
		HomeCommunityID:    cfg.HomeCommunityID,
		RepositoryUniqueID: cfg.RepositoryUniqueID,
		Validation:         validation,
		MaxResults:         cfg.MaxResults,
		OnRegistered:       spr.OnRegistered,
	}, epjClient, access.Compose(auth.authenticator, spr.Policy))

	if cfg.Dev {
		if err := devdata.Seed(ctx, reg); err != nil {
			return fmt.Errorf("demo data: %w", err)
		}
	}

	reader := soap.NewReader(soap.ReaderConfig{Limits: cfg.Limits(), AssertionMemoBytes: cfg.AssertionMemo, Spool: spool.Dir(cfg.SpoolDir)})
	writer := rim.NewWriter(rim.WriterConfig{FragmentCacheBytes: cfg.FragmentCache})
	caches := telemetry.Caches{"assertion_memo": reader.AssertionMemo, "fragments": writer.FragmentCache}
	handler := httpapi.New(httpapi.Options{
		Registry:   reg,
		Reader:     reader,
		Writer:     writer,
		Logger:     log,
		Ready:      readiness(st.Ping, auth.ready, spr.Ready, rdb),
		DevHelseID: auth.devHandler,
		Sperring:   spr.Service,
		Collectors: append(spr.Collectors, caches),
	})
	srv := &http.Server{
		// No ReadTimeout or WriteTimeout: one deadline for the whole
		// request would cut off a legitimate 100 MB registration or
		// retrieve on a slow line. httpguard gives bodies and answers a
		// minimum rate instead, with deadlines that grow as bytes move.
		Handler: httpguard.Handler(handler, httpguard.Settings{
			MinReadRate: cfg.MinBodyRate, MinWriteRate: cfg.MinWriteRate,
			Grace: time.Duration(cfg.BodyGrace), Logger: log,
		}),
		ReadHeaderTimeout: time.Duration(cfg.ReadHeaderTimeout),
		IdleTimeout:       time.Duration(cfg.IdleTimeout),
		MaxHeaderBytes:    64 << 10,
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	log.Info("kjdd listening", "addr", ln.Addr().String(), "home_community_id", cfg.HomeCommunityID,
		"repository_unique_id", cfg.RepositoryUniqueID, "metadata_profile", cfg.MetadataProfile, "version", version())

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

// newLogger is the process's logger: JSON lines, with every run of digits
// that could be a national identity number masked (telemetry.RedactingHandler),
// whatever a caller put into what is logged.
func newLogger(w io.Writer, level config.LogLevel) *slog.Logger {
	return slog.New(telemetry.RedactingHandler(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: slog.Level(level)})))
}

// readiness names the checks of /readyz; nil ones are left out. Redis,
// when configured, is reported but only degrades: sperring reads the store
// while it is down (test/sperring TestRedisOutage holds kjdd ready then).
func readiness(store, helseid, sperring func(context.Context) error, rdb redis.UniversalClient) []httpapi.ReadyCheck {
	checks := []httpapi.ReadyCheck{{Name: "store", Check: store}, {Name: "helseid", Check: helseid}, {Name: "sperring", Check: sperring}}
	if rdb != nil {
		checks = append(checks, httpapi.ReadyCheck{Name: "redis", Degraded: true,
			Check: func(ctx context.Context) error { return rdb.Ping(ctx).Err() }})
	}
	return slices.DeleteFunc(checks, func(c httpapi.ReadyCheck) bool { return c.Check == nil })
}
