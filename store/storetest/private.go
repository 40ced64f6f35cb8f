package storetest

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	osexec "os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"redeemer/store"
)

// PGBinDirEnv names the variable that points NewPrivate at the directory
// holding initdb and postgres, when neither pg_config nor the Debian layout
// finds them.
const PGBinDirEnv = "REDEEMER_PG_BINDIR"

// Private is a PostgreSQL server that belongs to one test: its own data
// directory, port and socket directory, so the test may stop, restart or
// crash it without touching the server other tests share. It runs with
// fsync on, as production does, so a restart loses nothing committed.
type Private struct {
	// DSN reaches the maintenance database "postgres" as superuser
	// "postgres" over TCP on loopback.
	DSN string
	// Port is the TCP port the server listens on, the same across restarts.
	Port int

	t       testing.TB
	bin     string
	dir     string // root of the throwaway tree, removed at cleanup
	data    string
	sockDir string
	logPath string
	cred    *syscall.Credential // nil when not running as root

	mu     sync.Mutex
	cmd    *osexec.Cmd
	exited chan struct{}
}

// NewPrivate initializes a fresh cluster with initdb (trust auth, fsync on)
// in a temporary directory, starts it on a free loopback port and returns
// it running. The server is stopped and its files removed when the test
// ends. It fails the test, never skips it, when the PostgreSQL server
// binaries cannot be found.
//
// initdb and postgres refuse to run as root; run as root, both are started
// as the "postgres" user, which must exist.
func NewPrivate(t testing.TB) *Private {
	t.Helper()
	bin, err := serverBinDir()
	if err != nil {
		t.Fatalf("storetest: private PostgreSQL: %v", err)
	}
	p := &Private{t: t, bin: bin}
	if os.Geteuid() == 0 {
		if p.cred, err = postgresCredential(); err != nil {
			t.Fatalf("storetest: private PostgreSQL: %v", err)
		}
	}
	// Not t.TempDir: its parents are private to root, and the server runs
	// as another user that must reach the data directory.
	if p.dir, err = os.MkdirTemp("", "redeemer-pg-"); err != nil {
		t.Fatalf("storetest: private PostgreSQL: %v", err)
	}
	t.Cleanup(func() {
		p.halt(syscall.SIGQUIT) // immediate: the data is thrown away
		if err := os.RemoveAll(p.dir); err != nil {
			t.Errorf("storetest: remove private PostgreSQL files: %v", err)
		}
	})
	p.data = filepath.Join(p.dir, "data")
	p.sockDir = filepath.Join(p.dir, "sock")
	p.logPath = filepath.Join(p.dir, "postgres.log")
	if err := p.prepareDirs(); err != nil {
		t.Fatalf("storetest: private PostgreSQL: %v", err)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	initdb := osexec.CommandContext(ctx, filepath.Join(bin, "initdb"),
		"--pgdata", p.data, "--username", "postgres", "--auth", "trust",
		"--encoding", "UTF8", "--locale", "C", "--no-instructions")
	initdb.SysProcAttr = &syscall.SysProcAttr{Credential: p.cred}
	if out, err := initdb.CombinedOutput(); err != nil {
		t.Fatalf("storetest: initdb: %v\n%s", err, out)
	}

	if p.Port, err = freePort(); err != nil {
		t.Fatalf("storetest: private PostgreSQL: %v", err)
	}
	p.DSN = fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable", p.Port)
	if err := p.Start(ctx); err != nil {
		t.Fatalf("storetest: %v", err)
	}
	return p
}

// NewDatabase creates a database on the private server, applies every
// migration and returns its DSN. It goes away with the server.
func (p *Private) NewDatabase(t testing.TB) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	name := DatabasePrefix + randomHex(8)
	if err := exec(ctx, p.DSN, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize()); err != nil {
		t.Fatalf("storetest: create database %s on the private server: %v", name, err)
	}
	dsn, err := WithDatabase(p.DSN, name)
	if err != nil {
		t.Fatalf("storetest: %v", err)
	}
	if err := store.Migrate(ctx, nil, dsn, "up"); err != nil {
		t.Fatalf("storetest: migrate %s: %v", name, err)
	}
	return dsn
}

