package client

import (
	"context"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"
)

// seedRefuseNonEmpty locks the seeded tables (nobody can insert while we
// load) and refuses when any of them already holds rows: Seed writes
// explicit ids, and demo data on top of real data would be a disaster.
func seedRefuseNonEmpty(ctx context.Context, tx pgx.Tx) error {
	names := make([]string, len(seededTables))
	probes := make([]string, len(seededTables))
	for i, t := range seededTables {
		q := pgx.Identifier{t}.Sanitize()
		names[i] = q
		probes[i] = fmt.Sprintf("SELECT %d WHERE EXISTS (SELECT 1 FROM %s)", i, q)
	}
	if _, err := tx.Exec(ctx, "LOCK TABLE "+strings.Join(names, ", ")+" IN ACCESS EXCLUSIVE MODE"); err != nil {
		return err
	}
	var i int
	err := tx.QueryRow(ctx, strings.Join(probes, " UNION ALL ")+" LIMIT 1").Scan(&i)
	switch {
	case err == pgx.ErrNoRows:
		return nil
	case err != nil:
		return err
	case seededTables[i] == "rbac_user":
		return Refused("refused: the database already has users; db seed only fills an empty database (--if-empty skips quietly)")
	default:
		return Refused("refused: table %s already has rows; db seed only fills an empty database", seededTables[i])
	}
}

// savedSchema is what seedDropIndexes removed, as the DDL that rebuilds it.
type savedSchema struct {
	indexes, uniques, foreignKeys []string
}

const seedListIndexesSQL = `
SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid)
FROM pg_index i
WHERE i.indrelid = ANY ($1::text[]::regclass[])
  AND NOT EXISTS (SELECT 1 FROM pg_constraint c
                  WHERE c.conindid = i.indexrelid AND c.conrelid = i.indrelid AND c.contype IN ('p', 'u', 'x'))
ORDER BY 1`

const seedListConstraintsSQL = `
SELECT c.conrelid::regclass::text, quote_ident(c.conname), pg_get_constraintdef(c.oid), c.contype::text
FROM pg_constraint c
WHERE c.conrelid = ANY ($1::text[]::regclass[]) AND c.contype IN ('u', 'f')
ORDER BY c.contype, 1, 2`

// seedDropIndexes drops the secondary indexes, unique constraints and
// foreign keys of the seeded tables (primary keys stay: ids arrive in
// order, so their b-trees only ever append). The definitions come from
// the catalog, so indexes added by later migrations are handled too.
func seedDropIndexes(ctx context.Context, tx pgx.Tx) (savedSchema, error) {
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
	rows, err = tx.Query(ctx, seedListConstraintsSQL, seededTables)
	if err != nil {
		return s, err
	}
	var conDrops []string // foreign keys first (the ORDER BY), then uniques
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
			s.uniques = append(s.uniques, add)
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
// come first so that the foreign keys' validation queries get good plans;
// the unique indexes prove the generated data is unique (emails
// case-insensitively, uuids, jtis) — a bug there fails the whole seed.
func seedRestoreIndexes(ctx context.Context, tx pgx.Tx, s savedSchema) error {
	if _, err := tx.Exec(ctx, "SET LOCAL maintenance_work_mem = '256MB'"); err != nil {
		return err
	}
	names := make([]string, len(seededTables))
	for i, t := range seededTables {
		names[i] = pgx.Identifier{t}.Sanitize()
	}
	if _, err := tx.Exec(ctx, "ANALYZE "+strings.Join(names, ", ")); err != nil {
		return err
	}
	for _, list := range [][]string{s.indexes, s.uniques, s.foreignKeys} {
		for _, q := range list {
			if _, err := tx.Exec(ctx, q); err != nil {
				return fmt.Errorf("seed: %s: %w", q, err)
			}
		}
	}
	return nil
}

// seedResetSequences moves every identity past the explicit ids Seed wrote,
// so that later inserts (users created by the tool, log rows) just work.
func seedResetSequences(ctx context.Context, tx pgx.Tx) error {
	var parts []string
	for _, t := range seededTables {
		if t == "django_session" {
			continue // keyed by session_key, no identity
		}
		parts = append(parts, fmt.Sprintf(
			"setval(pg_get_serial_sequence('%[1]s', 'id'), coalesce((SELECT max(id) FROM %[1]s), 0) + 1, false)", t))
	}
	_, err := tx.Exec(ctx, "SELECT "+strings.Join(parts, ", "))
	return err
}
