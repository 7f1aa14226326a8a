package main

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/spf13/cobra"
)

// runnable lists the commands a page is written for (what cobra/doc
// documents: every available command, the groups included).
func runnable(root *cobra.Command) []string {
	var out []string
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		if !c.IsAvailableCommand() && c != root || c.IsAdditionalHelpTopicCommand() {
			return
		}
		out = append(out, c.CommandPath())
		for _, s := range c.Commands() {
			walk(s)
		}
	}
	walk(root)
	sort.Strings(out)
	return out
}

// The committed reference, docs/commands/, is what `make docs` writes now.
func TestMarkdownReferenceIsCurrent(t *testing.T) {
	dir := t.TempDir()
	if err := writeMarkdown(dir); err != nil {
		t.Fatal(err)
	}
	want, _ := filepath.Glob(filepath.Join(dir, "*.md"))
	got, _ := filepath.Glob(filepath.Join("..", "..", "docs", "commands", "*.md"))
	if len(want) != len(got) {
		t.Errorf("docs/commands has %d pages, the tree %d: run make docs", len(got), len(want))
	}
	for _, w := range want {
		name := filepath.Base(w)
		fresh, _ := os.ReadFile(w)
		committed, err := os.ReadFile(filepath.Join("..", "..", "docs", "commands", name))
		if err != nil || !bytes.Equal(fresh, committed) {
			t.Errorf("docs/commands/%s is stale: run make docs", name)
		}
	}
	if n := len(runnable(tree())); len(want) != n {
		t.Errorf("%d pages for %d commands", len(want), n)
	}
}

// make man writes one page per command, each naming its command.
func TestManPagePerCommand(t *testing.T) {
	dir := t.TempDir()
	if err := writeMan(dir, time.Date(2026, 1, 2, 0, 0, 0, 0, time.UTC)); err != nil {
		t.Fatal(err)
	}
	for _, path := range runnable(tree()) {
		page := filepath.Join(dir, strings.ReplaceAll(path, " ", "-")+".1")
		b, err := os.ReadFile(page)
		if err != nil {
			t.Errorf("no man page for %q", path)
			continue
		}
		if !strings.Contains(string(b), `.TH "B2BADMIN" "1" "Jan 2026"`) || !strings.Contains(string(b), ".SH NAME\n"+strings.ReplaceAll(path, " ", "-")+" - ") {
			t.Errorf("%s: header or name missing:\n%.300s", page, b)
		}
	}
}

// make install DESTDIR=… PREFIX=… puts the binary, the man pages and the
// completions where each shell looks, and the installed binary names the
// commit it was built from.
func TestMakeInstall(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and the man pages with make (-short skips it)")
	}
	mk, err := exec.LookPath("make")
	if err != nil {
		t.Fatal("make is the front door: it must be installed")
	}
	dest := t.TempDir()
	cmd := exec.Command(mk, "-s", "install", "DESTDIR="+dest, "PREFIX=/usr", "BIN="+filepath.Join(t.TempDir(), "b2badmin"))
	cmd.Dir = filepath.Join("..", "..")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("make install: %v\n%s", err, out)
	}
	for _, f := range []string{"usr/bin/b2badmin", "usr/share/man/man1/b2badmin.1", "usr/share/man/man1/b2badmin-users-list.1",
		"usr/share/bash-completion/completions/b2badmin", "usr/share/zsh/site-functions/_b2badmin",
		"usr/share/fish/vendor_completions.d/b2badmin.fish"} {
		st, err := os.Stat(filepath.Join(dest, f))
		if err != nil || st.Size() == 0 {
			t.Errorf("make install did not install %s: %v", f, err)
		}
	}
	if st, err := os.Stat(filepath.Join(dest, "usr/bin/b2badmin")); err != nil || st.Mode()&0o111 == 0 {
		t.Fatalf("the binary is not executable: %v", err)
	}
	pages, _ := filepath.Glob(filepath.Join(dest, "usr/share/man/man1/*.1"))
	if n := len(runnable(tree())); len(pages) != n {
		t.Errorf("%d man pages installed for %d commands", len(pages), n)
	}
	out, err := exec.Command(filepath.Join(dest, "usr/bin/b2badmin"), "version", "-o", "json").Output()
	if err != nil {
		t.Fatal(err)
	}
	var v struct{ Commit string }
	if err := json.Unmarshal(out, &v); err != nil {
		t.Fatal(err)
	}
	head, err := exec.Command("git", "-C", filepath.Join("..", ".."), "rev-parse", "HEAD").Output()
	if err != nil {
		t.Logf("no git: cannot compare the commit (%v)", err)
	} else if v.Commit != strings.TrimSpace(string(head)) {
		t.Errorf("installed binary names commit %q, HEAD is %s", v.Commit, head)
	}
}
