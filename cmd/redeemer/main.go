// Command redeemer is the Livepeer ticket redemption service: `serve` in
// production, `dev` on an embedded simulated chain, `migrate` for the schema.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"sort"
	"strings"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			os.Exit(0)
		}
		fmt.Fprintln(os.Stderr, "redeemer:", err)
		os.Exit(1)
	}
}

type command struct {
	summary string
	run     func(ctx context.Context, args []string, stdout, stderr io.Writer) error
}

func commands() map[string]command {
	return map[string]command{
		"serve":       {"run the service against an Ethereum node (production)", runServe},
		"dev":         {"run the service on an embedded simulated chain with dev contracts", runDev},
		"devchain":    {"the dev contracts on a node of your own: deploy | rounds", runDevchain},
		"migrate":     {"apply, inspect or roll back database migrations: up | down | status | version | …", runMigrate},
		"tickets":     {"audit tickets: list | show HASH|ID | retry ID --reason TEXT", runTickets},
		"senders":     {"per sender: ticket counts and amounts by status, and the in-limbo amount", runSenders},
		"txs":         {"redemption transactions, or with --redemption ID the signed attempts of one", runTxs},
		"account":     accountCommand(),
		"version":     {"print the version and the source revision it was built from", runVersion},
		"healthcheck": {"exit 0 when a running service's /readyz answers 200 (a container HEALTHCHECK)", runHealthcheck},
	}
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cmds := commands()
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		usage(stderr, cmds)
		if len(args) == 0 {
			return errors.New("no command given")
		}
		return nil
	}
	c, ok := cmds[args[0]]
	if !ok {
		usage(stderr, cmds)
		return fmt.Errorf("unknown command %q", args[0])
	}
	return c.run(ctx, args[1:], stdout, stderr)
}

func usage(w io.Writer, cmds map[string]command) {
	names := make([]string, 0, len(cmds))
	for n := range cmds {
		names = append(names, n)
	}
	sort.Strings(names)
	fmt.Fprintln(w, "usage: redeemer <command> [flags]\n\ncommands:")
	for _, n := range names {
		fmt.Fprintf(w, "  %-12s %s\n", n, cmds[n].summary)
	}
	fmt.Fprintln(w, "\nEvery flag can also be set as REDEEMER_<FLAG> (upper case, '-' as '_'); a flag on the command line wins.")
	fmt.Fprintln(w, "serve, dev and devchain also read `flag value` lines from --config FILE, below both.")
}

// envName is the environment variable that sets a flag.
func envName(flagName string) string {
	return "REDEEMER_" + strings.ToUpper(strings.ReplaceAll(flagName, "-", "_"))
}

// errRequired reports a required flag that was given neither on the
// command line nor in its environment variable.
func errRequired(flagName string) error {
	return fmt.Errorf("--%s (or %s) is required", flagName, envName(flagName))
}

// errArgs reports positional arguments a command does not take.
func errArgs(command string, rest []string) error {
	return fmt.Errorf("%s takes no arguments, got %q", command, rest)
}

// logFlags are shared by every long-running command.
type logFlags struct{ format, level string }

func (l *logFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&l.format, "log-format", "text", "log format: text or json")
	fs.StringVar(&l.level, "log-level", "info", "log level: debug, info, warn or error")
}

func (l *logFlags) logger(w io.Writer) (*slog.Logger, error) {
	var level slog.Level
	if err := level.UnmarshalText([]byte(l.level)); err != nil {
		return nil, fmt.Errorf("--log-level: %w", err)
	}
	opts := &slog.HandlerOptions{Level: level, ReplaceAttr: durationsAsText}
	switch l.format {
	case "text":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	default:
		return nil, fmt.Errorf("--log-format must be text or json, not %q", l.format)
	}
}

// durationsAsText writes durations as Go prints them ("1.5s") in both
// formats: the JSON handler would write a number of nanoseconds, which a
// reader cannot take in at a glance and which disagrees with the text form.
func durationsAsText(_ []string, a slog.Attr) slog.Attr {
	if a.Value.Kind() == slog.KindDuration {
		a.Value = slog.StringValue(a.Value.Duration().String())
	}
	return a
}
