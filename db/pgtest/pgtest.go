// Package pgtest runs a throwaway PostgreSQL cluster for tests, benchmarks
// and `make cluster`: initdb in a temporary directory, the server listening on
// a Unix socket in that directory only, run as the `postgres` OS user when we
// are root (PostgreSQL refuses to run as root). Nothing is downloaded: it
// uses the binaries of Debian's postgresql package (or any on PATH).
package pgtest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"syscall"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" database/sql driver
)

// Cluster is a running throwaway PostgreSQL server.
type Cluster struct {
	dir  string // holds the data directory, the socket and the log
	cmd  *exec.Cmd
	done chan error
}

// Options change how a cluster runs.
type Options struct {
	// Durable keeps fsync and synchronous commit on, as a real server has
	// them: for benchmarks. Tests run faster without.
	Durable bool
	// Log, when set, receives the server's log instead of a file in the
	// cluster's directory.
	Log *os.File
}

// Bin finds the directory of PostgreSQL's server binaries: the newest of
// Debian's /usr/lib/postgresql/*/bin, else the one on PATH that holds initdb.
func Bin() (string, error) {
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Slice(dirs, func(i, j int) bool { return version(dirs[i]) > version(dirs[j]) })
	for _, d := range dirs {
		if _, err := os.Stat(filepath.Join(d, "initdb")); err == nil {
			return d, nil
		}
	}
	if p, err := exec.LookPath("initdb"); err == nil {
		return filepath.Dir(p), nil
	}
	return "", errors.New("PostgreSQL's server binaries (initdb, postgres) are not installed: " +
		"install Debian's postgresql package (apt-get install postgresql)")
}

func version(binDir string) int {
	n, _ := strconv.Atoi(filepath.Base(filepath.Dir(binDir)))
	return n
}

// Start makes a new cluster in a fresh temporary directory and starts its
// server. The server gets SIGQUIT (immediate shutdown) if this process dies
// before calling Stop, so a crashed test leaves no server behind.
func Start(ctx context.Context, opt Options) (*Cluster, error) {
	bin, err := Bin()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "agora-pg-")
	if err != nil {
		return nil, fmt.Errorf("start postgres: %w", err)
	}
	c := &Cluster{dir: dir}
	if err := c.start(ctx, bin, opt); err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("start postgres: %w", err)
	}
	return c, nil
}

func (c *Cluster) start(ctx context.Context, bin string, opt Options) error {
	cred, err := serverUser(c.dir)
	if err != nil {
		return err
	}
	data := filepath.Join(c.dir, "data")
	initdb := exec.CommandContext(ctx, filepath.Join(bin, "initdb"), "-D", data, "-U", "postgres",
		"--auth=trust", "--encoding=UTF8", "--locale=C.UTF-8", "--no-sync")
	initdb.Dir = c.dir
	initdb.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
	if out, err := initdb.CombinedOutput(); err != nil {
		return fmt.Errorf("initdb: %w\n%s", err, out)
	}
	args := []string{"-D", data, "-k", c.dir, "-c", "listen_addresses=", "-c", "max_connections=300",
		"-c", "shared_buffers=64MB"}
	if !opt.Durable {
		args = append(args, "-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off")
	}
	log := opt.Log
	if log == nil {
		if log, err = os.Create(filepath.Join(c.dir, "postgres.log")); err != nil {
			return err
		}
		defer log.Close()
	}
	c.cmd = exec.Command(filepath.Join(bin, "postgres"), args...)
	c.cmd.Dir = c.dir
	c.cmd.Stdout, c.cmd.Stderr = log, log
	c.cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred, Pdeathsig: syscall.SIGQUIT, Setpgid: true}
	if err := c.cmd.Start(); err != nil {
		return err
	}
	c.done = make(chan error, 1)
	go func() { c.done <- c.cmd.Wait() }()
	return c.waitReady(ctx)
}

// serverUser chowns dir to the postgres user and returns its credentials
// when we are root; otherwise the server runs as we do.
func serverUser(dir string) (*syscall.Credential, error) {
	if os.Geteuid() != 0 {
		return nil, nil
	}
	u, err := user.Lookup("postgres")
	if err != nil {
		return nil, fmt.Errorf("running as root and there is no postgres user to run the server as: %w", err)
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	if err := os.Chown(dir, uid, gid); err != nil {
		return nil, err
	}
	return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}, nil
}

