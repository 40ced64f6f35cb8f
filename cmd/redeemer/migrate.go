package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"
	"golang.org/x/term"

	"redeemer/store"
)

// migrateUsage lists the migrate verbs; those dropVerb knows undo
// migrations, dropping tables with the tickets in them.
const migrateUsage = "usage: redeemer migrate [--database-url URL] [--yes] up | up-by-one | up-to VERSION | down | down-to VERSION | redo | reset | status | version"

// dropVerb says what a rolling-back verb does; ok is false for the others.
func dropVerb(verb string) (what string, ok bool) {
	switch verb {
	case "down":
		return "rolls back the latest migration", true
	case "down-to":
		return "rolls back every migration above the given version", true
	case "redo":
		return "rolls back the latest migration and applies it again", true
	case "reset":
		return "rolls back every migration", true
	}
	return "", false
}

// console is where a destructive migration is confirmed: the standard input
// and whether it is a terminal, apart so tests can play the operator.
type console struct {
	in       io.Reader
	terminal bool
}

func stdinConsole() console {
	return console{in: os.Stdin, terminal: term.IsTerminal(int(os.Stdin.Fd()))}
}

func runMigrate(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	return runMigrateWith(ctx, stdinConsole(), args, stderr)
}

func runMigrateWith(ctx context.Context, con console, args []string, stderr io.Writer) error {
	fs := flag.NewFlagSet("migrate", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var (
		dsn, passwordFile string
		yes               bool
		lf                logFlags
	)
	fs.StringVar(&dsn, "database-url", "", "PostgreSQL URL (required)")
	fs.StringVar(&passwordFile, "database-password-file", "", databasePasswordFileUsage)
	fs.BoolVar(&yes, "yes", false, "roll back (down, down-to, redo, reset) without asking; needed when stdin is not a terminal")
	lf.register(fs)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	log, err := lf.logger(stderr)
	if err != nil {
		return err
	}
	if dsn == "" {
		return errRequired("database-url")
	}
	if dsn, err = withDatabasePassword(dsn, passwordFile); err != nil {
		return err
	}
	rest := fs.Args()
	if len(rest) == 0 {
		return errors.New(migrateUsage)
	}
	verb := rest[0]
	switch verb {
	case "up", "up-by-one", "up-to", "status", "version":
	default:
		what, drops := dropVerb(verb)
		if !drops {
			return fmt.Errorf("unknown migrate command %q\n%s", verb, migrateUsage)
		}
		if !yes {
			if err := confirmDrop(con, stderr, verb, what, dsn); err != nil {
				return err
			}
		}
	}
	return store.Migrate(ctx, log, dsn, verb, rest[1:]...)
}

// confirmDrop asks the operator at the terminal to type yes before a
// rollback. Without a terminal there is no one to ask: a script must say
// --yes, so a rollback never happens by a stray command in a pipeline.
func confirmDrop(con console, stderr io.Writer, verb, what, dsn string) error {
	if !con.terminal {
		return fmt.Errorf("migrate %s %s and drops the tables and data it created; stdin is not a terminal, so pass --yes to confirm", verb, what)
	}
	fmt.Fprintf(stderr, "migrate %s %s of %s,\ndropping the tables and the data it created. Type yes to go on: ", verb, what, describeDatabase(dsn))
	answer, err := bufio.NewReader(con.in).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return fmt.Errorf("migrate %s: reading the answer: %w", verb, err)
	}
	if !strings.EqualFold(strings.TrimSpace(answer), "yes") {
		return fmt.Errorf("migrate %s: not confirmed; nothing changed", verb)
	}
	return nil
}

// describeDatabase names the database and server of dsn for the prompt,
// without its credentials.
func describeDatabase(dsn string) string {
	cfg, err := pgconn.ParseConfig(dsn)
	if err != nil {
		return "the database"
	}
	return fmt.Sprintf("database %q on %s:%d", cfg.Database, cfg.Host, cfg.Port)
}
