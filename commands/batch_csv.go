package commands

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/spf13/cobra"

	"github.com/b2badmin/b2badmin/client"
)

// placeholder is {column} in a template word.
var placeholder = regexp.MustCompile(`\{([^{}\s]+)\}`)

// csvTemplate is a command template split into words once; placeholders
// are replaced inside words, never re-split, so each value stays exactly one
// argument whatever it contains.
type csvTemplate struct {
	words []string
	// dashSafe[i]: word i may start with "-" after substitution because it
	// is the value of the flag before it or follows a literal "--".
	dashSafe []bool
}

// parseTemplate splits the template and checks that data can only ever
// fill argument values: not a command name, not a flag name.
func parseTemplate(text string, newRoot func(*Invocation, []string) *cobra.Command) (*csvTemplate, error) {
	words, err := splitWords(text)
	if err != nil {
		return nil, usageErrorf("--template: %v", err)
	}
	if len(words) == 0 {
		return nil, usageError("--template is empty")
	}
	// The command is named by the literal words before the first placeholder.
	lit := 0
	for lit < len(words) && !placeholder.MatchString(words[lit]) {
		lit++
	}
	root := newRoot(checkInvocation(), nil)
	cmd, _, err := root.Find(words[:lit])
	if err != nil || cmd == root || !cmd.Runnable() {
		return nil, usageErrorf("--template must start with a command written out, e.g. 'users deactivate {id}' (placeholders cannot name a command)")
	}
	t := &csvTemplate{words: words, dashSafe: make([]bool, len(words))}
	afterDashes := false
	for i, w := range words {
		if w == "--" {
			afterDashes = true
			continue
		}
		if !placeholder.MatchString(w) {
			continue
		}
		if strings.HasPrefix(w, "-") {
			// Only --flag={value}: data may fill the value, never the name.
			eq := strings.Index(w, "=")
			if afterDashes {
				t.dashSafe[i] = true
				continue
			}
			if !strings.HasPrefix(w, "--") || eq < 0 || placeholder.MatchString(w[:eq]) {
				return nil, usageErrorf("--template: %q: a placeholder cannot be part of a flag name (write --flag={column} or --flag {column})", w)
			}
			t.dashSafe[i] = true
			continue
		}
		t.dashSafe[i] = afterDashes || (i > 0 && takesValue(cmd, words[i-1]))
	}
	return t, nil
}

// takesValue reports whether word is a flag that consumes the next word as
// its value (pflag then takes it even when it starts with "-").
func takesValue(cmd *cobra.Command, word string) bool {
	if !strings.HasPrefix(word, "-") || strings.Contains(word, "=") || word == "-" || word == "--" {
		return false
	}
	var fl = cmd.Flag(strings.TrimLeft(word, "-"))
	if !strings.HasPrefix(word, "--") {
		if len(word) != 2 {
			return false // -abc: shorthand clusters are not worth guessing
		}
		fl = cmd.Flags().ShorthandLookup(word[1:])
		if fl == nil {
			fl = cmd.InheritedFlags().ShorthandLookup(word[1:])
		}
	}
	return fl != nil && fl.NoOptDefVal == ""
}

// columns lists the placeholders' column names, in template order.
func (t *csvTemplate) columns() []string {
	var out []string
	seen := map[string]bool{}
	for _, w := range t.words {
		for _, m := range placeholder.FindAllStringSubmatch(w, -1) {
			if !seen[m[1]] {
				seen[m[1]] = true
				out = append(out, m[1])
			}
		}
	}
	return out
}

// expand fills the template with one row.
func (t *csvTemplate) expand(row map[string]string) ([]string, error) {
	args := make([]string, len(t.words))
	for i, w := range t.words {
		args[i] = placeholder.ReplaceAllStringFunc(w, func(m string) string { return row[m[1:len(m)-1]] })
		if args[i] != w && strings.HasPrefix(args[i], "-") && !t.dashSafe[i] {
			return nil, fmt.Errorf("value %q would be read as a flag where %s expects an argument", args[i], w)
		}
	}
	return args, nil
}

// expandCSV runs the template over every row of a CSV file whose header
// row names the columns. Every row's problem is reported with its line.
func expandCSV(r io.Reader, file string, t *csvTemplate) ([]batchCommand, []lineProblem) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = 0
	header, err := cr.Read()
	if err != nil {
		if errors.Is(err, io.EOF) {
			err = errors.New("empty file: want a header row naming the columns")
		}
		return nil, []lineProblem{{file, 1, "CSV: " + err.Error(), problemUsage}}
	}
	index := map[string]int{}
	if len(header) > 0 {
		header[0] = client.TrimBOM(header[0]) // the file's first bytes
	}
	for i, h := range header {
		name := strings.TrimSpace(h)
		if _, dup := index[name]; dup {
			// Which of two "id" columns a {id} means is a guess; refuse it.
			return nil, []lineProblem{{file, 1, fmt.Sprintf("CSV: column %q appears twice in the header", name), problemUsage}}
		}
		index[name] = i
	}
	var probs []lineProblem
	for _, c := range t.columns() {
		if _, ok := index[c]; !ok {
			probs = append(probs, lineProblem{file, 1, fmt.Sprintf("the template's {%s} names no column (columns: %s)", c, strings.Join(header, ", ")), problemUsage})
		}
	}
	if len(probs) > 0 {
		return nil, probs
	}
	var cmds []batchCommand
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		line := 0
		if err == nil {
			// Only a record read whole has field positions: after a
			// quoting error in its first field there is no field 0.
			line, _ = cr.FieldPos(0)
		} else {
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				line = pe.StartLine
				if pe.Err == csv.ErrFieldCount {
					probs = append(probs, lineProblem{file, line, fmt.Sprintf("CSV: %d fields, the header has %d", len(rec), len(header)), problemUsage})
					continue
				}
			}
			probs = append(probs, lineProblem{file, line, "CSV: " + err.Error(), problemUsage})
			return cmds, probs // the reader cannot resynchronise after a quoting error
		}
		row := map[string]string{}
		bad := false
		for name, i := range index {
			if !utf8.ValidString(rec[i]) || len(rec[i]) > maxBatchLine {
				bad = true
			}
			row[name] = rec[i]
		}
		if bad {
			probs = append(probs, lineProblem{file, line, "a field is not valid UTF-8 or is too long", problemUsage})
			continue
		}
		args, err := t.expand(row)
		if err != nil {
			probs = append(probs, lineProblem{file, line, err.Error(), problemUsage})
			continue
		}
		cmds = append(cmds, batchCommand{Line: line, Args: args})
	}
	return cmds, probs
}
