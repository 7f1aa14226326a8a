package seed

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/b2badmin/b2badmin/client"
)

// seedRefuseNonEmpty locks the seeded tables (nobody can insert while we
// load) and refuses when any of them already holds rows: Seed writes
// explicit ids, and demo data on top of real data would be a disaster.
func seedRefuseNonEmpty(ctx context.Context, tx pgx.Tx) error {
	names := make([]string, len(seededTables))
	probes := make([]string, len(seededTables))
	users := 0
	for i, t := range seededTables {
		if t == "rbac_user" {
			users = i
		}
		q := pgx.Identifier{t}.Sanitize()
		names[i] = q
		probes[i] = fmt.Sprintf("SELECT %d WHERE EXISTS (SELECT 1 FROM %s)", i, q)
	}
	if _, err := tx.Exec(ctx, "LOCK TABLE "+strings.Join(names, ", ")+" IN ACCESS EXCLUSIVE MODE"); err != nil {
		return err
	}
	var i int
	// Users first: "already has users" is the message that helps most.
	err := tx.QueryRow(ctx, "SELECT i FROM ("+strings.Join(probes, " UNION ALL ")+") p (i) ORDER BY i <> "+strconv.Itoa(users)+", i LIMIT 1").Scan(&i)
	switch {
	case err == pgx.ErrNoRows:
		return nil
	case err != nil:
		return err
	case seededTables[i] == "rbac_user":
		return client.Refused("refused: the database already has users; db seed only fills an empty database (--if-empty skips quietly)")
	default:
		return client.Refused("refused: table %s already has rows; db seed only fills an empty database", seededTables[i])
	}
}

// savedSchema is what seedDropIndexes removed, as the DDL that rebuilds it.
type savedSchema struct {
	keys, indexes, foreignKeys []string
}

const seedListIndexesSQL = `
SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid)
FROM pg_index i
WHERE i.indrelid = ANY ($1::text[]::regclass[])
  AND NOT EXISTS (SELECT 1 FROM pg_constraint c
                  WHERE c.conindid = i.indexrelid AND c.conrelid = i.indrelid AND c.contype IN ('p', 'u', 'x'))
ORDER BY 1`

// The constraints to drop: foreign keys first (they go before the keys
// they reference), then unique constraints and primary keys. With $2
// (foreign-key triggers off) the foreign keys among seeded tables stay,
// and so do the keys they reference; otherwise every foreign key touching
// a seeded table goes and every key with it. Foreign keys from other
// tables into seeded ones (the operation log's) always go: they would
// forbid the TRUNCATE (seedTruncate); they come back validated.
const seedListConstraintsSQL = `
SELECT c.conrelid::regclass::text, quote_ident(c.conname), pg_get_constraintdef(c.oid), c.contype::text
FROM pg_constraint c
WHERE (c.conrelid = ANY ($1::text[]::regclass[]) AND c.contype IN ('p', 'u')
       AND (NOT $2 OR NOT EXISTS (SELECT 1 FROM pg_constraint f WHERE f.contype = 'f' AND f.conindid = c.conindid
                                  AND f.conrelid = ANY ($1::text[]::regclass[]))))
   OR (NOT $2 AND c.contype = 'f' AND (c.conrelid = ANY ($1::text[]::regclass[]) OR c.confrelid = ANY ($1::text[]::regclass[])))
   OR (c.contype = 'f' AND NOT c.conrelid = ANY ($1::text[]::regclass[]) AND c.confrelid = ANY ($1::text[]::regclass[]))
ORDER BY CASE c.contype WHEN 'f' THEN 0 WHEN 'u' THEN 1 ELSE 2 END, 1, 2`

// seedTruncate empties the (already empty, locked) seeded tables with one
// TRUNCATE: each gets a new, empty file in this transaction, and on a
// server with wal_level = minimal PostgreSQL then writes no WAL for the
// COPYs and index builds that fill it — at 10,000,000 users the WAL
// would double the 17 GB the seed writes.
func seedTruncate(ctx context.Context, tx pgx.Tx) error {
	names := make([]string, len(seededTables))
	for i, t := range seededTables {
		names[i] = pgx.Identifier{t}.Sanitize()
	}
	_, err := tx.Exec(ctx, "TRUNCATE "+strings.Join(names, ", "))
	return err
}

// seedTryTriggersOff lets a test force the path for roles that may not
// switch foreign-key triggers off.
var seedTryTriggersOff = true

