package commands

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/b2badmin/b2badmin/internal/fixture"
)

// A --dry-run batch runs the lines that change different users side by
// side (client.Gather) and reads their changes back once per window; it
// must report exactly what a dry run line by line reports (with
// --continue-on-error each line runs alone, in a savepoint): the same
// results, outputs and change lists, line by line, a line on the same
// user as an earlier one seeing its change, and nothing applied.
func TestDryRunSideBySideMatchesLineByLine(t *testing.T) {
	t.Parallel()
	e := newEngineDB(t)
	before := fixture.DumpAll(t, e.db)
	file := writeTemp(t, "dry.txt", sideBySideText)
	times := regexp.MustCompile(`\\"(created_at|date_joined|last_login|updated_at|from|to|month)\\": \\"[^"\\]*\\"`)
	results := func(args ...string) []batchResult {
		r := runCLI(t, e.dsn, append(append([]string{"batch", "--dry-run", "-o", "jsonl"}, args...), file)...)
		if r.Code != ExitOK || !strings.Contains(r.Stderr, "10 ok, 0 failed; dry run: rolled back, nothing was applied") {
			t.Fatalf("batch --dry-run %v: exit %d\n%s", args, r.Code, r.Stderr)
		}
		return parseResults(t, times.ReplaceAllString(r.Stdout, ""))
	}
	want, got := results("--continue-on-error"), results()
	if len(want) != 10 || len(got) != 10 {
		t.Fatalf("%d and %d results, want 10 each", len(want), len(got))
	}
	for i := range want {
		show := func(r batchResult) string {
			return fmt.Sprintf("line %d %s exit %d error %s\noutput %s\nchanges %s", r.Line, r.Status, r.ExitCode, derefOr(r.Error), derefOr(r.Output), r.Changes)
		}
		if w, g := show(want[i]), show(got[i]); w != g {
			t.Errorf("result %d differs:\n--- line by line\n%s\n--- side by side\n%s", i+1, w, g)
		}
	}
	var line4 struct {
		Before map[string]any `json:"before"`
		After  map[string]any `json:"after"`
	}
	if len(got[3].Changes) != 1 || json.Unmarshal(got[3].Changes[0], &line4) != nil ||
		line4.Before["first_name"] != "A1" || line4.After["first_name"] != "A2" {
		t.Fatalf("line 4 did not see line 1's change: %s", got[3].Changes)
	}
	assertUnchanged(t, e.db, before)
}

func derefOr(s *string) string {
	if s == nil {
		return "<nil>"
	}
	return *s
}

// In a --dry-run batch, the writes of lines run side by side are sent
// when the window's changes are read back: a write that fails there is
// reported at its own line, the lines after it are not run, and nothing
// is applied.
func TestDryRunHeldWriteFailsAtItsLine(t *testing.T) {
	t.Parallel()
	e := newEngineDB(t)
	addBoomTrigger(t, e.db)
	before := fixture.DumpAll(t, e.db)
	file := writeTemp(t, "dry-boom.txt", "users update ann@example.com --first-name Ok\n"+
		"users update bob@example.com --first-name BOOM\nusers update dee@example.com --first-name Later\n")
	r := runCLI(t, e.dsn, "batch", "--dry-run", "-o", "jsonl", file)
	if r.Code != ExitFailure || !strings.Contains(r.Stderr, file+":2: ") || !strings.Contains(r.Stderr, "no BOOM here") ||
		!strings.Contains(r.Stderr, "1 ok, 1 failed, 1 not run (stopped before "+file+":3); dry run: rolled back, nothing was applied") {
		t.Fatalf("exit %d\n%s", r.Code, r.Stderr)
	}
	got := parseResults(t, r.Stdout)
	if len(got) != 2 || got[0].Status != "ok" || got[1].Status != "failed" || got[1].Line != 2 ||
		got[1].Error == nil || !strings.Contains(*got[1].Error, "no BOOM here") {
		t.Fatalf("results: %+v", got)
	}
	if len(got[0].Changes) != 1 {
		t.Fatalf("line 1's changes: %s", got[0].Changes)
	}
	assertUnchanged(t, e.db, before)
}
