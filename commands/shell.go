package commands

import (
	"bufio"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/spf13/cobra"

	"github.com/b2badmin/b2badmin/client"
)

// notInShell: a shell runs everything a batch does, plus db commands and a
// batch of its own is still refused (nesting would share one Factory).
var notInShell = map[string]string{
	"batch":      "batch cannot run inside the shell: run b2badmin batch FILE",
	"shell":      "already in the shell",
	"completion": "completion scripts cannot be printed inside the shell",
	"__complete": "completion cannot run inside the shell",
}

const shellHelp = `Type b2badmin commands without "b2badmin", e.g.
  users list --group 'Merchant owner' --limit 5
Quoting works as in a POSIX shell; end a line with \ to continue it.
Built-ins:
  help [COMMAND]   list commands, or show one command's help
  history          list this session's commands
  exit [CODE], quit, Ctrl-D   leave
Every command is checked first (command, flags, named users, groups and
permissions) and runs in its own transaction; errors do not end the shell.`

func newShellCmd(inv *Invocation) *cobra.Command {
	return &cobra.Command{
		Use:   "shell",
		Short: "Interactive prompt running b2badmin commands on one connection",
		Long: shellHelp + `

The prompt is shown when stdin and stderr are terminals; otherwise the
shell reads commands from stdin silently. At the prompt, exit, quit and
the end of input leave with 0; exit CODE leaves with CODE. Without the
prompt (a piped script), exit, quit and the end of input leave with the
code of the first line that failed, if one did.`,
		Example: "  b2badmin shell\n" +
			"  printf '%s\\n' 'users show 42 --section info' 'groups list' | b2badmin shell",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			s := &shellSession{inv: inv, runner: newLineRunner(inv, cmd)}
			return s.loop(cmd)
		},
	}
}

type shellSession struct {
	inv     *Invocation
	runner  *lineRunner
	in      *bufio.Reader // the session's input; lines that prompt read it too
	history []string
	// failed is the exit code of the first command that failed: a script
	// piped into the shell must not "succeed" when a line did not.
	failed int
}

var errShellLineTooLong = fmt.Errorf("line longer than %d bytes", maxBatchLine)

