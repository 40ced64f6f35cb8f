package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/big"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"redeemer/store"
)

// The audit commands are read-only views of the database for operators,
// except `tickets retry`, the one write an operator may need without psql.
// They show what the audit views show in psql, so a value seen here can be
// pasted into a query and back.

// subcommand is one verb of a command group such as `tickets list`.
type subcommand struct {
	summary string
	run     func(ctx context.Context, args []string, stdout, stderr io.Writer) error
}

// runGroup dispatches `redeemer <group> <verb> ...` to the verb.
func runGroup(ctx context.Context, group string, subs map[string]subcommand, args []string, stdout, stderr io.Writer) error {
	verbs := make([]string, 0, len(subs))
	for v := range subs {
		verbs = append(verbs, v)
	}
	sort.Strings(verbs)
	usage := func() {
		fmt.Fprintf(stderr, "usage: redeemer %s <%s> [flags]\n\n", group, strings.Join(verbs, "|"))
		for _, v := range verbs {
			fmt.Fprintf(stderr, "  %-6s %s\n", v, subs[v].summary)
		}
		fmt.Fprintf(stderr, "\n`redeemer %s <verb> --help` lists a verb's flags.\n", group)
	}
	switch {
	case len(args) > 0 && (args[0] == "-h" || args[0] == "--help" || args[0] == "help"):
		usage()
		return nil
	case len(args) == 0 || strings.HasPrefix(args[0], "-"):
		usage()
		return fmt.Errorf("%s: no verb given: want %s", group, strings.Join(verbs, ", "))
	}
	sub, ok := subs[args[0]]
	if !ok {
		usage()
		return fmt.Errorf("%s: unknown verb %q: want %s", group, args[0], strings.Join(verbs, ", "))
	}
	return sub.run(ctx, args[1:], stdout, stderr)
}

// parseArgs parses flags wherever they stand among the positional
// arguments, as in `tickets retry 42 --reason …`; the standard flag package
// would stop at the 42. It returns the positional arguments.
func parseArgs(fs *flag.FlagSet, args []string) ([]string, error) {
	var flags, positional []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			positional = append(positional, args[i+1:]...)
			break
		}
		if len(a) < 2 || a[0] != '-' {
			positional = append(positional, a)
			continue
		}
		flags = append(flags, a)
		name, _, hasValue := strings.Cut(strings.TrimLeft(a, "-"), "=")
		if hasValue {
			continue
		}
		// A flag without "=value" takes the next argument, unless it is a
		// boolean; an unknown flag is left for Parse to report.
		if f := fs.Lookup(name); f != nil && i+1 < len(args) {
			if b, ok := f.Value.(interface{ IsBoolFlag() bool }); ok && b.IsBoolFlag() {
				continue
			}
			i++
			flags = append(flags, args[i])
		}
	}
	if err := parseFlags(fs, append(append(flags, "--"), positional...)); err != nil {
		return nil, err
	}
	return fs.Args(), nil
}

// auditFlags are the flags every audit command takes.
type auditFlags struct {
	databaseURL          string
	databasePasswordFile string
	format               string
}

func (a *auditFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&a.databaseURL, "database-url", "", "PostgreSQL URL (required)")
	fs.StringVar(&a.databasePasswordFile, "database-password-file", "", databasePasswordFileUsage)
	fs.StringVar(&a.format, "format", "table", "output format: table or json")
}

// validate also puts the password file's content into databaseURL.
func (a *auditFlags) validate() []error {
	var errs []error
	if a.databaseURL == "" {
		errs = append(errs, errRequired("database-url"))
	}
	if dsn, err := withDatabasePassword(a.databaseURL, a.databasePasswordFile); err != nil {
		errs = append(errs, err)
	} else {
		a.databaseURL = dsn
	}
	if a.format != "table" && a.format != "json" {
		errs = append(errs, fmt.Errorf("--format must be table or json, not %q", a.format))
	}
	return errs
}

func (a *auditFlags) open(ctx context.Context) (*store.Store, error) {
	st, err := store.Open(ctx, a.databaseURL)
	if err != nil {
		return nil, fmt.Errorf("database: %w", err)
	}
	return st, nil
}

func runTickets(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	return runGroup(ctx, "tickets", map[string]subcommand{
		"list":  {"list tickets, newest first, optionally filtered", runTicketsList},
		"show":  {"one ticket (HASH or ID) with its events and its redemption", runTicketsShow},
		"retry": {"requeue a failed ticket (ID) with --reason", runTicketsRetry},
	}, args, stdout, stderr)
}

