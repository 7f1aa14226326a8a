package commands

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/b2badmin/b2badmin/internal/fixture"
)

// A --dry-run batch runs the lines that change different users side by
// side (client.Gather) and reads their changes back once per window; it
// must report exactly what a dry run line by line reports (with
// --continue-on-error each line runs alone, in a savepoint): the same
// results, outputs and change lists, a line on the same user as an
// earlier one seeing its change, and nothing applied. Not parallel: it
// counts the windows that ran side by side (windowHook).
func TestDryRunSideBySideMatchesLineByLine(t *testing.T) {
	e := newEngineDB(t)
	before := fixture.DumpAll(t, e.db)
	file := writeTemp(t, "dry.txt", sideBySideText)
	var windows atomic.Int64
	windowHook = func(lines int) {
		if lines > 1 {
			windows.Add(1)
		}
	}
	defer func() { windowHook = nil }()
	times := regexp.MustCompile(`\\"(created_at|date_joined|last_login|updated_at|from|to|month)\\": \\"[^"\\]*\\"`)
	results := func(args ...string) []batchResult {
		r := runCLI(t, e.dsn, append(append([]string{"batch", "--dry-run", "-o", "jsonl"}, args...), file)...)
		if r.Code != ExitOK || !strings.Contains(r.Stderr, "10 ok, 0 failed; dry run: rolled back, nothing was applied") {
			t.Fatalf("batch --dry-run %v: exit %d\n%s", args, r.Code, r.Stderr)
		}
		return parseResults(t, times.ReplaceAllString(r.Stdout, ""))
	}
	want := results("--continue-on-error")
	if n := windows.Load(); n != 0 {
		t.Fatalf("--continue-on-error ran %d windows side by side", n)
	}
	got := results()
	if n := windows.Load(); n < 2 {
		t.Fatalf("the dry run ran %d windows side by side, want 2 or more", n)
	}
	compareResults(t, want, got, len(want))
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

// compareResults fails on the first n results that differ.
func compareResults(t *testing.T, want, got []batchResult, n int) {
	t.Helper()
	if len(want) < n || len(got) < n {
		t.Fatalf("%d and %d results, want %d each", len(want), len(got), n)
	}
	show := func(r batchResult) string {
		return fmt.Sprintf("line %d %s exit %d error %s\noutput %s\nchanges %s", r.Line, r.Status, r.ExitCode, derefOr(r.Error), derefOr(r.Output), r.Changes)
	}
	for i := 0; i < n; i++ {
		if w, g := show(want[i]), show(got[i]); w != g {
			t.Errorf("result %d differs:\n--- line by line\n%s\n--- side by side\n%s", i+1, w, g)
		}
	}
}

func derefOr(s *string) string {
	if s == nil {
		return "<nil>"
	}
	return *s
}

// When a write fails in a --dry-run batch, wherever it fails (as the
// lines run side by side, or when a window's writes are sent to read its
// changes back, or on a line that runs alone), the batch reports what a
// dry run line by line reports: the lines before it ok with their change
// lists, the failed line with its own error, the rest not run, nothing
// applied.
func TestDryRunWriteFailuresAtTheirLine(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name, text string
		fails      int // the failing line
		lines      int
	}{
		// bob's write fails as lines 1-3 run side by side (line 3 still
		// has round trips to make).
		{"in the window", "users update ann@example.com --first-name Ok\nusers update bob@example.com --last-name Boom\n" +
			"perms grant dee@example.com api.view_wallet\n", 2, 3},
		// Lines 1-2 have sent their writes; line 3's fail as the window's
		// changes are read back.
		{"reading back", "users update ann@example.com --first-name Ok\nusers update dee@example.com --first-name Fine\n" +
			"users deactivate bob@example.com\n", 3, 3},
		// A line alone (the same user twice): its writes fail when its
		// changes are read.
		{"alone", "users update ann@example.com --first-name Ok\nusers update ann@example.com --first-name BOOM\n" +
			"users update dee@example.com --first-name Later\n", 2, 3},
		{"one line", "users update ann@example.com --first-name BOOM\n", 1, 1},
	} {
		t.Run(c.name, func(t *testing.T) {
			e := newEngineDB(t)
			addBoomTrigger(t, e.db)
			// bob is BOOM already: any update of his row fails.
			mustExec(t, e.db, `ALTER TABLE rbac_user DISABLE TRIGGER boom`)
			mustExec(t, e.db, `UPDATE rbac_user SET first_name = 'BOOM' WHERE id = $1`, e.bob)
			mustExec(t, e.db, `ALTER TABLE rbac_user ENABLE TRIGGER boom`)
			before := fixture.DumpAll(t, e.db)
			file := writeTemp(t, "dry-boom.txt", c.text)
			r := runCLI(t, e.dsn, "batch", "--dry-run", "-o", "jsonl", file)
			summary := fmt.Sprintf("%d ok, 1 failed", c.fails-1)
			if c.fails < c.lines {
				summary += fmt.Sprintf(", %d not run (stopped before %s:%d)", c.lines-c.fails, file, c.fails+1)
			}
			if r.Code != ExitFailure || !strings.Contains(r.Stderr, fmt.Sprintf("%s:%d: ", file, c.fails)) ||
				!strings.Contains(r.Stderr, summary+"; dry run: rolled back, nothing was applied") {
				t.Fatalf("exit %d, want summary %q\n%s", r.Code, summary, r.Stderr)
			}
			got := parseResults(t, r.Stdout)
			alone := runCLI(t, e.dsn, "batch", "--dry-run", "--continue-on-error", "-o", "jsonl", file)
			want := parseResults(t, alone.Stdout)
			compareResults(t, want, got, c.fails-1)
			if len(got) != c.fails {
				t.Fatalf("%d results, want %d", len(got), c.fails)
			}
			last := got[c.fails-1]
			if last.Status != "failed" || last.Line != c.fails || last.Error == nil || !strings.HasPrefix(*last.Error, "ERROR: no BOOM here") {
				t.Fatalf("line %d: %+v %s", c.fails, last, derefOr(last.Error))
			}
			for _, r := range got[:c.fails-1] {
				if len(r.Changes) == 0 {
					t.Fatalf("line %d shows no changes: %+v", r.Line, r)
				}
			}
			assertUnchanged(t, e.db, before)
		})
	}
}
