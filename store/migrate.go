package store

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"

	"redeemer/migrations"
)

// migrateLockWaitSeconds is how long a replica waits for another replica's
// migration to finish. Polling every second keeps rolling restarts quick;
// goose's default of five seconds per probe would stall each replica.
const migrateLockWaitSeconds = 300

// Migrate applies the embedded migrations to the database named by dsn.
// command is one of goose's: "up", "up-by-one", "up-to VERSION", "down",
// "down-to VERSION", "redo", "reset", "status" or "version" (the version is
// passed in args). Replicas may call it at the same time: changes run under a
// PostgreSQL session advisory lock, so each migration is applied once. What
// it reports goes to log, the command's logger (nil: nowhere).
func Migrate(ctx context.Context, log *slog.Logger, dsn string, command string, args ...string) error {
	cfg, err := connConfig(dsn)
	if err != nil {
		return fmt.Errorf("migrate: parse dsn: %w", err)
	}
	if cfg.ConnectTimeout == 0 {
		cfg.ConnectTimeout = defaultConnectTimeout
	}
	db := stdlib.OpenDB(*cfg)
	defer db.Close()

	locker, err := lock.NewPostgresSessionLocker(lock.WithLockTimeout(1, migrateLockWaitSeconds))
	if err != nil {
		return fmt.Errorf("migrate: session locker: %w", err)
	}
	log = orDiscard(log).With("component", "migrate")
	p, err := goose.NewProvider(goose.DialectPostgres, db, migrations.FS,
		goose.WithSessionLocker(locker),
		// Only the embedded SQL files define the schema; Go migrations
		// registered by some imported package must not sneak in.
		goose.WithDisableGlobalRegistry(true),
		goose.WithSlog(log),
	)
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}

	version := func() (int64, error) {
		if len(args) != 1 {
			return 0, fmt.Errorf("migrate %s: want exactly one VERSION argument, got %d", command, len(args))
		}
		v, err := strconv.ParseInt(args[0], 10, 64)
		if err != nil {
			return 0, fmt.Errorf("migrate %s: bad version %q: %w", command, args[0], err)
		}
		return v, nil
	}
	noArgs := func() error {
		if len(args) != 0 {
			return fmt.Errorf("migrate %s: takes no arguments, got %q", command, args)
		}
		return nil
	}
	logResults := func(results ...*goose.MigrationResult) {
		for _, r := range results {
			if r != nil {
				log.InfoContext(ctx, "migration ran",
					"version", r.Source.Version, "direction", r.Direction,
					"file", r.Source.Path, "empty", r.Empty, "duration", r.Duration)
			}
		}
	}

	switch command {
	case "up":
		if err := noArgs(); err != nil {
			return err
		}
		res, err := p.Up(ctx)
		if err != nil {
			return fmt.Errorf("migrate up: %w", err)
		}
		logResults(res...)
	case "up-by-one":
		if err := noArgs(); err != nil {
			return err
		}
		res, err := p.UpByOne(ctx)
		if err != nil {
			return fmt.Errorf("migrate up-by-one: %w", err)
		}
		logResults(res)
	case "up-to":
		v, err := version()
		if err != nil {
			return err
		}
		res, err := p.UpTo(ctx, v)
		if err != nil {
			return fmt.Errorf("migrate up-to %d: %w", v, err)
		}
		logResults(res...)
	case "down":
		if err := noArgs(); err != nil {
			return err
		}
		res, err := p.Down(ctx)
		if err != nil {
			return fmt.Errorf("migrate down: %w", err)
		}
		logResults(res)
	case "down-to":
		v, err := version()
		if err != nil {
			return err
		}
		res, err := p.DownTo(ctx, v)
		if err != nil {
			return fmt.Errorf("migrate down-to %d: %w", v, err)
		}
		logResults(res...)
	case "redo":
		if err := noArgs(); err != nil {
			return err
		}
		down, err := p.Down(ctx)
		if err != nil {
			return fmt.Errorf("migrate redo: %w", err)
		}
		logResults(down)
		up, err := p.ApplyVersion(ctx, down.Source.Version, true)
		if err != nil {
			return fmt.Errorf("migrate redo: %w", err)
		}
		logResults(up)
	case "reset":
		if err := noArgs(); err != nil {
			return err
		}
		res, err := p.DownTo(ctx, 0)
		if err != nil {
			return fmt.Errorf("migrate reset: %w", err)
		}
		logResults(res...)
	case "status":
		if err := noArgs(); err != nil {
			return err
		}
		statuses, err := p.Status(ctx)
		if err != nil {
			return fmt.Errorf("migrate status: %w", err)
		}
		for _, st := range statuses {
			attrs := []any{"version", st.Source.Version, "file", st.Source.Path, "state", string(st.State)}
			if st.State == goose.StateApplied {
				attrs = append(attrs, "applied_at", st.AppliedAt)
			}
			log.InfoContext(ctx, "migration status", attrs...)
		}
	case "version":
		if err := noArgs(); err != nil {
			return err
		}
		v, err := p.GetDBVersion(ctx)
		if err != nil {
			return fmt.Errorf("migrate version: %w", err)
		}
		log.InfoContext(ctx, "database version", "version", v)
	default:
		return fmt.Errorf("migrate: unknown command %q (want up, up-by-one, up-to, down, down-to, redo, reset, status or version)", command)
	}
	return nil
}

