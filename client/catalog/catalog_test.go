package catalog

import (
	"bufio"
	"os"
	"strings"
	"testing"
)

// seedPath is the back office's user documentation, beside the repository.
const seedPath = "../../../shared/seed/000_541f2e1ec9ab3907.txt"

func TestCatalogCountAndUniqueness(t *testing.T) {
	perms := Permissions()
	if len(perms) != 401 {
		t.Fatalf("catalog has %d permissions, want 401", len(perms))
	}
	ids, labels := map[string]bool{}, map[string]bool{}
	stale := map[string]bool{}
	for _, p := range perms {
		if ids[p.ID()] {
			t.Errorf("duplicate identifier %s", p.ID())
		}
		if labels[p.Label] {
			t.Errorf("duplicate label %q", p.Label)
		}
		ids[p.ID()], labels[p.Label] = true, true
		if len(p.Codename) > 100 || p.Codename == "" || strings.ContainsAny(p.Codename, " .|*") {
			t.Errorf("bad codename %q", p.Codename)
		}
		if p.Stale() {
			stale[p.Model] = true
		}
	}
	if len(stale) != 10 {
		t.Errorf("%d stale content types, want the seed's 10", len(stale))
	}
}

// TestCatalogEqualsSeed compares the catalog with the seed's "Extra
// persmissions" list (sic) line for line.
func TestCatalogEqualsSeed(t *testing.T) {
	f, err := os.Open(seedPath)
	if err != nil {
		t.Skipf("seed not beside the repository: %v", err)
	}
	defer f.Close()
	var seedLines []string
	in := false
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if strings.TrimSpace(line) == "Extra persmissions" {
			in = true
			continue
		}
		if in && strings.TrimSpace(line) != "" {
			seedLines = append(seedLines, strings.TrimPrefix(strings.TrimSpace(line), "• "))
		}
	}
	perms := Permissions()
	if len(seedLines) != len(perms) {
		t.Fatalf("seed lists %d permissions, catalog %d", len(seedLines), len(perms))
	}
	for i, p := range perms {
		if p.Label != seedLines[i] {
			t.Errorf("line %d: catalog %q, seed %q", i+1, p.Label, seedLines[i])
		}
	}
}

func TestGroupsAndRules(t *testing.T) {
	if len(Groups()) != 10 {
		t.Fatalf("%d groups, want 10", len(Groups()))
	}
	roles := 0
	for _, g := range Groups() {
		if g.Role {
			roles++
			if g.RequiredType == "" {
				t.Errorf("role group %s has no required type", g.Name)
			}
		}
	}
	if roles != 6 {
		t.Errorf("%d role groups, want 6", roles)
	}
	if g, ok := LookupGroup("merchant OWNER"); !ok || g.Name != GroupMerchantOwner {
		t.Errorf("case-insensitive lookup failed: %v %v", g, ok)
	}
}
