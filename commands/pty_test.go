package commands

import (
	"bytes"
	"io"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/creack/pty"
	"github.com/jedib0t/go-pretty/v6/text"

	"github.com/b2badmin/b2badmin/internal/fixture"
)

// runOnPTY runs b2badmin (this test binary as Main) on a pseudo-terminal
// of cols columns and returns what the terminal received.
func runOnPTY(t *testing.T, cols uint16, env []string, args ...string) string {
	t.Helper()
	cmd := mainHelper(t, env, args...)
	f, err := pty.StartWithSize(cmd, &pty.Winsize{Rows: 40, Cols: cols})
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out bytes.Buffer
	done := make(chan struct{})
	go func() { io.Copy(&out, f); close(done) }() // ends with EIO when the process exits
	waited := make(chan error, 1)
	go func() { waited <- cmd.Wait() }()
	select {
	case err := <-waited:
		if err != nil {
			t.Fatalf("%q: %v\n%s", args, err, out.String())
		}
	case <-time.After(30 * time.Second):
		cmd.Process.Kill()
		t.Fatalf("%q did not finish on the terminal:\n%s", args, out.String())
	}
	<-done
	return strings.ReplaceAll(out.String(), "\r\n", "\n")
}

// users list on a real 80-column terminal fits in 80 columns (long text
// cut with …), prints no escape codes with NO_COLOR, and the same command
// piped prints everything, uncut and plain.
func TestUsersListFitsAnEightyColumnTerminal(t *testing.T) {
	dsn, db := writeDB(t)
	long := "maximiliane.wolkenstein-rabenhorst@subsidiary-of-a-holding.example.com"
	fixture.AddUser(t, db, fixture.User{Email: long, FirstName: "Maximiliane", LastName: "Wolkenstein-Rabenhorst",
		Groups: []string{"Legal merchant owner", "KYC not verified"}, Type: "merchant"})
	fixture.AddUser(t, db, fixture.User{Email: "bo@example.com", FirstName: "Bo", Groups: []string{"API"}, Company: "Acme"})
	env := []string{"B2BADMIN_DSN=" + dsn, "NO_COLOR=1"}

	out := runOnPTY(t, 80, env, "users", "list", "--no-pager")
	lines := strings.Split(strings.TrimRight(out, "\n"), "\n")
	if len(lines) < 5 {
		t.Fatalf("terminal got %q", out)
	}
	for _, l := range lines {
		if w := text.StringWidthWithoutEscSequences(l); w > 80 {
			t.Errorf("a line of %d columns on an 80-column terminal: %q", w, l)
		}
	}
	if strings.Contains(out, "\x1b") {
		t.Errorf("NO_COLOR, yet escape codes: %q", out)
	}
	// Text is cut; IDs, booleans and times never are.
	if !strings.Contains(out, "…") || !strings.Contains(out, "│") || !strings.Contains(out, "2024-01-01T00:00:00Z") ||
		!strings.Contains(out, "Registration date") || !strings.Contains(out, "│ 2  │") {
		t.Errorf("want a bordered table with the long text cut:\n%s", out)
	}
	if colour := runOnPTY(t, 80, []string{"B2BADMIN_DSN=" + dsn}, "users", "list", "--no-pager"); !strings.Contains(colour, "\x1b[1m") {
		t.Errorf("without NO_COLOR the headers are bold: %q", colour)
	}

	// Piped, the process prints what the in-process run prints: plain, whole.
	cmd := mainHelper(t, env, "users", "list")
	piped, err := cmd.Output()
	if err != nil {
		t.Fatal(err)
	}
	if string(piped) != mustRun(t, dsn, "users", "list").Stdout || !strings.Contains(string(piped), long) ||
		strings.Contains(string(piped), "…") || strings.Contains(string(piped), "│") {
		t.Fatalf("piped output changed:\n%s", piped)
	}

	// The default pager (less -FRX) quits by itself when the table fits.
	if _, err := exec.LookPath("less"); err == nil {
		paged := runOnPTY(t, 250, []string{"B2BADMIN_DSN=" + dsn, "NO_COLOR=1", "PAGER=", "LESS="}, "users", "list")
		if !strings.Contains(paged, long) {
			t.Errorf("through less -FRX on a wide terminal: %q", paged)
		}
	} else {
		t.Log("less is not installed: the default pager was not run")
	}
}