// EnsureDatabase creates the database named in dsn if the server does not
// have it yet, connecting through the server's "postgres" maintenance
// database. It exists for the dev mode, where a developer should not have to
// run createdb by hand; in production the database is provisioned up front.
// A database it creates is logged to log (nil: nowhere).
func EnsureDatabase(ctx context.Context, log *slog.Logger, dsn string) error {
	cfg, err := connConfig(dsn)
	if err != nil {
		return fmt.Errorf("ensure database: parse dsn: %w", err)
	}
	if cfg.ConnectTimeout == 0 {
		cfg.ConnectTimeout = defaultConnectTimeout
	}
	name := cfg.Database
	if name == "" {
		return errors.New("ensure database: dsn names no database")
	}

	// Trying the target first works for roles that may not connect to the
	// maintenance database, and is the common case after the first start.
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err == nil {
		return conn.Close(ctx)
	}
	if !isSQLState(err, "3D000") { // invalid_catalog_name: no such database
		return fmt.Errorf("ensure database %q: %w", name, err)
	}

	admin := cfg.Copy()
	admin.Database = "postgres"
	conn, err = pgx.ConnectConfig(ctx, admin)
	if err != nil {
		return fmt.Errorf("ensure database %q: connect to maintenance database: %w", name, err)
	}
	defer conn.Close(context.WithoutCancel(ctx))

	// CREATE DATABASE cannot take parameters, hence the quoted identifier.
	_, err = conn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize())
	if isSQLState(err, "42P04") { // duplicate_database: another process won the race
		return nil
	}
	if err != nil {
		return fmt.Errorf("ensure database %q: create: %w", name, err)
	}
	orDiscard(log).InfoContext(ctx, "created database", "database", name)
	return nil
}

// orDiscard lets callers that have no logger, such as tests, pass nil
// rather than have the package fall back to the process-wide default.
func orDiscard(log *slog.Logger) *slog.Logger {
	if log == nil {
		return slog.New(slog.DiscardHandler)
	}
	return log
}

func isSQLState(err error, code string) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && pgErr.Code == code
}

// connConfig parses the service's DSN for a single connection. The DSN may
// carry pool_* settings for the service's pool, which a plain connection
// would send to the server as unknown parameters; the pool's parser takes
// them out.
func connConfig(dsn string) (*pgx.ConnConfig, error) {
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		return nil, err
	}
	return cfg.ConnConfig, nil
}
