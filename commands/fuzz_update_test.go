package commands

import (
	"strings"
	"testing"

	"github.com/b2badmin/b2badmin/internal/fixture"
	"github.com/b2badmin/b2badmin/internal/pgtest"
)

// updateTextFlags are the free-text flags of users update.
var updateTextFlags = []string{"email", "first-name", "last-name", "phone", "ip-whitelist", "language", "communication-language", "active"}

// FuzzUsersUpdateText: any value of any free-text flag of users update,
// with any --reason and --actor, is stored or refused by the tool (exit 0,
// 2 or 4), on the command line and as a batch line; none reaches
// PostgreSQL as an encoding or length error (a raw SQLSTATE, exit 1).
func FuzzUsersUpdateText(f *testing.F) {
	long := func(c string, n int) string { return strings.Repeat(c, n) }
	for _, s := range []struct {
		field         uint8
		value, reason string
		actor         string
	}{
		{1, "Ann", "", ""},
		{1, "a\x00b", "", ""},
		{2, "\xff\xfe", "r", "a"},
		{0, "new@example.com", "why\x00", ""},
		{0, long("e", 250) + "@example.com", "", long("a", 256)},
		{1, long("é", 151), long("r", 4097), ""},
		{3, "+44 20 7946 0958\u202e", "", "bob\u202e"},
		{4, "10.0.0.1/8," + long("1", 300), "", ""},
		{5, "de\x1b", "ok", "ops@host"},
		{6, "\xed\xa0\x80", "", ""},
		{7, "maybe", "", ""},
		{1, "=HYPERLINK(\"x\")", "'; DROP TABLE rbac_user; --", "\t"},
		{0, "üser@exämple.com", "", ""},
		{2, "\U0001F600", "\uFFFE", "\U0001F600"},
	} {
		f.Add(s.field, s.value, s.reason, s.actor)
	}
	dsn := pgtest.NewDatabase(f)
	conn := fixture.Conn(f, dsn)
	fixture.AddUser(f, conn, fixture.User{Email: "target@example.com", FirstName: "orig"})
	fixture.AddUser(f, conn, fixture.User{Email: "other@example.com"})
	n := 0
	f.Fuzz(func(t *testing.T, field uint8, value, reason, actor string) {
		flag := updateTextFlags[int(field)%len(updateTextFlags)]
		args := []string{"users", "update", "1", "--" + flag + "=" + value, "--reason=" + reason}
		if actor != "" {
			args = append([]string{"--actor=" + actor}, args...)
		}
		check := func(how string, r cliResult) {
			t.Helper()
			switch {
			case strings.Contains(r.Stderr, "SQLSTATE"):
				t.Fatalf("%s %q: reached PostgreSQL: %s", how, args, r.Stderr)
			case r.Code != ExitOK && r.Code != ExitUsage && r.Code != ExitRefused:
				t.Fatalf("%s %q: exit %d: %s", how, args, r.Code, r.Stderr)
			}
		}
		check("command line", runCLI(t, dsn, args...))
		n++
		// Every third input also as a batch line, through the pre-check.
		if n%3 == 0 && !strings.ContainsAny(strings.Join(args, ""), "\n\r") {
			words := make([]string, len(args))
			for i, a := range args {
				words[i] = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
			}
			file := writeTemp(t, "fuzz.txt", strings.Join(words, " ")+"\n")
			check("batch line", runCLI(t, dsn, "batch", file))
		}
	})
}
