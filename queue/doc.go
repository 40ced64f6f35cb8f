// Package queue is the redemption worker: on every new head it claims the
// tickets that are due, submits their redemption transactions and settles
// them when final (see DESIGN.md, ticket life and invariants 1–4 and 6). It
// is built in the redemption issue; intake already stores what it needs.
package queue
