// Package migrations holds the database schema as goose SQL migrations,
// embedded so that the binary can migrate a database without any files
// beside it.
package migrations

import "embed"

// FS holds every migration, named NNNNN_description.sql as goose expects.
//
//go:embed *.sql
var FS embed.FS
