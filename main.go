// Command agora is a real-time team chat server: server-rendered pages, htmx
// over WebSocket for live rooms, SQLite for storage.
package main

import (
	"context"
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"net/url"
	"os"
	"os/signal"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/nats-io/nats.go"

	"agora/assets"
	"agora/chat"
	"agora/chat/jobs"
	"agora/chat/live"
	"agora/chat/live/cluster"
	"agora/chat/mail"
	"agora/db"
	"agora/handlers"
	"agora/handlers/command"
	"agora/handlers/metrics"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args, os.Getenv, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "agora:", err)
		os.Exit(1)
	}
}

// run starts agora and serves until ctx is cancelled, then shuts down
// gracefully: sockets are closed with 1012 so browsers reconnect to the next
// process, and requests in flight get time to finish.
// minOpenFiles is the open file limit under which agora warns at start:
// about the sockets of a team of a few hundred people.
const minOpenFiles = 4096

func run(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	if len(args) > 1 {
		switch args[1] {
		case "backup":
			return runBackup(ctx, args[1:], getenv, stdout)
		case "users":
			return command.Users(ctx, args[1:], getenv, stdout)
		case "export":
			return command.Export(ctx, args[1:], getenv, stdout)
		case "import-slack":
			return command.ImportSlack(ctx, args[1:], getenv, stdout)
		}
	}
	fs, o, err := newFlags(args[0], getenv, stdout)
	if err != nil {
		return err
	}
	if err := fs.Parse(args[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil // -h asked for the flags, and has them
		}
		return err
	}
	switch o.signup {
	case handlers.SignupOpen, handlers.SignupInvite, handlers.SignupClosed:
	default:
		return fmt.Errorf("-signup must be open, invite or closed, not %q", o.signup)
	}
	var oidcCfg *handlers.OIDC
	if o.oidcIssuer != "" || o.oidcClientID != "" {
		if o.oidcIssuer == "" || o.oidcClientID == "" {
			return errors.New("-oidc-issuer and -oidc-client-id go together")
		}
		oidcCfg = &handlers.OIDC{Issuer: o.oidcIssuer, ClientID: o.oidcClientID, ClientSecret: o.oidcSecret}
	}
	if !o.passwordLogin && oidcCfg == nil {
		return errors.New("-password-login=false needs -oidc-issuer: nobody could sign in")
	}
	if o.retention < 0 || o.retention > chat.MaxRetentionDays {
		return fmt.Errorf("-retention must be a number of days from 1 to %d, or 0 to keep messages for ever, not %d", chat.MaxRetentionDays, o.retention)
	}
	if o.readTimeout <= 0 {
		return errors.New("-read-timeout must be more than 0")
	}
	var tlsConfig *tls.Config
	if o.tlsCert != "" || o.tlsKey != "" {
		if o.tlsCert == "" || o.tlsKey == "" {
			return errors.New("-tls-cert and -tls-key go together")
		}
		// Loaded before anything starts, so a bad pair stops agora at once.
		cert, err := tls.LoadX509KeyPair(o.tlsCert, o.tlsKey)
		if err != nil {
			return fmt.Errorf("tls: %w", err)
		}
		tlsConfig = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	}
	if err := assets.Check(); err != nil {
		return err
	}
	log := slog.New(slog.NewTextHandler(stdout, &slog.HandlerOptions{Level: o.logLevel}))

	maxUpload, err := handlers.ParseSize(o.maxUpload)
	if err != nil {
		return fmt.Errorf("-max-upload: %w", err)
	}
	quota, err := parseLimit(o.storageQuota)
	if err != nil {
		return fmt.Errorf("-storage-quota: %w", err)
	}
	if quota == 0 {
		quota = -1 // none, where 0 would be the default
	}
	total, err := parseLimit(o.storageTotal)
	if err != nil {
		return fmt.Errorf("-storage-total: %w", err)
	}
	// Listening from here (connections wait until Serve) makes the address
	// known for the links in emails, when -addr has port 0.
	ln, err := net.Listen("tcp", o.addr)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	defer ln.Close()
	publicURL, err := publicURLOf(o.publicURL, ln.Addr().String(), tlsConfig != nil)
	if err != nil {
		return err
	}
	var sender *mail.Sender
	if o.smtp != "" {
		if o.mailFrom == "" {
			return errors.New("-smtp needs -mail-from, the address emails come from")
		}
		if sender, err = mail.New(o.smtp, o.mailFrom, mail.Options{}); err != nil {
			return fmt.Errorf("-smtp: %w", err)
		}
	}
	if s := o.pushSubject; s != "" && !strings.HasPrefix(s, "mailto:") && !strings.HasPrefix(s, "https://") {
		return fmt.Errorf("-push-subject %q: a mailto: or https:// URL (RFC 8292)", s)
	}
	store, err := db.Open(ctx, o.dbPath)
	if err != nil {
		return err
	}
	defer store.Close()

	hub := handlers.NewHub(live.HubConfig{})
	counts := metrics.New()
	// The job runner takes work from the store's queue; it stops after the
	// server (deferred later, run sooner than store.Close), handing back any
	// job in flight for the next start or another node.
	runner := jobs.New(store, jobs.Options{Log: log})
	app := handlers.New(handlers.Config{Store: store, Hub: hub, Log: log, Assets: assets.FS, Guests: o.guests, TrustProxy: o.trustProxy,
		Metrics: counts, WebhooksPrivate: o.webhooksPrivate, MaxUpload: maxUpload, Signup: o.signup, Jobs: runner,
		Mail: sender, PublicURL: publicURL, StorageQuota: quota, StorageTotal: total,
		OIDC: oidcCfg, NoPasswordLogin: !o.passwordLogin, Retention: o.retention, PushSubject: o.pushSubject, PushPrivate: o.pushPrivate,
		Unfurl: o.unfurl, UnfurlPrivate: o.unfurlPrivate})
	runner.Start()
	defer runner.Stop()
	if o.natsURL != "" {
		if !store.Shared() {
			return errors.New("-nats: the nodes of a cluster share one PostgreSQL database: give -db a postgres:// URL")
		}
		// Reconnect for ever: while NATS is away, the node still serves and
		// fills what it missed from the store.
		nc, err := nats.Connect(o.natsURL, nats.Name("agora"), nats.MaxReconnects(-1), nats.ReconnectWait(250*time.Millisecond))
		if err != nil {
			return fmt.Errorf("nats: %w", err)
		}
		defer nc.Close()
		node, err := app.JoinCluster(ctx, nc, cluster.Options{})
		if err != nil {
			return err
		}
		defer node.Close()
		log.Info("cluster node", "nats", nc.ConnectedUrlRedacted())
	}
	conns := &connStates{states: make(map[net.Conn]http.ConnState)}
	srv := &http.Server{
		Handler:           app,
		ReadHeaderTimeout: min(10*time.Second, o.readTimeout),
		// Slow bodies are cut off, so they cannot hold connections and
		// goroutines for long. A socket's handshake has no body, and net/http
		// clears the read deadline when the connection is hijacked.
		ReadTimeout: o.readTimeout,
		IdleTimeout: 2 * time.Minute,
		ErrorLog:    slog.NewLogLogger(log.Handler(), slog.LevelWarn),
		ConnState:   conns.track,
		TLSConfig:   tlsConfig, // with HTTP/2 offered beside HTTP/1.1 (sockets use 1.1)
	}

	if o.pprofAddr != "" {
		// The profiler on an address of its own, never on the public one.
		mux := http.NewServeMux()
		mux.HandleFunc("/debug/pprof/", pprof.Index)
		mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
		mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
		pln, err := net.Listen("tcp", o.pprofAddr)
		if err != nil {
			return fmt.Errorf("listen for pprof: %w", err)
		}
		defer pln.Close()
		log.Info("profiler", "addr", "http://"+pln.Addr().String()+"/debug/pprof/")
		go http.Serve(pln, mux)
	}
	if o.metricsAddr != "" {
		// Metrics on an address of their own, for the operator's scraper.
		mux := http.NewServeMux()
		mux.Handle("GET /metrics", counts.Handler())
		mln, err := net.Listen("tcp", o.metricsAddr)
		if err != nil {
			return fmt.Errorf("listen for metrics: %w", err)
		}
		defer mln.Close()
		log.Info("metrics", "addr", "http://"+mln.Addr().String()+"/metrics")
		go (&http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}).Serve(mln)
	}

	// Said last, so that whoever waits for it finds everything else up.
	scheme := "http://"
	if tlsConfig != nil {
		scheme = "https://"
	}
	// Every socket holds a file descriptor: the limit bounds the sockets
	// this node can hold, and a low one is better known before it is hit.
	if n := command.OpenFileLimit(); n > 0 && n < minOpenFiles {
		log.Warn("open file limit is low: each socket needs one; raise it (ulimit -n, systemd LimitNOFILE=)", "open_files", n, "want", minOpenFiles)
	}
	log.Info("listening", "addr", scheme+ln.Addr().String(), "db", store.Source(), "open_files", command.OpenFileLimit())
	serveErr := make(chan error, 1)
	go func() {
		if tlsConfig != nil {
			serveErr <- srv.ServeTLS(ln, "", "")
			return
		}
		serveErr <- srv.Serve(ln)
	}()
	select {
	case err := <-serveErr:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}

	log.Info("shutting down")
	// A fresh context: ctx is already cancelled, and shutdown needs time of its own.
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	app.Shutdown(shutdownCtx)
	// Shutdown waits for requests in flight, but also up to 5 s for
	// connections browsers opened ahead of time and never used. Once no
	// request is in flight, those are closed at once.
	done := make(chan error, 1)
	go func() { done <- srv.Shutdown(shutdownCtx) }()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case err := <-done:
			if err != nil && !errors.Is(err, http.ErrServerClosed) {
				return fmt.Errorf("shutdown: %w", err)
			}
			return nil
		case <-tick.C:
			if conns.active() == 0 {
				srv.Close()
			}
		}
	}
}