// Start starts the server and waits until it accepts connections. Starting
// a running server is an error.
func (p *Private) Start(ctx context.Context) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cmd != nil {
		return errors.New("private PostgreSQL already running")
	}
	logFile, err := os.OpenFile(p.logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return fmt.Errorf("private PostgreSQL log: %w", err)
	}
	defer logFile.Close() // the child holds its own descriptor
	cmd := osexec.Command(filepath.Join(p.bin, "postgres"),
		"-D", p.data, "-p", strconv.Itoa(p.Port), "-k", p.sockDir,
		"-c", "listen_addresses=127.0.0.1",
		"-c", "fsync=on",
		"-c", "shared_buffers=16MB",
		"-c", "max_connections=200")
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.SysProcAttr = &syscall.SysProcAttr{
		Credential: p.cred,
		// Its own process group, so a Ctrl-C meant for the test run does
		// not shut the server down underneath the test.
		Setpgid: true,
		// A test binary killed by its timeout runs no cleanup; the server
		// must not outlive it on a shared machine. SIGQUIT is PostgreSQL's
		// immediate shutdown.
		Pdeathsig: syscall.SIGQUIT,
	}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start private PostgreSQL: %w", err)
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	p.cmd, p.exited = cmd, exited

	deadline := time.Now().Add(60 * time.Second)
	for {
		cctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		err := exec(cctx, p.DSN, "SELECT 1")
		cancel()
		if err == nil {
			return nil
		}
		select {
		case <-exited:
			p.cmd, p.exited = nil, nil
			return fmt.Errorf("private PostgreSQL exited at start: %v\n%s", cmd.ProcessState, p.logTail())
		default:
		}
		if ctx.Err() != nil || time.Now().After(deadline) {
			return fmt.Errorf("private PostgreSQL not accepting connections: %v\n%s", err, p.logTail())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Stop shuts the server down the way `pg_ctl stop -m fast` does: sessions
// are ended, open transactions rolled back, and a checkpoint written. It
// waits for the server to exit. Stopping a stopped server does nothing.
func (p *Private) Stop() error {
	if !p.halt(syscall.SIGINT) {
		return fmt.Errorf("private PostgreSQL did not stop within a minute; killed it\n%s", p.logTail())
	}
	return nil
}

// Restart stops the server, leaves it down for down, and starts it again
// on the same port.
func (p *Private) Restart(ctx context.Context, down time.Duration) error {
	if err := p.Stop(); err != nil {
		return err
	}
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(down):
	}
	return p.Start(ctx)
}

// Running reports whether the server process is up.
func (p *Private) Running() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.cmd != nil
}

// Log returns the server's log so far, for failure messages.
func (p *Private) Log() string {
	b, err := os.ReadFile(p.logPath)
	if err != nil {
		return fmt.Sprintf("(no log: %v)", err)
	}
	return string(b)
}

// halt sends sig to the postmaster and waits for it to exit; after a
// minute it kills it and reports false.
func (p *Private) halt(sig syscall.Signal) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cmd == nil {
		return true
	}
	cmd, exited := p.cmd, p.exited
	p.cmd, p.exited = nil, nil
	cmd.Process.Signal(sig)
	select {
	case <-exited:
		return true
	case <-time.After(time.Minute):
		cmd.Process.Kill()
		<-exited
		return false
	}
}

func (p *Private) logTail() string {
	log := p.Log()
	if len(log) > 4000 {
		log = "…" + log[len(log)-4000:]
	}
	return log
}

// prepareDirs creates the data and socket directories owned by the user
// the server runs as.
func (p *Private) prepareDirs() error {
	// The server user must traverse the root; nothing secret lives here.
	if err := os.Chmod(p.dir, 0o755); err != nil {
		return err
	}
	for _, d := range []string{p.data, p.sockDir} {
		if err := os.Mkdir(d, 0o700); err != nil {
			return err
		}
		if p.cred != nil {
			if err := os.Chown(d, int(p.cred.Uid), int(p.cred.Gid)); err != nil {
				return err
			}
		}
	}
	return nil
}

// serverBinDir finds the directory of initdb and postgres: PGBinDirEnv,
// then `pg_config --bindir`, then the newest /usr/lib/postgresql/*/bin.
func serverBinDir() (string, error) {
	var tried []string
	has := func(dir string) bool {
		for _, name := range []string{"initdb", "postgres"} {
			if fi, err := os.Stat(filepath.Join(dir, name)); err != nil || fi.IsDir() {
				return false
			}
		}
		return true
	}
	if dir := os.Getenv(PGBinDirEnv); dir != "" {
		if has(dir) {
			return dir, nil
		}
		tried = append(tried, dir+" ("+PGBinDirEnv+")")
	}
	if out, err := osexec.Command("pg_config", "--bindir").Output(); err == nil {
		dir := strings.TrimSpace(string(out))
		if has(dir) {
			return dir, nil
		}
		tried = append(tried, dir+" (pg_config --bindir)")
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	best, bestVersion := "", -1
	for _, dir := range dirs {
		v, err := strconv.Atoi(filepath.Base(filepath.Dir(dir)))
		if err == nil && v > bestVersion && has(dir) {
			best, bestVersion = dir, v
		}
		tried = append(tried, dir)
	}
	if best != "" {
		return best, nil
	}
	return "", fmt.Errorf("no initdb and postgres binaries found (looked in %s); install the PostgreSQL server "+
		"(apt-get install postgresql) or set %s to their directory", strings.Join(append(tried, "/usr/lib/postgresql/*/bin"), ", "), PGBinDirEnv)
}

// postgresCredential is the "postgres" user, which the server runs as when
// the test runs as root.
func postgresCredential() (*syscall.Credential, error) {
	u, err := user.Lookup("postgres")
	if err != nil {
		return nil, fmt.Errorf("running as root, and initdb refuses root: need a \"postgres\" user to run it as: %w", err)
	}
	uid, err := strconv.ParseUint(u.Uid, 10, 32)
	if err != nil {
		return nil, fmt.Errorf("user postgres: uid %q: %w", u.Uid, err)
	}
	gid, err := strconv.ParseUint(u.Gid, 10, 32)
	if err != nil {
		return nil, fmt.Errorf("user postgres: gid %q: %w", u.Gid, err)
	}
	return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}, nil
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("find a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
