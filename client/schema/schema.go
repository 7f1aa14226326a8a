// Package schema is b2badmin's database schema: numbered migrations, each a
// visible SQL file in migrations/, applied in order under an advisory lock.
package schema

import (
	"context"
	"embed"
	"fmt"
	"io/fs"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/b2badmin/b2badmin/client"
	"github.com/b2badmin/b2badmin/client/catalog"
)

// The schema is a list of numbered migrations embedded in the binary.
//
// We run them with this small runner rather than jackc/tern/v2: tern's
// migrate package renders every file through text/template with sprig,
// which brings a dozen modules for templating we do not use. What we need
// from tern is small: a version table, one transaction per migration, and
// an advisory lock so that two concurrent `db migrate` runs do not race.
//
//go:embed migrations/*.sql
var migrationFiles embed.FS

// migrationLockKey is the pg_advisory_xact_lock key for schema changes.
const migrationLockKey = 0x62326261646d // "b2badm"

// Migration is one schema step.
type Migration struct {
	Version int
	Name    string
	up      func(ctx context.Context, tx pgx.Tx) error
}

// MigrationStatus is one migration and whether it has been applied.
type MigrationStatus struct {
	Version   int        `json:"version"`
	Name      string     `json:"name"`
	AppliedAt *time.Time `json:"applied_at"`
}

// Migrations lists every embedded migration in order.
func Migrations() []Migration {
	var out []Migration
	entries, _ := fs.ReadDir(migrationFiles, "migrations")
	for _, e := range entries {
		num, name, ok := strings.Cut(strings.TrimSuffix(e.Name(), ".sql"), "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil {
			panic("client: badly named migration " + e.Name())
		}
		body, _ := migrationFiles.ReadFile("migrations/" + e.Name())
		sql := string(body)
		out = append(out, Migration{Version: v, Name: name, up: func(ctx context.Context, tx pgx.Tx) error {
			_, err := tx.Exec(ctx, sql)
			return err
		}})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Version < out[j].Version })
	return out
}

const createVersionTable = `
CREATE TABLE IF NOT EXISTS b2badmin_schema_migrations (
    version    integer PRIMARY KEY,
    name       text NOT NULL,
    applied_at timestamptz NOT NULL
)`

// Migrate applies every pending migration, each in its own transaction,
// under an advisory lock. It returns the migrations it applied.
func Migrate(ctx context.Context, db client.DBTX) ([]MigrationStatus, error) {
	var applied []MigrationStatus
	for _, m := range Migrations() {
		did := false
		err := pgx.BeginFunc(ctx, db, func(tx pgx.Tx) error {
			if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, int64(migrationLockKey)); err != nil {
				return err
			}
			if _, err := tx.Exec(ctx, createVersionTable); err != nil {
				return err
			}
			var exists bool
			if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM b2badmin_schema_migrations WHERE version = $1)`, m.Version).Scan(&exists); err != nil {
				return err
			}
			if exists {
				return nil
			}
			if err := m.up(ctx, tx); err != nil {
				return fmt.Errorf("migration %d_%s: %w", m.Version, m.Name, err)
			}
			did = true
			_, err := tx.Exec(ctx, `INSERT INTO b2badmin_schema_migrations (version, name, applied_at) VALUES ($1, $2, now())`, m.Version, m.Name)
			return err
		})
		if err != nil {
			return applied, err
		}
		if did {
			now := time.Now().UTC()
			applied = append(applied, MigrationStatus{Version: m.Version, Name: m.Name, AppliedAt: &now})
		}
	}
	return applied, nil
}

// MigrationStatuses lists every known migration with its applied time (nil = pending).
func Statuses(ctx context.Context, db client.DBTX) ([]MigrationStatus, error) {
	done := map[int]time.Time{}
	var hasTable bool
	if err := db.QueryRow(ctx, `SELECT to_regclass('b2badmin_schema_migrations') IS NOT NULL`).Scan(&hasTable); err != nil {
		return nil, err
	}
	if hasTable {
		rows, err := db.Query(ctx, `SELECT version, applied_at FROM b2badmin_schema_migrations`)
		if err != nil {
			return nil, err
		}
		var v int
		var at time.Time
		if _, err := pgx.ForEachRow(rows, []any{&v, &at}, func() error { done[v] = at.UTC(); return nil }); err != nil {
			return nil, err
		}
	}
	var out []MigrationStatus
	for _, m := range Migrations() {
		s := MigrationStatus{Version: m.Version, Name: m.Name}
		if at, ok := done[m.Version]; ok {
			s.AppliedAt = &at
		}
		out = append(out, s)
	}
	return out, nil
}

// CatalogSQL renders the permission catalog as the SQL of migration
// 0003_permission_catalog.sql: the content types and the 401 permissions,
// idempotently. The file is committed so that the schema is readable in
// one place; TestCatalogMigrationIsCurrent fails when it no longer matches
// client/catalog (regenerate with: go test ./client/schema -run Catalog -update).
func CatalogSQL() string {
	q := func(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }
	var b strings.Builder
	b.WriteString("-- Generated from client/catalog/permissions.tsv by schema.CatalogSQL; do not edit.\n")
	b.WriteString("-- The content types and the 401 extra permissions of the Users page, in the seed's order.\n")
	b.WriteString("INSERT INTO django_content_type (app_label, model) VALUES\n")
	seen := map[string]bool{}
	var cts []string
	for _, p := range catalog.Permissions() {
		k := p.AppLabel + "." + p.Model
		if !seen[k] {
			seen[k] = true
			cts = append(cts, "    ("+q(p.AppLabel)+", "+q(p.Model)+")")
		}
	}
	b.WriteString(strings.Join(cts, ",\n"))
	b.WriteString("\nON CONFLICT (app_label, model) DO NOTHING;\n\n")
	b.WriteString("INSERT INTO auth_permission (name, content_type_id, codename)\nSELECT v.name, ct.id, v.codename FROM (VALUES\n")
	var rows []string
	for i, p := range catalog.Permissions() {
		rows = append(rows, fmt.Sprintf("    (%d, %s, %s, %s, %s)", i+1, q(p.AppLabel), q(p.Model), q(p.Codename), q(p.Name())))
	}
	b.WriteString(strings.Join(rows, ",\n"))
	b.WriteString("\n) AS v(ord, app, model, codename, name)\nJOIN django_content_type ct ON ct.app_label = v.app AND ct.model = v.model\nORDER BY v.ord\nON CONFLICT (content_type_id, codename) DO NOTHING;\n")
	return b.String()
}
