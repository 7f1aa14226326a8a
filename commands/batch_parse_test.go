package commands

import (
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestParseBatchLines(t *testing.T) {
	src := strings.Join([]string{
		"# a comment", // 1
		"",            // 2
		"users update 1 --first-name 'Ann Marie'",     // 3
		`users update 2 \`,                            // 4
		`  --last-name "O'Brien" \`,                   // 5
		"  --phone +100",                              // 6
		"   # indented comment \\",                    // 7 (a comment does not continue)
		"perms grant a@b.c 'api | wallet | x' # note", // 8
		"t echo `rm -rf /` '$(id)' $HOME \\; a\\ b",   // 9
		"t echo \"tab\\tnew\\nline\"\r",               // 10 (CRLF)
		"t echo last",                                 // 11, no final newline
	}, "\n")
	cmds, probs := parseBatch(strings.NewReader(src), "f.txt")
	if len(probs) != 0 {
		t.Fatalf("problems: %v", probs)
	}
	want := []batchCommand{
		{Line: 3, Args: []string{"users", "update", "1", "--first-name", "Ann Marie"}},
		{Line: 4, Args: []string{"users", "update", "2", "--last-name", "O'Brien", "--phone", "+100"}},
		{Line: 8, Args: []string{"perms", "grant", "a@b.c", "api | wallet | x"}},
		{Line: 9, Args: []string{"t", "echo", "`rm -rf /`", "$(id)", "$HOME", ";", "a b"}},
		{Line: 10, Args: []string{"t", "echo", "tab\tnew\nline"}},
		{Line: 11, Args: []string{"t", "echo", "last"}},
	}
	if !reflect.DeepEqual(cmds, want) {
		t.Fatalf("got  %#v\nwant %#v", cmds, want)
	}
}

func TestParseBatchProblems(t *testing.T) {
	long := "t echo " + strings.Repeat("x", maxBatchLine+10)
	src := strings.Join([]string{
		"t echo ok",                 // 1
		"t echo 'unbalanced",        // 2
		`t echo "also`,              // 3
		"users list; rm -rf /",      // 4
		"users list | cat",          // 5
		"users list > out",          // 6
		"t echo a 2>err",            // 7
		"t echo a & t echo b",       // 8
		"t echo \xff\xfe",           // 9
		long,                        // 10
		"t echo (x)",                // 11
		"t echo `unterminated",      // 12
		`t echo fine \`,             // 13
		`  'but then unbalanced`,    // 14
		"t echo after",              // 15
		`t echo continued at end \`, // 16
	}, "\n")
	cmds, probs := parseBatch(strings.NewReader(src), "f.txt")
	var got []string
	for _, p := range probs {
		got = append(got, p.Error())
	}
	wantPrefixes := []string{
		"f.txt:2: unbalanced single quote",
		"f.txt:3: unbalanced double quote",
		`f.txt:4: unquoted ";" at column 11`,
		`f.txt:5: unquoted "|"`,
		`f.txt:6: unquoted ">"`,
		`f.txt:7: unquoted ">"`,
		`f.txt:8: unquoted "&"`,
		"f.txt:9: line is not valid UTF-8",
		"f.txt:10: line longer than",
		"f.txt:11: unquoted ( or )",
		"f.txt:12: unbalanced backquote",
		"f.txt:13: unbalanced single quote",
		"f.txt:16: the file ends inside a command continued",
	}
	if len(got) != len(wantPrefixes) {
		t.Fatalf("got %d problems, want %d:\n%s", len(got), len(wantPrefixes), strings.Join(got, "\n"))
	}
	for i, w := range wantPrefixes {
		if !strings.HasPrefix(got[i], w) {
			t.Errorf("problem %d = %q, want prefix %q", i, got[i], w)
		}
	}
	var lines []int
	for _, c := range cmds {
		lines = append(lines, c.Line)
	}
	if !reflect.DeepEqual(lines, []int{1, 15}) {
		t.Fatalf("parsed lines %v, want [1 15]", lines)
	}
}

// A file saved by Notepad starts with a byte-order mark: on main its first
// command was "\ufeffusers" (unknown command, exit 2). The mark is dropped
// from the first line only; later, U+FEFF is data like any character.
func TestParseBatchByteOrderMark(t *testing.T) {
	for _, c := range []struct {
		src  string
		want []batchCommand
	}{
		{"\ufeffusers list\r\nt echo \ufeffx\r\n", []batchCommand{{Line: 1, Args: []string{"users", "list"}}, {Line: 2, Args: []string{"t", "echo", "\ufeffx"}}}},
		{"\ufeff# a comment\nt echo a", []batchCommand{{Line: 2, Args: []string{"t", "echo", "a"}}}},
		{"\ufefft echo a \\\n  b", []batchCommand{{Line: 1, Args: []string{"t", "echo", "a", "b"}}}},
		{"t echo a\n\ufefft echo b", []batchCommand{{Line: 1, Args: []string{"t", "echo", "a"}}, {Line: 2, Args: []string{"\ufefft", "echo", "b"}}}},
	} {
		cmds, probs := parseBatch(strings.NewReader(c.src), "bom.txt")
		if len(probs) != 0 || !reflect.DeepEqual(cmds, c.want) {
			t.Errorf("%q: got %#v, problems %v; want %#v", c.src, cmds, probs, c.want)
		}
	}
}

// FuzzParseBatch: the parser never panics, every problem names a line of
// the input, and every command starts on a line of the input.
func FuzzParseBatch(f *testing.F) {
	for _, s := range []string{"users list\n", "a 'b\n", "x \\\ny", "# c\n\n", "a;b", "`x`", "$(x)", "a\r\nb\\", "\xff", "2>x", "'\\'"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, src string) {
		cmds, probs := parseBatch(strings.NewReader(src), "fuzz")
		lines := strings.Count(src, "\n") + 1
		for _, p := range probs {
			if p.Line < 1 || p.Line > lines || p.File != "fuzz" || p.Msg == "" {
				t.Fatalf("problem without a valid line: %+v (input has %d lines)", p, lines)
			}
		}
		for _, c := range cmds {
			if c.Line < 1 || c.Line > lines || len(c.Args) == 0 {
				t.Fatalf("command without a valid line: %+v", c)
			}
		}
	})
}

// A batch file that cannot be read is an I/O failure (exit 1, as a
// missing --policy or access file), not a usage error: on main exit 2 and
// "cannot open F: open F: no such file or directory".
func TestBatchMissingFileIsExitOne(t *testing.T) {
	dir := t.TempDir()
	missing := filepath.Join(dir, "missing.txt")
	for path, why := range map[string]string{missing: "no such file or directory", dir: "is a directory"} {
		for _, args := range [][]string{{"batch", path}, {"batch", "--csv", path, "--template", "users show {id}"}} {
			r := cliRun{DSN: noDB}.run(t, args...)
			assertOneLineError(t, r, ExitFailure)
			if want := "b2badmin: batch file " + path + ": cannot read: " + why + "\n"; r.Stderr != want {
				t.Errorf("%v: stderr %q, want %q", args, r.Stderr, want)
			}
		}
	}
}
