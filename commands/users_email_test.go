package commands

import (
	"strings"
	"testing"
)

// users update --email stored addresses Django's EmailValidator rejects:
// the back office then cannot save the user. They are refused (exit 4)
// before any connection.
func TestUpdateEmailRefusesWhatDjangoRejects(t *testing.T) {
	for _, bad := range []string{"user@-example.com", "üser@example.com", "user@exam_ple.com", "user@example.c",
		"user@" + strings.Repeat("a", 64) + ".com", "user@ex\u202eample.com"} {
		r := cliRun{DSN: noDB}.run(t, "users", "update", "1", "--email", bad)
		assertOneLineError(t, r, ExitRefused)
		if !strings.Contains(r.Stderr, "invalid email") {
			t.Errorf("--email %q: %q", bad, r.Stderr)
		}
	}
}
