package commands

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"strings"
	"testing"

	"github.com/b2badmin/b2badmin/internal/fixture"
	"github.com/b2badmin/b2badmin/internal/pgtest"
)

func TestGroupsListCounts(t *testing.T) {
	dsn := pgtest.NewDatabase(t)
	conn := fixture.Conn(t, dsn)
	fixture.AddUser(t, conn, fixture.User{Email: "a@x.org", Type: "merchant", Groups: []string{"Merchant owner", "API"}, Company: "C"})
	fixture.AddUser(t, conn, fixture.User{Email: "b@x.org", Type: "merchant", Groups: []string{"Merchant owner"}, Inactive: true})
	fixture.AddUser(t, conn, fixture.User{Email: "c@x.org", Groups: []string{"Enterprise owner", "KYC not verified"}})
	fixture.AddUser(t, conn, fixture.User{Email: "d@x.org"})

	var got []struct {
		ID            int64  `json:"id"`
		Name          string `json:"name"`
		Members       int64  `json:"members"`
		ActiveMembers int64  `json:"active_members"`
		Role          bool   `json:"role"`
		RequiredType  string `json:"required_type"`
		NeedsCompany  bool   `json:"needs_company"`
	}
	dec := json.NewDecoder(strings.NewReader(mustRun(t, dsn, "groups", "list", "-o", "json").Stdout))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&got); err != nil {
		t.Fatal(err)
	}
	if len(got) != 10 {
		t.Fatalf("%d groups, want 10", len(got))
	}
	for _, g := range got {
		var want, active int64
		err := conn.QueryRow(context.Background(), `SELECT count(*), count(*) FILTER (WHERE u.is_active)
            FROM rbac_user_groups ug JOIN rbac_user u ON u.id = ug.user_id WHERE ug.group_id = $1`, g.ID).Scan(&want, &active)
		if err != nil {
			t.Fatal(err)
		}
		if g.Members != want || g.ActiveMembers != active {
			t.Errorf("%s: %d members (%d active), SQL says %d (%d)", g.Name, g.Members, g.ActiveMembers, want, active)
		}
	}
	if got[7].Name != "Merchant owner" || got[7].Members != 2 || got[7].ActiveMembers != 1 || !got[7].Role || got[7].RequiredType != "merchant" {
		t.Errorf("Merchant owner row: %+v", got[7])
	}
	if !got[0].NeedsCompany {
		t.Errorf("API needs a company: %+v", got[0])
	}
	recs, err := csv.NewReader(strings.NewReader(mustRun(t, dsn, "groups", "list", "-o", "csv").Stdout)).ReadAll()
	if err != nil || len(recs) != 11 || recs[0][2] != "members" || recs[8][1] != "Merchant owner" || recs[8][2] != "2" {
		t.Errorf("csv: %v %v", err, recs)
	}
	ids := parseIDs(t, mustRun(t, dsn, "groups", "list", "-o", "ids").Stdout)
	if len(ids) != 10 {
		t.Errorf("ids: %v", ids)
	}
	table := mustRun(t, dsn, "groups", "list").Stdout
	if lines := strings.Split(strings.TrimSpace(table), "\n"); len(lines) != 11 || !strings.HasPrefix(lines[0], "ID") {
		t.Errorf("table:\n%s", table)
	}
}