func runTicketsList(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var (
		af                           auditFlags
		status, sender, since, until string
		limit                        int
	)
	fs := flag.NewFlagSet("tickets list", flag.ContinueOnError)
	fs.SetOutput(stderr)
	af.register(fs)
	fs.StringVar(&status, "status", "", "only tickets in this status: queued, redeeming, redeemed, failed or expired")
	fs.StringVar(&sender, "sender", "", "only tickets of this sender (0x address)")
	fs.StringVar(&since, "since", "", "only tickets received at or after this time: RFC3339, or a duration ago such as 90m, 24h or 7d")
	fs.StringVar(&until, "until", "", "only tickets received before this time: RFC3339, or a duration ago")
	fs.IntVar(&limit, "limit", 50, "at most this many tickets (0: all)")
	rest, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	errs := af.validate()
	if len(rest) > 0 {
		errs = append(errs, errArgs("tickets list", rest))
	}
	filter := store.TicketFilter{Status: status, Limit: limit}
	if status != "" && !store.ValidStatus(status) {
		errs = append(errs, fmt.Errorf("--status %q: want queued, redeeming, redeemed, failed or expired", status))
	}
	if sender != "" {
		a, err := parseAddress(sender)
		if err != nil {
			errs = append(errs, fmt.Errorf("--sender: %w", err))
		}
		b := [20]byte(a)
		filter.Sender = &b
	}
	now := time.Now()
	if filter.Since, err = parseTimeFlag(since, now); err != nil {
		errs = append(errs, fmt.Errorf("--since: %w", err))
	}
	if filter.Until, err = parseTimeFlag(until, now); err != nil {
		errs = append(errs, fmt.Errorf("--until: %w", err))
	}
	if filter.Since != nil && filter.Until != nil && !filter.Until.After(*filter.Since) {
		errs = append(errs, fmt.Errorf("--until %s is not after --since %s",
			filter.Until.Format(time.RFC3339), filter.Since.Format(time.RFC3339)))
	}
	if limit < 0 {
		errs = append(errs, fmt.Errorf("--limit %d: want 0 (all) or more", limit))
	}
	if len(errs) > 0 {
		return errors.Join(errs...)
	}

	st, err := af.open(ctx)
	if err != nil {
		return err
	}
	defer st.Close()
	rows, err := st.ListTickets(ctx, filter)
	if err != nil {
		return err
	}
	if af.format == "json" {
		return writeJSON(stdout, nonNil(rows))
	}
	tw := newTable(stdout)
	fmt.Fprintln(tw, "ID\tHASH\tSTATUS\tSENDER\tFACE VALUE (ETH)\tATTEMPTS\tRECEIVED\tREDEMPTION\tLAST ERROR")
	for _, r := range rows {
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%d\t%s\t%s\t%s\n", r.ID, r.TicketHash, r.Status, r.Sender,
			formatUnits(r.FaceValueWei, 18), r.Attempts, formatTime(&r.ReceivedAt), formatInt(r.RedemptionID),
			shorten(formatString(r.LastError), 80))
	}
	return tw.Flush()
}

func runTicketsShow(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var af auditFlags
	fs := flag.NewFlagSet("tickets show HASH|ID", flag.ContinueOnError)
	fs.SetOutput(stderr)
	af.register(fs)
	rest, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	errs := af.validate()
	if len(rest) != 1 {
		errs = append(errs, fmt.Errorf("tickets show takes one ticket hash or id, got %d arguments", len(rest)))
	}
	if len(errs) > 0 {
		return errors.Join(errs...)
	}

	st, err := af.open(ctx)
	if err != nil {
		return err
	}
	defer st.Close()
	d, err := st.TicketDetail(ctx, rest[0])
	if errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("ticket %s not found: %w", rest[0], store.ErrNotFound)
	}
	if err != nil {
		return err
	}
	if af.format == "json" {
		return writeJSON(stdout, d)
	}
	tw := newTable(stdout)
	fmt.Fprintln(tw, "ticket")
	writeFields(tw, d.Ticket)
	fmt.Fprintf(tw, "\nevents (%d)\n", len(d.Events))
	if len(d.Events) > 0 {
		fmt.Fprintln(tw, "ID\tAT\tFROM\tTO\tREDEMPTION\tREASON")
		for _, e := range d.Events {
			fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\n", e.ID, formatTime(&e.At), e.FromStatus, e.ToStatus,
				formatInt(e.RedemptionID), oneLine(formatString(e.Reason)))
		}
	}
	if d.Redemption != nil {
		fmt.Fprintf(tw, "\nredemption %d\n", d.Redemption.ID)
		writeFields(tw, *d.Redemption)
	} else {
		fmt.Fprintln(tw, "\nnever claimed into a redemption")
	}
	return tw.Flush()
}

