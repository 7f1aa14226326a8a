package commands

import (
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/spf13/cobra"
)

// docSection is one "## " section of docs/output.md: the commands it
// covers (named in backquotes in its heading, or on a "Commands:" line),
// its key rows, and the text of the docs it links to.
type docSection struct {
	heading  string
	commands []string
	// rows maps a key to whether its row gives a type and a meaning.
	rows   map[string]bool
	linked string
}

var (
	backquoted = regexp.MustCompile("`([^`]+)`")
	mdLink     = regexp.MustCompile(`\]\(([a-z0-9_-]+\.md)\)`)
)

func parseOutputDoc(t *testing.T, path string) []*docSection {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var out []*docSection
	var cur *docSection
	typeCol := -1
	for _, line := range strings.Split(string(b), "\n") {
		switch {
		case strings.HasPrefix(line, "## "):
			cur = &docSection{heading: line, rows: map[string]bool{}}
			out = append(out, cur)
			for _, m := range backquoted.FindAllStringSubmatch(line, -1) {
				cur.commands = append(cur.commands, m[1])
			}
			typeCol = -1
			continue
		case cur == nil:
			continue
		case strings.HasPrefix(line, "Commands:"):
			for _, m := range backquoted.FindAllStringSubmatch(line, -1) {
				cur.commands = append(cur.commands, m[1])
			}
		case strings.HasPrefix(line, "|"):
			cells := strings.Split(strings.Trim(strings.TrimSpace(line), "|"), "|")
			for i := range cells {
				cells[i] = strings.TrimSpace(cells[i])
			}
			if cells[0] == "key" {
				typeCol = -1
				for i, c := range cells {
					if c == "type" {
						typeCol = i
					}
				}
				continue
			}
			if m := backquoted.FindStringSubmatch(cells[0]); m != nil && m[0] == cells[0] {
				ok := typeCol > 0 && typeCol < len(cells) && cells[typeCol] != "" && len(cells) > 2 && cells[len(cells)-1] != ""
				cur.rows[m[1]] = cur.rows[m[1]] || ok
			}
		}
		for _, m := range mdLink.FindAllStringSubmatch(line, -1) {
			if linked, err := os.ReadFile(filepath.Join(filepath.Dir(path), m[1])); err == nil {
				cur.linked += string(linked)
			}
		}
	}
	return out
}

// commandPath is a command's path without the program name.
func commandPath(c *cobra.Command) string {
	return strings.TrimPrefix(strings.TrimPrefix(c.CommandPath(), c.Root().Name()), " ")
}

// outputKeys are every key a command prints: its columns, and the paths
// of the object it prints as JSON.
func outputKeys(c *cobra.Command) []string {
	var keys []string
	if s := c.Annotations[annotColumns]; s != "" {
		keys = strings.Split(s, ",")
	}
	return append(keys, jsonShape(c)...)
}

// Every command that prints rows or an object has its keys in
// docs/output.md, each with a type and a meaning (or, for a section that
// points at another doc, named there), and every command the page names
// exists.
func TestOutputDocCoversEveryCommand(t *testing.T) {
	sections := parseOutputDoc(t, filepath.Join("..", "docs", "output.md"))
	byCommand := map[string][]*docSection{}
	for _, s := range sections {
		for _, c := range s.commands {
			byCommand[c] = append(byCommand[c], s)
		}
	}
	root := NewRootCmd(offlineInvocation())
	paths := map[string]bool{}
	var missing []string
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		for _, sub := range c.Commands() {
			walk(sub)
		}
		if !c.IsAvailableCommand() && c != root {
			return
		}
		p := commandPath(c)
		paths[p] = true
		keys := outputKeys(c)
		if len(keys) == 0 {
			return
		}
		if len(byCommand[p]) == 0 {
			missing = append(missing, p+": no section names it")
			return
		}
		for _, k := range keys {
			documented := false
			for _, s := range byCommand[p] {
				if s.rows[k] || strings.Contains(s.linked, "`"+k+"`") {
					documented = true
				}
			}
			if !documented {
				missing = append(missing, p+": "+k)
			}
		}
	}
	walk(root)
	sort.Strings(missing)
	for _, m := range missing {
		t.Errorf("docs/output.md does not document %s (a table row: | `key` | type | … | meaning |)", m)
	}
	for c := range byCommand {
		if !paths[c] && !strings.HasPrefix(c, "-") {
			t.Errorf("docs/output.md names %q, which is no command", c)
		}
	}
}

// The documentation test must be able to fail: a command with a key no
// section documents is caught.
func TestOutputDocTestCatchesAnUndocumentedKey(t *testing.T) {
	s := parseOutputDoc(t, filepath.Join("..", "docs", "output.md"))
	for _, sec := range s {
		for _, c := range sec.commands {
			if c == "groups list" {
				if !sec.rows["members"] {
					t.Fatal("groups list's members key should be documented")
				}
				if sec.rows["no_such_key"] {
					t.Fatal("parser invents keys")
				}
				return
			}
		}
	}
	t.Fatal("no section for groups list")
}