// seedDisableFKTriggers switches the foreign-key triggers off for this
// transaction (session_replication_role = replica, as pg_restore
// --disable-triggers does), when the role may: the generator produces
// consistent references by construction (the tests check them), and
// validating sixteen foreign keys over millions of rows afterwards costs
// more than a third of the whole seed. A role without the privilege gets
// the slower, fully validated path.
func seedDisableFKTriggers(ctx context.Context, tx pgx.Tx) bool {
	if !seedTryTriggersOff {
		return false
	}
	sp, err := tx.Begin(ctx)
	if err != nil {
		return false
	}
	if _, err := sp.Exec(ctx, "SET LOCAL session_replication_role = replica"); err != nil {
		_ = sp.Rollback(ctx)
		return false
	}
	return sp.Commit(ctx) == nil
}

// seedDropIndexes drops the indexes and constraints of the seeded tables —
// primary keys included where nothing references them: building a b-tree
// once from finished data is much cheaper than maintaining it row by row,
// above all for random keys (emails, uuids, session keys). The definitions
// come from the catalog, so whatever later migrations add is handled too.
func seedDropIndexes(ctx context.Context, tx pgx.Tx, triggersOff bool) (savedSchema, error) {
	var s savedSchema
	var drops []string
	rows, err := tx.Query(ctx, seedListIndexesSQL, seededTables)
	if err != nil {
		return s, err
	}
	for rows.Next() {
		var name, def string
		if err := rows.Scan(&name, &def); err != nil {
			rows.Close()
			return s, err
		}
		s.indexes = append(s.indexes, def)
		drops = append(drops, "DROP INDEX "+name)
	}
	if err := rows.Err(); err != nil {
		return s, err
	}
	rows, err = tx.Query(ctx, seedListConstraintsSQL, seededTables, triggersOff)
	if err != nil {
		return s, err
	}
	var conDrops []string
	for rows.Next() {
		var table, name, def, typ string
		if err := rows.Scan(&table, &name, &def, &typ); err != nil {
			rows.Close()
			return s, err
		}
		add := fmt.Sprintf("ALTER TABLE %s ADD CONSTRAINT %s %s", table, name, def)
		if typ == "f" {
			s.foreignKeys = append(s.foreignKeys, add)
		} else {
			s.keys = append([]string{add}, s.keys...) // primary keys come back first
		}
		conDrops = append(conDrops, fmt.Sprintf("ALTER TABLE %s DROP CONSTRAINT %s", table, name))
	}
	if err := rows.Err(); err != nil {
		return s, err
	}
	for _, q := range append(conDrops, drops...) {
		if _, err := tx.Exec(ctx, q); err != nil {
			return s, fmt.Errorf("seed: %s: %w", q, err)
		}
	}
	return s, nil
}

// seedRestoreIndexes rebuilds what seedDropIndexes dropped. Statistics
// come first so that foreign-key validation queries get good plans; the
// unique indexes prove the generated data is unique (emails
// case-insensitively, uuids, jtis) — a bug there fails the whole seed.
func seedRestoreIndexes(ctx context.Context, tx pgx.Tx, s savedSchema, trace func(string)) error {
	// Big sorts for the index builds, in-memory hash joins for the
	// foreign keys' validation queries; for this transaction only.
	if _, err := tx.Exec(ctx, "SET LOCAL maintenance_work_mem = '256MB'; SET LOCAL work_mem = '256MB'"); err != nil {
		return err
	}
	names := make([]string, len(seededTables))
	for i, t := range seededTables {
		names[i] = pgx.Identifier{t}.Sanitize()
	}
	if _, err := tx.Exec(ctx, "ANALYZE "+strings.Join(names, ", ")); err != nil {
		return err
	}
	trace("analyze")
	for i, list := range [][]string{s.keys, s.indexes, s.foreignKeys} {
		for _, q := range list {
			if _, err := tx.Exec(ctx, q); err != nil {
				return fmt.Errorf("seed: %s: %w", q, err)
			}
		}
		trace([]string{"primary keys and unique constraints", "indexes", "foreign keys"}[i])
	}
	return nil
}

// seedResetSequences moves every identity past the explicit ids Seed wrote,
// so that later inserts (users created by the tool, log rows) just work.
func seedResetSequences(ctx context.Context, tx pgx.Tx) error {
	var parts []string
	for _, t := range seededTables {
		if t == "django_session" || t == "b2badmin_session_owner" {
			continue // keyed by session_key, no identity
		}
		parts = append(parts, fmt.Sprintf(
			"setval(pg_get_serial_sequence('%[1]s', 'id'), coalesce((SELECT max(id) FROM %[1]s), 0) + 1, false)", t))
	}
	_, err := tx.Exec(ctx, "SELECT "+strings.Join(parts, ", "))
	return err
}