func runTicketsRetry(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var (
		af     auditFlags
		reason string
	)
	fs := flag.NewFlagSet("tickets retry ID", flag.ContinueOnError)
	fs.SetOutput(stderr)
	af.register(fs)
	fs.StringVar(&reason, "reason", "", "why the ticket is retried, kept in its events (required)")
	rest, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	errs := af.validate()
	var id int64
	if len(rest) != 1 {
		errs = append(errs, fmt.Errorf("tickets retry takes one ticket id, got %d arguments", len(rest)))
	} else if id, err = strconv.ParseInt(rest[0], 10, 64); err != nil || id <= 0 {
		errs = append(errs, fmt.Errorf("ticket id %q: want a positive integer (the id column; `tickets show` finds it from a hash)", rest[0]))
	}
	if strings.TrimSpace(reason) == "" {
		errs = append(errs, fmt.Errorf("--reason is required: say why the ticket is retried"))
	}
	if len(errs) > 0 {
		return errors.Join(errs...)
	}

	st, err := af.open(ctx)
	if err != nil {
		return err
	}
	defer st.Close()
	if err := st.RetryTicket(ctx, id, reason); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("ticket %d not found: %w", id, store.ErrNotFound)
		}
		return err
	}
	if af.format == "json" {
		d, err := st.TicketDetail(ctx, strconv.FormatInt(id, 10))
		if err != nil {
			return err
		}
		return writeJSON(stdout, d.Ticket)
	}
	_, err = fmt.Fprintf(stdout, "ticket %d requeued (failed -> queued, attempts reset); "+
		"the worker checks it on chain again before redeeming it\n", id)
	return err
}

func runSenders(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var af auditFlags
	fs := flag.NewFlagSet("senders", flag.ContinueOnError)
	fs.SetOutput(stderr)
	af.register(fs)
	rest, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	errs := af.validate()
	if len(rest) > 0 {
		errs = append(errs, errArgs("senders", rest))
	}
	if len(errs) > 0 {
		return errors.Join(errs...)
	}

	st, err := af.open(ctx)
	if err != nil {
		return err
	}
	defer st.Close()
	rows, err := st.SenderSummaries(ctx)
	if err != nil {
		return err
	}
	if af.format == "json" {
		return writeJSON(stdout, nonNil(rows))
	}
	tw := newTable(stdout)
	fmt.Fprintln(tw, "SENDER\tQUEUED\tQUEUED ETH\tIN LIMBO\tIN LIMBO ETH\tREDEEMED\tREDEEMED ETH\tFAILED\tFAILED ETH\tEXPIRED\tEXPIRED ETH")
	for _, r := range rows {
		fmt.Fprintf(tw, "%s\t%d\t%s\t%d\t%s\t%d\t%s\t%d\t%s\t%d\t%s\n", r.Sender,
			r.Queued, formatUnits(r.QueuedWei, 18), r.InLimbo, formatUnits(r.InLimboWei, 18),
			r.Redeemed, formatUnits(r.RedeemedWei, 18), r.Failed, formatUnits(r.FailedWei, 18),
			r.Expired, formatUnits(r.ExpiredWei, 18))
	}
	return tw.Flush()
}

func runTxs(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var (
		af           auditFlags
		redemptionID int64
		limit        int
	)
	fs := flag.NewFlagSet("txs", flag.ContinueOnError)
	fs.SetOutput(stderr)
	af.register(fs)
	fs.Int64Var(&redemptionID, "redemption", 0, "list the signed transactions (attempts) of this redemption instead of the redemptions")
	fs.IntVar(&limit, "limit", 50, "at most this many redemptions, newest first (0: all)")
	rest, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	errs := af.validate()
	if len(rest) > 0 {
		errs = append(errs, errArgs("txs", rest))
	}
	if redemptionID < 0 {
		errs = append(errs, fmt.Errorf("--redemption %d: want a redemption id", redemptionID))
	}
	if limit < 0 {
		errs = append(errs, fmt.Errorf("--limit %d: want 0 (all) or more", limit))
	}
	if len(errs) > 0 {
		return errors.Join(errs...)
	}

	st, err := af.open(ctx)
	if err != nil {
		return err
	}
	defer st.Close()
	if redemptionID == 0 {
		rows, err := st.Redemptions(ctx, limit)
		if err != nil {
			return err
		}
		if af.format == "json" {
			return writeJSON(stdout, nonNil(rows))
		}
		tw := newTable(stdout)
		fmt.Fprintln(tw, "ID\tNONCE\tSTATUS\tTICKETS\tATTEMPTS\tLAST TX\tMINED BLOCK\tRECEIPT\tFEE PAID (ETH)\tCREATED\tOUTCOME")
		for _, r := range rows {
			fee := "-"
			if r.FeePaidWei != nil {
				fee = formatUnits(*r.FeePaidWei, 18)
			}
			fmt.Fprintf(tw, "%d\t%d\t%s\t%d\t%d\t%s\t%s\t%s\t%s\t%s\t%s\n", r.ID, r.Nonce, r.Status, r.TicketCount,
				r.Attempts, formatString(r.LastTxHash), formatInt(r.MinedBlock), formatInt(r.ReceiptStatus), fee,
				formatTime(&r.CreatedAt), shorten(formatString(r.Outcome), 80))
		}
		return tw.Flush()
	}

	rows, err := st.Attempts(ctx, redemptionID)
	if errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("redemption %d not found: %w", redemptionID, store.ErrNotFound)
	}
	if err != nil {
		return err
	}
	if af.format == "json" {
		return writeJSON(stdout, rows)
	}
	tw := newTable(stdout)
	fmt.Fprintln(tw, "ID\tTX HASH\tGAS LIMIT\tMAX FEE (GWEI)\tTIP (GWEI)\tCREATED BLOCK\tCREATED\tSENT\tSENDS\tSEND ERROR")
	for _, a := range rows {
		fmt.Fprintf(tw, "%d\t%s\t%d\t%s\t%s\t%d\t%s\t%s\t%d\t%s\n", a.ID, a.TxHash, a.GasLimit,
			formatUnits(a.MaxFeePerGas, 9), formatUnits(a.MaxPriorityFeePerGas, 9), a.CreatedBlock,
			formatTime(&a.CreatedAt), formatTime(a.SentAt), a.SendCount, shorten(formatString(a.SendError), 80))
	}
	return tw.Flush()
}

