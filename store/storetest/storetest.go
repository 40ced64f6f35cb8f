// Package storetest gives each test its own freshly created and migrated
// PostgreSQL database, so tests can run in parallel and never see each
// other's rows.
//
// The server comes from TEST_DATABASE_URL (any database on it that the role
// may connect to; it is used only to create and drop test databases). When
// the variable is unset, a PostgreSQL container is started through
// testcontainers, once per test binary. Without either, tests fail: a
// database test that silently skips proves nothing.
package storetest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/testcontainers/testcontainers-go"
	tcpostgres "github.com/testcontainers/testcontainers-go/modules/postgres"

	"redeemer/store"
)

// EnvVar names the variable that points tests at an existing server.
const EnvVar = "TEST_DATABASE_URL"

// containerImage matches the major version the service is developed against.
const containerImage = "postgres:15-alpine"

// DatabasePrefix starts the name of every database this package creates, so
// leftovers from killed test runs are easy to find and drop.
const DatabasePrefix = "redeemer_test_"

// The container must outlive any single test and be shared by all of them,
// and New receives nothing but the test, so the lazily started server has to
// live at package level.
var server struct {
	once      sync.Once
	dsn       string
	err       error
	container *tcpostgres.PostgresContainer
}

// Main runs a package's tests and then removes the container, if one was
// started. Call it from TestMain; without it the container is still removed
// when the test binary exits, by testcontainers' reaper.
func Main(m *testing.M) {
	code := m.Run()
	if server.container != nil {
		if err := testcontainers.TerminateContainer(server.container); err != nil {
			fmt.Fprintf(os.Stderr, "storetest: terminate postgres container: %v\n", err)
		}
	}
	os.Exit(code)
}

// ServerDSN returns a DSN for the test server's maintenance database,
// starting the container on first use when TEST_DATABASE_URL is unset.
func ServerDSN(t testing.TB) string {
	t.Helper()
	if dsn := os.Getenv(EnvVar); dsn != "" {
		return dsn
	}
	server.once.Do(startContainer)
	if server.err != nil {
		t.Fatalf("storetest: no PostgreSQL for tests. Set %s (for example "+
			"%s=postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable) "+
			"or make a Docker daemon reachable so testcontainers can start %s. "+
			"Starting the container failed: %v", EnvVar, EnvVar, containerImage, server.err)
	}
	return server.dsn
}

func startContainer() {
	// testcontainers panics on some malformed Docker setups instead of
	// returning an error; either way the answer for the test is "no Docker".
	defer func() {
		if r := recover(); r != nil {
			server.err = fmt.Errorf("testcontainers panicked: %v", r)
		}
	}()
	// Pulling the image on a cold machine can take a while; this context is
	// not tied to the test that happened to come first.
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	c, err := tcpostgres.Run(ctx, containerImage,
		tcpostgres.WithDatabase("postgres"),
		tcpostgres.BasicWaitStrategies(),
	)
	if c != nil {
		server.container = c
	}
	if err != nil {
		server.err = err
		return
	}
	server.dsn, server.err = c.ConnectionString(ctx, "sslmode=disable")
}

// New creates an empty database on the test server, applies all migrations
// with store.Migrate and returns its DSN. The database is dropped when the
// test and its subtests finish.
func New(t testing.TB) (dsn string) {
	t.Helper()
	base := ServerDSN(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	name := DatabasePrefix + randomHex(8)
	if err := exec(ctx, base, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize()); err != nil {
		t.Fatalf("storetest: create database %s: %v", name, err)
	}
	// Registered before migrating so that a failed migration still cleans up.
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		// FORCE ends connections a test leaked, which would otherwise keep
		// the database alive and fail the drop.
		if err := exec(ctx, base, "DROP DATABASE IF EXISTS "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)"); err != nil {
			t.Errorf("storetest: drop database %s: %v", name, err)
		}
	})

	dsn, err := WithDatabase(base, name)
	if err != nil {
		t.Fatalf("storetest: %v", err)
	}
	if err := store.Migrate(ctx, nil, dsn, "up"); err != nil {
		t.Fatalf("storetest: migrate %s: %v", name, err)
	}
	return dsn
}

// NewStore is New plus an open Store that is closed before the database is
// dropped.
func NewStore(t testing.TB) *store.Store {
	t.Helper()
	dsn := New(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	s, err := store.Open(ctx, dsn)
	if err != nil {
		t.Fatalf("storetest: open store: %v", err)
	}
	t.Cleanup(s.Close)
	return s
}

// WithDatabase returns dsn with its database replaced by name. It accepts
// both URL and keyword/value DSNs.
func WithDatabase(dsn, name string) (string, error) {
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		u, err := url.Parse(dsn)
		if err != nil {
			return "", fmt.Errorf("parse dsn: %w", err)
		}
		u.Path = "/" + name
		u.RawPath = ""
		return u.String(), nil
	}
	// In keyword/value form a later key wins, so appending is enough.
	quoted := strings.ReplaceAll(strings.ReplaceAll(name, `\`, `\\`), `'`, `\'`)
	return strings.TrimSpace(dsn) + " dbname='" + quoted + "'", nil
}

func exec(ctx context.Context, dsn, sql string) error {
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	_, err = conn.Exec(ctx, sql)
	return err
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b) // never fails since Go 1.24; it crashes the program instead
	return hex.EncodeToString(b)
}
