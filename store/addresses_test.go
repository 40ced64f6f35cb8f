package store_test

import (
	"encoding/hex"
	"strings"
	"testing"

	"github.com/ethereum/go-ethereum/common"
	"github.com/jackc/pgx/v5"

	"redeemer/store/storetest"
)

// An address pasted from a log (EIP-55 mixed case) or from an audit view
// (lowercase) finds the same rows, in tables and in views.
func TestAddressLookupAcceptsEitherCase(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	s := storetest.NewStore(t)
	nt := sampleTicket(0x5a)
	// An address whose checksum form has both cases, so the test would
	// notice a case-sensitive comparison.
	copy(nt.Sender[:], common.FromHex("0xfb6916095ca1df60bb79ce92ce3ea74c37c5d359"))
	if _, err := s.InsertTicket(ctx, nt); err != nil {
		t.Fatal(err)
	}
	if _, err := s.InsertTicket(ctx, sampleTicket(0x10)); err != nil {
		t.Fatal(err)
	}
	checksummed := common.Address(nt.Sender).Hex()
	lower := "0x" + hex.EncodeToString(nt.Sender[:])
	if checksummed == lower || checksummed == strings.ToUpper(lower) {
		t.Fatalf("%s is not mixed case; the test needs one that is", checksummed)
	}

	queries := map[string]string{
		"table":          `SELECT count(*) FROM tickets WHERE sender = redeemer_address($1)`,
		"ticket_audit":   `SELECT count(*) FROM ticket_audit WHERE redeemer_address(sender) = redeemer_address($1)`,
		"sender_summary": `SELECT count(*) FROM sender_summary WHERE redeemer_address(sender) = redeemer_address($1)`,
	}
	for _, in := range []string{checksummed, lower, strings.ToUpper(lower[2:]), " " + checksummed + "\n"} {
		for name, q := range queries {
			var n int
			if err := s.Pool().QueryRow(ctx, q, in).Scan(&n); err != nil {
				t.Fatalf("%s with %q: %v", name, in, err)
			}
			if n != 1 {
				t.Errorf("%s with %q: %d rows, want 1", name, in, n)
			}
		}
	}

	for _, bad := range []string{"0x1234", lower + "00", "0x" + strings.Repeat("zz", 20), "", "0x"} {
		var b []byte
		err := s.Pool().QueryRow(ctx, `SELECT redeemer_address($1)`, bad).Scan(&b)
		if sqlState(err) != "22023" {
			t.Errorf("redeemer_address(%q): err = %v, want invalid_parameter_value (22023)", bad, err)
		}
	}
	var null []byte
	if err := s.Pool().QueryRow(ctx, `SELECT redeemer_address(NULL)`).Scan(&null); err != nil || null != nil {
		t.Errorf("redeemer_address(NULL) = %x, %v; want NULL", null, err)
	}
}

// Every function the migrations create is documented, as tables and views
// are (TestEverySchemaObjectIsCommented).
func TestEveryFunctionIsCommented(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	s := storetest.NewStore(t)
	rows, err := s.Pool().Query(ctx, `SELECT p.oid::regprocedure::text FROM pg_proc p
		WHERE p.pronamespace = 'public'::regnamespace
		  AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = p.oid AND d.deptype = 'e')
		  AND coalesce(obj_description(p.oid, 'pg_proc'), '') = ''`)
	if err != nil {
		t.Fatal(err)
	}
	missing, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	if len(missing) > 0 {
		t.Errorf("functions without COMMENT: %s", strings.Join(missing, ", "))
	}
	var n int
	if err := s.Pool().QueryRow(ctx, `SELECT count(*) FROM pg_proc
		WHERE pronamespace = 'public'::regnamespace AND proname IN ('redeemer_address', 'tickets_set_updated_at')`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 2 {
		t.Errorf("found %d of the 2 known functions; the check is looking at the wrong schema", n)
	}
}
