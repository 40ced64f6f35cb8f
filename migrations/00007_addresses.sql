-- +goose Up

-- Logs, metrics and the info file show addresses checksummed (EIP-55, mixed
-- case), while the audit views show them as lowercase hex and the tables
-- hold raw bytes. This function takes an address in any of those forms, so
-- a value pasted from a log finds its rows: compare a bytea column with
-- redeemer_address('0x…'), or a view's text column through it on both sides.
-- IMMUTABLE lets the planner fold a constant argument once, so a comparison
-- with a table column can use that column's index.
-- +goose StatementBegin
CREATE FUNCTION redeemer_address(address text) RETURNS bytea
    LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE
AS $$
DECLARE
    digits text := btrim(address, E' \t\r\n');
BEGIN
    IF lower(left(digits, 2)) = '0x' THEN
        digits := substr(digits, 3);
    END IF;
    IF digits !~ '^[0-9A-Fa-f]{40}$' THEN
        RAISE EXCEPTION 'redeemer_address: % is not a 20-byte hex address', quote_literal(address)
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'Give 40 hex digits, with or without 0x, in any case.';
    END IF;
    RETURN decode(digits, 'hex');
END
$$;
-- +goose StatementEnd

COMMENT ON FUNCTION redeemer_address(text) IS
    'An Ethereum address given as hex text in any case (EIP-55 checksummed as in the service''s logs, or lowercase as in the audit views), with or without 0x, as the 20 raw bytes the tables hold; an error for anything else. Use: WHERE sender = redeemer_address(''0xAbC…'') on tables, WHERE redeemer_address(sender) = redeemer_address(''0xAbC…'') on views. The checksum is not verified: case carries no meaning for the lookup.';

-- +goose Down
DROP FUNCTION redeemer_address(text);
