package store

import (
	"context"
	"errors"
	"io"
	"net"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/puddle/v2"
)

// IsUnavailable reports whether err means the database could not be reached
// or stopped serving, or rolled the transaction back for a conflict with
// another (deadlock, serialization), as opposed to rejecting the request. The gRPC layer
// maps such errors to codes.Unavailable, which tells clients that retrying
// later is the right response; a constraint violation must not look like that.
func IsUnavailable(err error) bool {
	if err == nil {
		return false
	}
	// A cancelled caller is not an outage; a timeout usually is.
	if errors.Is(err, context.DeadlineExceeded) || pgconn.Timeout(err) {
		return true
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return unavailableSQLState(pgErr.Code)
	}
	var connectErr *pgconn.ConnectError
	if errors.As(err, &connectErr) {
		return true
	}
	if pgconn.SafeToRetry(err) {
		return true
	}
	if errors.Is(err, puddle.ErrClosedPool) {
		return true
	}
	// A connection that dies mid-statement surfaces as a broken socket rather
	// than a server error; the outcome of that statement is unknown, which
	// callers handle by retrying idempotent writes.
	var netErr net.Error
	if errors.As(err, &netErr) {
		return true
	}
	return errors.Is(err, io.EOF) ||
		errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, net.ErrClosed) ||
		errors.Is(err, pgconn.ErrConnClosed)
}

func unavailableSQLState(code string) bool {
	switch {
	case strings.HasPrefix(code, "08"): // connection_exception
		return true
	case strings.HasPrefix(code, "53"): // insufficient_resources, e.g. too_many_connections
		return true
	case code == "57P01", code == "57P02", code == "57P03": // admin/crash shutdown, cannot_connect_now
		return true
	case code == "40001", code == "40P01":
		// serialization_failure, deadlock_detected: the transaction was
		// rolled back whole and may simply run again.
		return true
	}
	return false
}