// options are run's settings, from its flags and the environment.
type options struct {
	addr, dbPath, pprofAddr, metricsAddr string
	natsURL                              string
	maxUpload                            string
	storageQuota, storageTotal           string
	signup                               string
	tlsCert, tlsKey                      string
	guests, trustProxy                   bool
	webhooksPrivate                      bool
	smtp, mailFrom, publicURL            string
	pushSubject                          string
	pushPrivate                          bool
	unfurl, unfurlPrivate                bool
	oidcIssuer, oidcClientID, oidcSecret string
	passwordLogin                        bool
	retention                            int
	readTimeout                          time.Duration
	logLevel                             slog.Level
}

// newFlags defines every flag of run, each defaulting to its environment
// variable. The README's configuration table is checked against it
// (TestReadmeFlagTable), so a flag added here needs a row there.
func newFlags(name string, getenv func(string) string, out io.Writer) (*flag.FlagSet, *options, error) {
	o := &options{}
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(out)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "usage: agora [flags]\n       agora backup [-db SOURCE] DEST\n       agora users list|create|reset-password|make-admin|deactivate [NAME] [-db SOURCE]\n       agora export [-db SOURCE] DEST.zip\n       agora import-slack [-db SOURCE] EXPORT.zip\n\nflags:\n")
		fs.PrintDefaults()
	}
	fs.StringVar(&o.addr, "addr", envOr(getenv, "CHAT_ADDR", "127.0.0.1:8080"), "address to listen on (env CHAT_ADDR)")
	fs.StringVar(&o.dbPath, "db", envOr(getenv, "CHAT_DB", "agora.db"), "SQLite database file, or a postgres:// URL for PostgreSQL (env CHAT_DB)")
	fs.StringVar(&o.natsURL, "nats", getenv("CHAT_NATS"), "a NATS URL, e.g. nats://127.0.0.1:4222: this process is one node of a cluster on it and the shared PostgreSQL of -db (env CHAT_NATS); off when empty")
	fs.BoolVar(&o.guests, "guests", getenv("CHAT_GUESTS") == "1", "let people join public rooms with a display name only (env CHAT_GUESTS=1)")
	fs.BoolVar(&o.trustProxy, "trust-proxy", getenv("CHAT_TRUST_PROXY") == "1", "behind a reverse proxy on a loopback or private address: trust its X-Forwarded-For and X-Forwarded-Proto (env CHAT_TRUST_PROXY=1)")
	fs.StringVar(&o.pprofAddr, "pprof", getenv("CHAT_PPROF"), "serve Go's profiler on this address, e.g. 127.0.0.1:6060 (env CHAT_PPROF); off when empty")
	fs.DurationVar(&o.readTimeout, "read-timeout", 30*time.Second, "the most time a request, its body included, may take to arrive (env CHAT_READ_TIMEOUT); sockets are not bound by it, nor are file uploads while their bytes keep coming")
	fs.StringVar(&o.tlsCert, "tls-cert", getenv("CHAT_TLS_CERT"), "serve HTTPS (and WSS) with this PEM certificate (chain) file; needs -tls-key (env CHAT_TLS_CERT)")
	fs.StringVar(&o.tlsKey, "tls-key", getenv("CHAT_TLS_KEY"), "the PEM private key of -tls-cert (env CHAT_TLS_KEY)")
	fs.BoolVar(&o.webhooksPrivate, "webhooks-private", getenv("CHAT_WEBHOOKS_PRIVATE") == "1", "let bots' webhooks reach loopback and private addresses, for bots on this machine or network (env CHAT_WEBHOOKS_PRIVATE=1)")
	fs.StringVar(&o.signup, "signup", envOr(getenv, "CHAT_SIGNUP", handlers.SignupOpen), "who may make an account: open (anyone), invite (with an admin's invite link) or closed (env CHAT_SIGNUP)")
	fs.StringVar(&o.metricsAddr, "metrics", getenv("CHAT_METRICS"), "serve Prometheus metrics at http://ADDR/metrics, e.g. 127.0.0.1:9090 (env CHAT_METRICS); off when empty")
	fs.StringVar(&o.maxUpload, "max-upload", envOr(getenv, "CHAT_MAX_UPLOAD", "25MB"), "the largest file one upload may carry, such as 25MB or 512KB (env CHAT_MAX_UPLOAD)")
	fs.StringVar(&o.smtp, "smtp", getenv("CHAT_SMTP"), "send email through this SMTP server: smtp://user:pass@host:port (STARTTLS when offered) or smtps://... (TLS) (env CHAT_SMTP); email is off when empty")
	fs.StringVar(&o.mailFrom, "mail-from", getenv("CHAT_MAIL_FROM"), "the address emails come from, such as \"agora <chat@example.com>\" (env CHAT_MAIL_FROM)")
	fs.StringVar(&o.publicURL, "public-url", getenv("CHAT_PUBLIC_URL"), "where people reach this server, such as https://chat.example.com: the start of links in emails (env CHAT_PUBLIC_URL); default http(s)://ADDR")
	fs.StringVar(&o.pushSubject, "push-subject", getenv("CHAT_PUSH_SUBJECT"), "the contact push services are given with each push (the VAPID sub, as written), such as mailto:ops@example.com or https://chat.example.com (env CHAT_PUSH_SUBJECT); some push services refuse pushes without one")
	fs.BoolVar(&o.pushPrivate, "push-private", getenv("CHAT_PUSH_PRIVATE") == "1", "let browsers' push endpoints be on loopback and private addresses, for a push service on this machine or network (env CHAT_PUSH_PRIVATE=1)")
	fs.BoolVar(&o.unfurl, "unfurl", getenv("CHAT_UNFURL") != "0", "link previews: the job queue fetches the first page a message links to (5 s, 1 MiB, 3 redirects) and shows its title, description and picture under it; false turns them off (env CHAT_UNFURL=0)")
	fs.BoolVar(&o.unfurlPrivate, "unfurl-private", getenv("CHAT_UNFURL_PRIVATE") == "1", "let link previews fetch pages on loopback and private addresses, for an intranet (env CHAT_UNFURL_PRIVATE=1)")
	fs.StringVar(&o.storageQuota, "storage-quota", envOr(getenv, "CHAT_STORAGE_QUOTA", "256MB"), "how much each account's files may take unless an admin sets its own limit at /admin/storage, such as 256MB or 1GB; 0 for no default limit (env CHAT_STORAGE_QUOTA)")
	fs.StringVar(&o.storageTotal, "storage-total", getenv("CHAT_STORAGE_TOTAL"), "how much all files together may take, such as 50GB; off when empty (env CHAT_STORAGE_TOTAL)")
	fs.StringVar(&o.oidcIssuer, "oidc-issuer", getenv("CHAT_OIDC_ISSUER"), "sign people in with this OpenID Connect provider, e.g. https://id.example.com/realms/staff (env CHAT_OIDC_ISSUER); off when empty. Register {agora's URL}/login/oidc/callback with it")
	fs.StringVar(&o.oidcClientID, "oidc-client-id", getenv("CHAT_OIDC_CLIENT_ID"), "agora's client id at the -oidc-issuer provider (env CHAT_OIDC_CLIENT_ID)")
	fs.StringVar(&o.oidcSecret, "oidc-client-secret", getenv("CHAT_OIDC_CLIENT_SECRET"), "agora's client secret at the -oidc-issuer provider (env CHAT_OIDC_CLIENT_SECRET)")
	fs.BoolVar(&o.passwordLogin, "password-login", getenv("CHAT_PASSWORD_LOGIN") != "0", "with -oidc-issuer: false refuses password login and sign-up (403), the provider being the only way in (env CHAT_PASSWORD_LOGIN=0)")
	fs.IntVar(&o.retention, "retention", 0, "delete messages (and their files) older than this many days, at start and daily, in rooms without a retention of their own (set at /admin/rooms); 0 keeps them for ever (env CHAT_RETENTION)")
	fs.TextVar(&o.logLevel, "log-level", slog.LevelInfo, "the least important log lines written: debug (every request, assets and health checks too), info, warn or error (env CHAT_LOG_LEVEL)")
	for flagName, env := range map[string]string{"read-timeout": "CHAT_READ_TIMEOUT", "log-level": "CHAT_LOG_LEVEL", "retention": "CHAT_RETENTION"} {
		if v := getenv(env); v != "" {
			if err := fs.Set(flagName, v); err != nil {
				return nil, nil, fmt.Errorf("%s: %w", env, err)
			}
		}
	}
	return fs, o, nil
}

