package commands

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"github.com/mattn/go-shellwords"

	"github.com/b2badmin/b2badmin/client"
)

// maxBatchLine bounds one physical or continued line: a longer one is
// almost certainly not a command (a binary file, a runaway generator) and
// would otherwise be held in memory whole.
const maxBatchLine = 1 << 20

// batchCommand is one command of a batch: its words and where it starts.
type batchCommand struct {
	Line int      // first physical line (of a continued command too)
	Args []string // the words after `b2badmin`
	// users are the users the line names, when the pre-check found that
	// it changes exactly them and reads nothing of other users: such
	// lines of an --atomic batch may run side by side (sideBySide).
	users   []string
	userIDs []int64 // their ids
	// movesEmail: the line may give a user's email to another (users
	// update --email, undo), so later references by email may name
	// someone else by the time they run.
	movesEmail bool
}

// Text is the command as it could be typed again, for results and logs.
func (c batchCommand) Text() string {
	q := make([]string, len(c.Args))
	for i, a := range c.Args {
		q[i] = shellQuote(a)
	}
	return strings.Join(q, " ")
}

// Problem kinds decide the pre-check's exit code (see batch.go).
const (
	problemUsage    = ExitUsage
	problemNotFound = ExitNotFound
	problemRefused  = ExitRefused
)

// lineProblem is one FILE:LINE finding of the pre-check.
type lineProblem struct {
	File string
	Line int
	Msg  string
	Kind int // problemUsage or problemNotFound
}

func (p lineProblem) Error() string { return fmt.Sprintf("%s:%d: %s", p.File, p.Line, p.Msg) }

// parseBatch reads one command per line: blank lines and # comments are
// skipped, a trailing backslash continues a command on the next line, words
// are split as a POSIX shell would (without running or expanding anything).
// It returns every command it could parse and every problem it found, so
// that a whole file's mistakes are listed at once.
func parseBatch(r io.Reader, file string) ([]batchCommand, []lineProblem) {
	var cmds []batchCommand
	var probs []lineProblem
	br := bufio.NewReaderSize(r, 64<<10)
	lineNo := 0
	var pending strings.Builder // a command continued with trailing backslashes
	start := 0                  // first line of the pending command
	for {
		raw, tooLong, err := readPhysicalLine(br)
		if err != nil && err != io.EOF {
			probs = append(probs, lineProblem{file, lineNo + 1, "cannot read: " + err.Error(), problemUsage})
			return cmds, probs
		}
		if err == io.EOF && raw == "" && !tooLong {
			break
		}
		lineNo++
		if lineNo == 1 {
			raw = client.TrimBOM(raw) // a batch file saved by Notepad
		}
		if pending.Len() == 0 {
			start = lineNo
		}
		switch {
		case tooLong:
			probs = append(probs, lineProblem{file, lineNo, fmt.Sprintf("line longer than %d bytes", maxBatchLine), problemUsage})
			pending.Reset()
			continue
		case !utf8.ValidString(raw):
			probs = append(probs, lineProblem{file, lineNo, "line is not valid UTF-8", problemUsage})
			pending.Reset()
			continue
		}
		if continues(raw) && !(pending.Len() == 0 && isComment(raw)) {
			pending.WriteString(raw[:len(raw)-1])
			if pending.Len() > maxBatchLine {
				probs = append(probs, lineProblem{file, start, fmt.Sprintf("continued command longer than %d bytes", maxBatchLine), problemUsage})
				pending.Reset()
			}
			if err == io.EOF {
				break
			}
			continue
		}
		pending.WriteString(raw)
		text := pending.String()
		pending.Reset()
		args, perr := splitWords(text)
		switch {
		case perr != nil:
			probs = append(probs, lineProblem{file, start, perr.Error(), problemUsage})
		case len(args) > 0:
			cmds = append(cmds, batchCommand{Line: start, Args: args})
		}
		if err == io.EOF {
			break
		}
	}
	if pending.Len() > 0 {
		probs = append(probs, lineProblem{file, start, "the file ends inside a command continued with \\", problemUsage})
	}
	return cmds, probs
}

// readPhysicalLine returns the next line without its line ending. A line
// longer than maxBatchLine is skipped up to its end and reported as tooLong.
func readPhysicalLine(br *bufio.Reader) (line string, tooLong bool, err error) {
	var b []byte
	for {
		chunk, err := br.ReadSlice('\n')
		if len(b)+len(chunk) > maxBatchLine+2 {
			tooLong = true
			b = b[:0]
		} else {
			b = append(b, chunk...)
		}
		if errors.Is(err, bufio.ErrBufferFull) {
			continue
		}
		if tooLong {
			return "", true, err
		}
		s := strings.TrimSuffix(string(b), "\n")
		return strings.TrimSuffix(s, "\r"), false, err
	}
}

// continues reports a line ending in an unescaped backslash.
func continues(s string) bool {
	n := 0
	for n < len(s) && s[len(s)-1-n] == '\\' {
		n++
	}
	return n%2 == 1
}

func isComment(s string) bool { return strings.HasPrefix(strings.TrimLeft(s, " \t"), "#") }

// splitWords splits one command line with go-shellwords. Backticks and
// $VARIABLES stay literal text (the parser would otherwise run commands or
// read the environment), and an unquoted ; & | < > is refused: the parser
// silently stops there, which would drop the rest of the line.
func splitWords(text string) ([]string, error) {
	p := shellwords.NewParser()
	p.ParseBacktick = false
	p.ParseEnv = false
	p.ParseComment = true
	args, err := p.Parse(text)
	if err != nil {
		return nil, errors.New(describeSplitError(text))
	}
	if p.Position >= 0 {
		r := []rune(text)
		at := p.Position
		for at < len(r) && r[at] >= '0' && r[at] <= '9' { // "2>" is reported at the digit
			at++
		}
		op := "?"
		if at < len(r) {
			op = string(r[at])
		}
		return nil, fmt.Errorf("unquoted %q at column %d: one command per line, no shell operators (quote it if it is data)", op, p.Position+1)
	}
	return args, nil
}

// describeSplitError says why go-shellwords refused a line (it only says
// "invalid command line string").
func describeSplitError(text string) string {
	var single, double, back, escaped bool
	for _, r := range text {
		switch {
		case escaped:
			escaped = false
		case r == '\\' && !single:
			escaped = true
		case r == '\'' && !double && !back:
			single = !single
		case r == '"' && !single && !back:
			double = !double
		case r == '`' && !single && !double:
			back = !back
		}
	}
	switch {
	case single:
		return "unbalanced single quote (')"
	case double:
		return `unbalanced double quote (")`
	case back:
		return "unbalanced backquote (`)"
	case escaped:
		return "trailing backslash"
	}
	return "unquoted ( or ): quote parentheses that are data"
}
