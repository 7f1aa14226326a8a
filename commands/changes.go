package commands

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/b2badmin/b2badmin/client"
	"github.com/b2badmin/b2badmin/output"
)

// changeColumns is the shape of a change list, what every mutating command
// prints (always with --dry-run, with -o on a real run): one row per user
// per changed field, side effects included. JSON:
//
//	[{"user_id": 7, "email": "a@example.com", "field": "is_active", "before": true, "after": false}]
//
// before/after keep their JSON types (booleans, strings, lists of groups).
// A dry run prints exactly the rows the real run prints.
var changeColumns = output.Columns{
	{Key: "user_id", Header: "ID", Default: true},
	{Key: "email", Header: "Email", Default: true},
	{Key: "field", Header: "Field", Default: true},
	{Key: "before", Header: "Before", Default: true},
	{Key: "after", Header: "After", Default: true},
}

// changeReport says how to word a change's summary.
type changeReport struct {
	done      string // "deactivated": past tense, before "N users"
	undone    string // its past participle, for a dry run's "would have …", when not done
	unchanged string // why unchanged users are unchanged: "already inactive"
	// unchangedOne is unchanged of one user, when its verb agrees:
	// "already has these values".
	unchangedOne string
	// extraRow, when set, adds the values of extraColumns to each row.
	extraColumns output.Columns
	extraRow     func(ch client.Change) []any
}

// reportChange prints a change's list and its summary. A dry run always
// prints the list (that is its point); a real run prints it when -o was
// given, so a 100,000-user deactivation stays quiet by default. stderr
// ends with one line naming the run.
func reportChange(inv *Invocation, outputSet bool, res client.ChangeResult, r changeReport) error {
	if res.DryRun || outputSet {
		cols := append(append(output.Columns{}, changeColumns...), r.extraColumns...)
		fm, p, err := inv.selectColumns(cols)
		if err != nil {
			return err
		}
		w := output.NewRowWriter(fm, inv.IO.Out, p, inv.OutputOptions())
		for _, ch := range res.Changes {
			var extra []any
			if r.extraRow != nil {
				extra = r.extraRow(ch)
			}
			fields := ch.Fields()
			if fm == output.IDs {
				fields = fields[:1] // each changed user once
			}
			for _, k := range fields {
				if err := w.Write(append([]any{ch.UserID, ch.Email, k, ch.Before[k], ch.After[k]}, extra...)); err != nil {
					return err
				}
			}
		}
		if err := w.Close(); err != nil {
			return err
		}
	}
	if len(res.Missing) > 0 {
		inv.notef("%s not found, skipped (--skip-missing): %s", plural(len(res.Missing), "user"), refList(res.Missing))
		if len(res.Changes)+len(res.Unchanged) == 0 {
			// "users 7, 9 not found": every one named is missing.
			what := "user"
			if len(res.Missing) > 1 {
				what = "users"
			}
			return client.NotFound("%s %s", what, refList(res.Missing))
		}
	}
	if len(res.Unchanged) > 0 {
		why := r.unchanged
		if len(res.Unchanged) == 1 && r.unchangedOne != "" {
			why = r.unchangedOne
		}
		inv.notef("%s %s: %s", plural(len(res.Unchanged), "user"), why, userList(res.Unchanged, len(res.Unchanged)))
	}
	summary := fmt.Sprintf("%s %s%s", r.done, plural(len(res.Changes), "user"), effectsText(res.Effects))
	switch {
	case res.DryRun:
		if r.undone != "" {
			summary = fmt.Sprintf("%s %s%s", r.undone, plural(len(res.Changes), "user"), effectsText(res.Effects))
		}
		inv.notef("dry run: would have %s; nothing was written", summary)
	case len(res.Changes) == 0:
		inv.notef("no change; nothing was written")
	case inv.Batch != nil:
		// The batch names its run once, at the end.
	default:
		inv.notef("run %s: %s", res.RunID, summary)
	}
	return nil
}

// effectsText words a change's side effects: " (443 tokens blacklisted, …)".
func effectsText(e client.Effects) string {
	var parts []string
	if e.TokensBlacklisted > 0 {
		parts = append(parts, count(e.TokensBlacklisted)+" "+pluralWord(e.TokensBlacklisted, "token")+" blacklisted")
	}
	if e.SessionsDeleted > 0 {
		parts = append(parts, count(e.SessionsDeleted)+" "+pluralWord(e.SessionsDeleted, "session")+" deleted")
	}
	if e.DevicesDeleted > 0 {
		parts = append(parts, count(e.DevicesDeleted)+" 2FA "+pluralWord(e.DevicesDeleted, "device")+" deleted")
	}
	if len(parts) == 0 {
		return ""
	}
	return " (" + strings.Join(parts, ", ") + ")"
}

func plural(n int, word string) string { return count(int64(n)) + " " + pluralWord(int64(n), word) }

func pluralWord(n int64, word string) string {
	if n == 1 {
		return word
	}
	return word + "s"
}

// count writes n with thousands separators (2,000), as people read counts.
func count(n int64) string {
	s := strconv.FormatInt(n, 10)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

// userList names at most five users (of total), so the line stays one line.
func userList(us []client.UserRef, total int) string {
	var parts []string
	for i, u := range us {
		if i == 5 {
			break
		}
		parts = append(parts, fmt.Sprintf("%d (%s)", u.ID, u.Email))
	}
	if total > len(parts) {
		parts = append(parts, fmt.Sprintf("and %s more", count(int64(total-len(parts)))))
	}
	return strings.Join(parts, ", ")
}

// refList names at most five references.
func refList(refs []string) string {
	if len(refs) <= 5 {
		return strings.Join(refs, ", ")
	}
	return strings.Join(refs[:5], ", ") + fmt.Sprintf(" and %s more", count(int64(len(refs)-5)))
}
