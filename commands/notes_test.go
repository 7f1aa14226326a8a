package commands

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/b2badmin/b2badmin/internal/fixture"
	"github.com/b2badmin/b2badmin/internal/pgtest"
)

// Behind -o yaml and --jq stdout comes out when the command ends; its
// notes must follow it, or read with 2>&1 the next-page note lands inside
// the YAML document.
func TestNotesFollowBufferedOutput(t *testing.T) {
	dsn := pgtest.NewDatabase(t)
	conn := fixture.Conn(t, dsn)
	for _, u := range listUsers {
		fixture.AddUser(t, conn, u)
	}
	for _, args := range [][]string{
		{"users", "list", "--limit", "2", "-o", "yaml"},
		{"users", "list", "--limit", "2", "--jq", ".[].email"},
	} {
		r := cliRun{DSN: dsn, Merged: true}.run(t, args...)
		doc, note, _ := strings.Cut(r.Stdout, "b2badmin: next page: --after ")
		if r.Code != 0 || note == "" || strings.Count(note, "\n") != 1 || !strings.HasSuffix(note, "\n") {
			t.Fatalf("%v: exit %d, the note is not the last line:\n%s", args, r.Code, r.Stdout)
		}
		if args[len(args)-1] == "yaml" {
			var rows []map[string]any
			if err := yaml.Unmarshal([]byte(doc), &rows); err != nil || len(rows) != 2 {
				t.Fatalf("%v: the document before the note: %v %d rows\n%s", args, err, len(rows), doc)
			}
		} else if lines := strings.Split(strings.TrimSuffix(doc, "\n"), "\n"); len(lines) != 2 || !strings.Contains(lines[0], "@") {
			t.Fatalf("%v: the emails before the note: %q", args, doc)
		}
	}
}

// 2>&1 is one file behind two descriptors; two files, or a file and a
// buffer, are not one destination.
func TestSameDestination(t *testing.T) {
	dir := t.TempDir()
	a, err := os.Create(filepath.Join(dir, "a"))
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	again, err := os.OpenFile(a.Name(), os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer again.Close()
	b, err := os.Create(filepath.Join(dir, "b"))
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	var buf bytes.Buffer
	for _, c := range []struct {
		x, y io.Writer
		want bool
	}{
		{a, again, true}, {a, newProcessStream(again, false), true}, {a, b, false}, {a, &buf, false}, {&buf, &buf, true}, {&buf, &bytes.Buffer{}, false},
	} {
		if got := sameDestination(c.x, c.y); got != c.want {
			t.Errorf("sameDestination(%T, %T) = %v, want %v", c.x, c.y, got, c.want)
		}
	}
}

// A prompt does not wait behind a buffered stdout: it goes where the held
// stream will go, at once.
func TestImmediateBypassesHeldStderr(t *testing.T) {
	var real bytes.Buffer
	held := &heldStream{now: &real}
	if immediate(held) != io.Writer(&real) || immediate(&real) != io.Writer(&real) {
		t.Fatal("immediate does not name the stream a held one goes to")
	}
}

// A second signal exits at once, without the command finishing: what its
// stderr held behind a buffered stdout is written out first (on main it
// was lost), once, and a write after that goes straight through.
func TestSecondSignalReleasesHeldStderr(t *testing.T) {
	var real bytes.Buffer
	f := NewFactory(&IOStreams{In: strings.NewReader(""), Out: io.Discard, ErrOut: &real}, func(string) string { return "" })
	held := &heldStream{now: &real}
	f.holding(held, true)
	fmt.Fprintln(held, "b2badmin: next page: --after abc")
	if real.Len() != 0 {
		t.Fatalf("held stderr written early: %q", real.String())
	}
	f.releaseHeld()
	f.releaseHeld()
	held.release() // the command's own end, if it gets there
	fmt.Fprintln(held, "b2badmin: later")
	if want := "b2badmin: next page: --after abc\nb2badmin: later\n"; real.String() != want {
		t.Fatalf("stderr %q, want %q", real.String(), want)
	}
	f.holding(held, false)
	if len(f.held) != 0 {
		t.Fatal("a released stream stays registered")
	}
}