func (c *Cluster) waitReady(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	db, err := sql.Open("pgx", c.URL("postgres"))
	if err != nil {
		return err
	}
	defer db.Close()
	for {
		err := db.PingContext(ctx)
		if err == nil {
			return nil
		}
		select {
		case werr := <-c.done:
			c.done <- werr
			log, _ := os.ReadFile(filepath.Join(c.dir, "postgres.log"))
			return fmt.Errorf("postgres exited: %v\n%s", werr, log)
		case <-ctx.Done():
			return fmt.Errorf("postgres did not answer: %w", err)
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// URL is the connection URL of database name on this cluster.
func (c *Cluster) URL(name string) string {
	return "postgres://postgres@/" + url.PathEscape(name) + "?host=" + url.QueryEscape(c.dir) + "&sslmode=disable"
}

// Dir is the cluster's directory (its socket is there).
func (c *Cluster) Dir() string { return c.dir }

// PID is the process id of the server (the postmaster; each connection is
// served by a child of it), for benchmarks that measure its CPU.
func (c *Cluster) PID() int { return c.cmd.Process.Pid }

// CreateDatabase makes a new empty database with a random name and returns
// its URL.
func (c *Cluster) CreateDatabase(ctx context.Context) (string, error) {
	var b [6]byte
	rand.Read(b[:])
	name := "t_" + hex.EncodeToString(b[:])
	if err := c.admin(ctx, "CREATE DATABASE "+name+" TEMPLATE template0 STRATEGY FILE_COPY"); err != nil {
		return "", fmt.Errorf("create database: %w", err)
	}
	return c.URL(name), nil
}

// DropDatabase drops the database that url names, closing its connections.
func (c *Cluster) DropDatabase(ctx context.Context, dbURL string) error {
	u, err := url.Parse(dbURL)
	if err != nil {
		return err
	}
	name := u.Path[1:]
	if err := c.admin(ctx, `DROP DATABASE IF EXISTS "`+name+`" WITH (FORCE)`); err != nil {
		return fmt.Errorf("drop database: %w", err)
	}
	return nil
}

func (c *Cluster) admin(ctx context.Context, stmt string) error {
	db, err := sql.Open("pgx", c.URL("postgres"))
	if err != nil {
		return err
	}
	defer db.Close()
	_, err = db.ExecContext(ctx, stmt)
	return err
}

// Stop shuts the server down (fast shutdown: open sessions are ended) and
// removes the cluster's directory.
func (c *Cluster) Stop() error {
	var err error
	if c.cmd != nil && c.cmd.Process != nil {
		c.cmd.Process.Signal(syscall.SIGINT)
		select {
		case err = <-c.done:
			c.done <- err
		case <-time.After(30 * time.Second):
			c.cmd.Process.Kill()
			err = errors.New("postgres did not stop within 30s: killed")
		}
		var exit *exec.ExitError
		if errors.As(err, &exit) {
			err = nil // a server stopped by a signal reports it in its exit status
		}
	}
	return errors.Join(err, os.RemoveAll(c.dir))
}

// The cluster of a test binary is found through this environment variable
// (set by Main), not a package variable; the skip reason likewise.
const (
	envDir  = "AGORA_PGTEST_DIR"
	envSkip = "AGORA_PGTEST_SKIP"
)

// Main runs a test binary's tests with one cluster for all of them: call it
// from TestMain as os.Exit(pgtest.Main(m)). Without PostgreSQL's binaries
// the tests still run, and those that ask for a database skip, saying why.
func Main(m *testing.M) int {
	if _, err := Bin(); err != nil {
		os.Setenv(envSkip, err.Error())
		return m.Run()
	}
	c, err := Start(context.Background(), Options{})
	if err != nil {
		fmt.Fprintln(os.Stderr, "pgtest:", err)
		return 1
	}
	os.Setenv(envDir, c.dir)
	code := m.Run()
	if err := c.Stop(); err != nil {
		fmt.Fprintln(os.Stderr, "pgtest:", err)
	}
	return code
}

// Database returns the URL of a fresh database on the test binary's cluster
// (see Main), dropped when the test ends. It skips the test when PostgreSQL
// is not installed.
func Database(t testing.TB) string {
	t.Helper()
	dir := os.Getenv(envDir)
	if dir == "" {
		reason := os.Getenv(envSkip)
		if reason == "" {
			t.Fatal("pgtest: no cluster: call pgtest.Main from TestMain")
		}
		t.Skip("PostgreSQL: " + reason)
	}
	c := &Cluster{dir: dir}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	u, err := c.CreateDatabase(ctx)
	if err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := c.DropDatabase(ctx, u); err != nil {
			t.Errorf("pgtest: %v", err)
		}
	})
	return u
}
