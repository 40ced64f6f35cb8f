// Package queue redeems tickets: it holds the leader's redemption stages —
// claim (due tickets into signed, committed, then broadcast transactions),
// track (receipts, confirmations, finality, drops, re-pricing), expire
// (tickets past their validity) and funding (the redemption account's
// balance) — each run by the pipeline on its own loop (docs/design.md,
// "Pipeline"). Every state change is committed in PostgreSQL, fenced by the
// leader term, before anything outside the database relies on it; a failure
// that belongs to one ticket touches only that ticket.
package queue