// connStates knows which connections have a request in flight.
type connStates struct {
	mu     sync.Mutex
	states map[net.Conn]http.ConnState
}

func (c *connStates) track(conn net.Conn, state http.ConnState) {
	c.mu.Lock()
	defer c.mu.Unlock()
	switch state {
	case http.StateClosed, http.StateHijacked:
		delete(c.states, conn)
	default:
		c.states[conn] = state
	}
}

func (c *connStates) active() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for _, s := range c.states {
		if s == http.StateActive {
			n++
		}
	}
	return n
}

// parseLimit reads a size for a storage limit: empty or 0 is none.
func parseLimit(v string) (int64, error) {
	if v = strings.TrimSpace(v); v == "" || v == "0" {
		return 0, nil
	}
	return handlers.ParseSize(v)
}

func envOr(getenv func(string) string, key, fallback string) string {
	if v := getenv(key); v != "" {
		return v
	}
	return fallback
}

// runBackup is `agora backup [-db SOURCE] DEST`: a consistent copy of a live
// SQLite database, usable at once as -db DEST.
func runBackup(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	fs := flag.NewFlagSet("agora backup", flag.ContinueOnError)
	fs.SetOutput(stdout)
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: agora backup [-db SOURCE] DEST\n\nCopies the SQLite database SOURCE to the new file DEST, safely while agora runs.")
		fs.PrintDefaults()
	}
	source := fs.String("db", envOr(getenv, "CHAT_DB", "agora.db"), "the database to copy (env CHAT_DB)")
	if err := fs.Parse(args[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	}
	if fs.NArg() != 1 {
		fs.Usage()
		return errors.New("backup: name one destination file")
	}
	dest := fs.Arg(0)
	if strings.HasPrefix(*source, "postgres://") || strings.HasPrefix(*source, "postgresql://") {
		return errors.New("backup: this database is PostgreSQL: back it up with pg_dump (pg_dump -Fc -f agora.dump URL), restore with pg_restore")
	}
	if err := db.Backup(ctx, *source, dest); err != nil {
		return err
	}
	size := int64(0)
	if fi, err := os.Stat(dest); err == nil {
		size = fi.Size()
	}
	fmt.Fprintf(stdout, "backup: copied %s to %s (%d bytes); run it with -db %s\n", *source, dest, size, dest)
	return nil
}

// publicURLOf is -public-url, checked, or else the address agora listens on
// (listening):
// links in emails never come from a request's Host header, which whoever
// sends the request writes.
func publicURLOf(public, listening string, tls bool) (string, error) {
	if public != "" {
		u, err := url.Parse(public)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || (u.Path != "" && u.Path != "/") || u.RawQuery != "" {
			return "", fmt.Errorf("-public-url must be like https://chat.example.com, not %q", public)
		}
		return u.Scheme + "://" + u.Host, nil
	}
	host, port, err := net.SplitHostPort(listening)
	if err != nil {
		return "", fmt.Errorf("listening on %q: %w", listening, err)
	}
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		host = "localhost"
	}
	scheme := "http://"
	if tls {
		scheme = "https://"
	}
	return scheme + net.JoinHostPort(host, port), nil
}