func (s *shellSession) loop(cmd *cobra.Command) error {
	ctx := cmd.Context()
	io0 := s.inv.IO
	interactive := io0.InTTY && io0.ErrTTY
	s.in = bufio.NewReaderSize(io0.In, 64<<10)
	defer s.inv.UseClient(nil)
	lineNo := 0
	for {
		if interactive {
			fmt.Fprint(io0.ErrOut, "b2badmin> ")
		}
		text, n, err := readShellCommand(s.in, lineNo == 0, interactive, io0.ErrOut)
		start := lineNo + 1
		lineNo += n
		if err == errShellLineTooLong {
			fmt.Fprintln(io0.ErrOut, "b2badmin: "+err.Error())
			s.fail(ExitUsage)
			continue
		}
		if err != nil && text == "" {
			if err != io.EOF {
				return err
			}
			if interactive {
				fmt.Fprintln(io0.ErrOut)
			} else if s.failed != 0 {
				return &ExitError{Code: s.failed, Msg: "a command failed (see above)"}
			}
			return nil
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if code, done := s.one(cmd, text, start); done {
			if code < 0 {
				// A bare exit or quit: piped, it ends the script as the
				// end of input would, failing if a line failed (as sh's
				// exit keeps the last status); at the prompt, it is 0.
				if !interactive && s.failed != 0 {
					return &ExitError{Code: s.failed, Msg: "a command failed (see above)"}
				}
				return nil
			}
			if code != 0 {
				return &ExitError{Code: code}
			}
			return nil
		}
	}
}

// one handles one command; done reports exit/quit, with its code (-1: a
// bare exit, which leaves as the end of input would).
func (s *shellSession) one(cmd *cobra.Command, text string, line int) (code int, done bool) {
	errOut := s.inv.IO.ErrOut
	// A line the shell cannot even split is a usage error like a typo
	// (exit 2 at the end of a piped script), not a line to skip quietly.
	if !utf8.ValidString(text) {
		fmt.Fprintln(errOut, "b2badmin: the line is not valid UTF-8")
		s.fail(ExitUsage)
		return 0, false
	}
	if t := strings.TrimSpace(text); t != "" && !isComment(t) {
		s.history = append(s.history, t)
	}
	args, err := splitWords(text)
	if err != nil {
		fmt.Fprintln(errOut, "b2badmin: "+err.Error())
		s.fail(ExitUsage)
		return 0, false
	}
	if len(args) == 0 {
		return 0, false
	}
	switch args[0] {
	case "exit", "quit":
		if len(args) > 1 {
			n, err := strconv.Atoi(args[1])
			if err != nil || n < 0 || n > 255 {
				fmt.Fprintln(errOut, "b2badmin: exit takes a code from 0 to 255")
				s.fail(ExitUsage)
				return 0, false
			}
			return n, true
		}
		return -1, true
	case "history":
		for i, h := range s.history {
			fmt.Fprintf(s.inv.IO.Out, "%5d  %s\n", i+1, h)
		}
		return 0, false
	case "help", "?":
		words := slices.DeleteFunc(slices.Clone(args[1:]), func(w string) bool {
			// Help for help is the topic's all the same; "--" ends no flags here.
			return w == "-h" || w == "--help" || w == "--"
		})
		if len(words) == 0 {
			fmt.Fprintln(s.inv.IO.Out, shellHelp)
			fmt.Fprintln(s.inv.IO.Out, "\nCommands:")
			for _, c := range cmd.Root().Commands() {
				if _, no := notInShell[c.Name()]; !no && c.IsAvailableCommand() {
					fmt.Fprintf(s.inv.IO.Out, "  %-12s %s\n", c.Name(), c.Short)
				}
			}
			return 0, false
		}
		// `help usrs` must fail as `b2badmin help usrs` does (help.go):
		// `usrs --help` would print the root's help. The topic is looked
		// up on the tree the line runs on.
		for _, w := range words {
			if strings.HasPrefix(w, "-") {
				// As `b2badmin help users --sort` refuses its flag: a
				// flag's value would swallow the --help asked for.
				fmt.Fprintf(errOut, "b2badmin: help takes command words, not flags: unknown flag %s for \"help\"\n", w)
				s.fail(ExitUsage)
				return 0, false
			}
		}
		tree := lineRoot(s.inv.Factory.NewInvocation(s.inv.IO, nil, nil), words)
		tree.InitDefaultHelpCmd() // as Execute would: `help help` is a topic
		if _, err := helpTopic(tree, words); err != nil {
			fmt.Fprintln(errOut, "b2badmin: "+err.Error())
			s.fail(ExitUsage)
			return 0, false
		}
		if code, msg := s.runner.run(cmd.Context(), append(words, "--help"), nil, lineIO{in: s.in, inTTY: s.inv.IO.InTTY, out: s.inv.IO.Out}); code != ExitOK {
			fmt.Fprintf(errOut, "b2badmin: %s (exit %d)\n", msg, code)
			s.fail(code)
		}
		return 0, false
	}
	bc := batchCommand{Line: line, Args: args}
	probs, err := checkCommands(cmd.Context(), s.inv, "shell", []batchCommand{bc}, notInShell, s.runner.fixed)
	if err != nil {
		code, msg := classify(err)
		fmt.Fprintln(errOut, "b2badmin: "+oneLine(msg))
		s.fail(code)
		return 0, false
	}
	for _, p := range probs {
		fmt.Fprintln(errOut, "b2badmin: "+p.Msg)
		s.fail(p.Kind)
	}
	if len(probs) > 0 {
		return 0, false
	}
	c, err := s.inv.Client(cmd.Context())
	if err != nil {
		code, msg := classify(err)
		fmt.Fprintln(errOut, "b2badmin: "+oneLine(msg))
		s.fail(code)
		return 0, false
	}
	s.inv.UseClient(c)
	// Each command is an invocation of its own (a run of its own when it
	// writes), and still confirms changes to many users: only a batch
	// file counts as the confirmation.
	code, msg := s.runner.run(cmd.Context(), args, nil, lineIO{in: s.in, inTTY: s.inv.IO.InTTY, out: s.inv.IO.Out})
	if code != ExitOK {
		fmt.Fprintf(errOut, "b2badmin: %s (exit %d)\n", msg, code)
		s.fail(code)
	}
	return 0, false
}

func (s *shellSession) fail(code int) {
	if s.failed == 0 {
		s.failed = code
	}
}

// readShellCommand reads one command, joining lines that end in a
// backslash; n is how many physical lines it used. first says the
// command starts on the input's first line, whose byte-order mark (a
// script saved by Notepad) is dropped.
func readShellCommand(in *bufio.Reader, first, interactive bool, prompt io.Writer) (string, int, error) {
	var b strings.Builder
	n := 0
	for {
		raw, tooLong, err := readPhysicalLine(in)
		if err != nil && raw == "" && !tooLong {
			return b.String(), n, err
		}
		if first && n == 0 {
			raw = client.TrimBOM(raw)
		}
		n++
		if tooLong || b.Len()+len(raw) > maxBatchLine {
			return "", n, errShellLineTooLong
		}
		if continues(raw) && !(b.Len() == 0 && isComment(raw)) {
			b.WriteString(raw[:len(raw)-1])
			if err != nil {
				return b.String(), n, nil
			}
			if interactive {
				fmt.Fprint(prompt, "> ")
			}
			continue
		}
		b.WriteString(raw)
		return b.String(), n, nil
	}
}