// parseTimeFlag reads an absolute RFC3339 time, or a duration before now
// ("24h", "90m"; "7d" for days, which Go durations lack). Empty is no bound.
func parseTimeFlag(s string, now time.Time) (*time.Time, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil, nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return &t, nil
	}
	var d time.Duration
	if days, ok := strings.CutSuffix(s, "d"); ok {
		n, err := strconv.ParseUint(days, 10, 16)
		if err != nil {
			return nil, fmt.Errorf("%q is neither an RFC3339 time (2006-01-02T15:04:05Z) nor a duration ago (24h, 7d)", s)
		}
		d = time.Duration(n) * 24 * time.Hour
	} else {
		var err error
		if d, err = time.ParseDuration(s); err != nil {
			return nil, fmt.Errorf("%q is neither an RFC3339 time (2006-01-02T15:04:05Z) nor a duration ago (24h, 7d)", s)
		}
	}
	if d < 0 {
		return nil, fmt.Errorf("duration %q is negative: give how long ago", s)
	}
	t := now.Add(-d)
	return &t, nil
}

func newTable(w io.Writer) *tabwriter.Writer {
	return tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// nonNil makes an empty result print as [] rather than null, which is what a
// script iterating over it expects.
func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

// writeFields prints a row as "column value" lines, labelled with the JSON
// names, which are the audit views' column names.
func writeFields(w io.Writer, row any) {
	v := reflect.ValueOf(row)
	for i := range v.NumField() {
		name, _, _ := strings.Cut(v.Type().Field(i).Tag.Get("json"), ",")
		fmt.Fprintf(w, "  %s\t%s\n", name, formatValue(v.Field(i)))
	}
}

func formatValue(v reflect.Value) string {
	if v.Kind() == reflect.Pointer {
		if v.IsNil() {
			return "-"
		}
		v = v.Elem()
	}
	if t, ok := v.Interface().(time.Time); ok {
		return formatTime(&t)
	}
	return oneLine(fmt.Sprint(v.Interface()))
}

func formatTime(t *time.Time) string {
	if t == nil {
		return "-"
	}
	return t.UTC().Format(time.RFC3339)
}

func formatInt(n *int64) string {
	if n == nil {
		return "-"
	}
	return strconv.FormatInt(*n, 10)
}

func formatString(s *string) string {
	if s == nil {
		return "-"
	}
	return *s
}

// oneLine keeps a free-text value (an error from a node, an operator's
// reason) from breaking the table's rows and columns.
func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

func shorten(s string, n int) string {
	s = oneLine(s)
	if r := []rune(s); len(r) > n {
		return string(r[:n-1]) + "…"
	}
	return s
}

// formatUnits renders an integer amount of the smallest unit (wei) in a
// unit 10^decimals larger (ETH: 18, gwei: 9), exactly: no float is involved,
// and trailing zeros are dropped. A value that is not an integer is shown as
// it is.
func formatUnits(amount string, decimals int) string {
	v, ok := new(big.Int).SetString(amount, 10)
	if !ok || v.Sign() < 0 {
		return amount
	}
	q, r := new(big.Int).QuoRem(v, new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(decimals)), nil), new(big.Int))
	digits := r.String()
	frac := strings.TrimRight(strings.Repeat("0", decimals-len(digits))+digits, "0")
	if frac == "" {
		return q.String()
	}
	return q.String() + "." + frac
}
