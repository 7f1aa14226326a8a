package schema

import (
	"flag"
	"os"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the generated migration files")

const catalogMigration = "migrations/0003_permission_catalog.sql"

// TestCatalogMigrationIsCurrent pins the committed catalog migration to
// client/catalog: editing permissions.tsv without regenerating fails here.
func TestCatalogMigrationIsCurrent(t *testing.T) {
	want := CatalogSQL()
	if *update {
		if err := os.WriteFile(catalogMigration, []byte(want), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := os.ReadFile(catalogMigration)
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != want {
		t.Fatalf("%s is stale: regenerate with go test ./client/schema -run Catalog -update", catalogMigration)
	}
}

func TestMigrationsAreNumberedOnce(t *testing.T) {
	seen := map[int]string{}
	for _, m := range Migrations() {
		if prev, ok := seen[m.Version]; ok {
			t.Fatalf("migration %d is both %s and %s", m.Version, prev, m.Name)
		}
		seen[m.Version] = m.Name
	}
	if seen[3] != "permission_catalog" {
		t.Fatalf("migration 3 is %q, want permission_catalog (databases migrated before it became a file record that name)", seen[3])
	}
}
