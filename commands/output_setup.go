package commands

import (
	"bytes"
	"errors"
	"io"
	"os"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"syscall"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/b2badmin/b2badmin/output"
)

// addOutputFlags binds the global flags that shape where output goes.
func addOutputFlags(pf *pflag.FlagSet, g *GlobalOptions) {
	pf.StringVar(&g.JQ, "jq", "", "filter the JSON output with a jq expression (implies -o json; strings print raw)")
	pf.BoolVarP(&g.Quiet, "quiet", "q", false, "no notes on stderr (summaries, skipped users, the run line); errors still print")
	pf.BoolVar(&g.NoPager, "no-pager", false, "never page a long table (else $B2BADMIN_PAGER, $PAGER or less -FRX on a terminal)")
}

// hasJSONOutput reports whether a command prints rows or an object, the
// commands --jq and -o yaml apply to (each declares its shape, see
// withColumns and withJSONShape).
func hasJSONOutput(cmd *cobra.Command) bool {
	return cmd.Annotations[annotColumns] != "" || cmd.Annotations[annotJSON] != ""
}

// heldStream is stderr waiting for a buffered stdout (see setupOutput).
// A second signal's exit releases it too (Factory.releaseHeld), from
// another goroutine: hence the lock.
type heldStream struct {
	mu       sync.Mutex
	buf      bytes.Buffer
	now      io.Writer // where it goes in the end, and a prompt at once
	released bool      // later writes go straight to now
}

func (h *heldStream) Write(p []byte) (int, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.released {
		return h.now.Write(p)
	}
	return h.buf.Write(p)
}

// release writes what was held, once.
func (h *heldStream) release() {
	h.mu.Lock()
	defer h.mu.Unlock()
	if !h.released {
		h.released = true
		_, _ = h.now.Write(h.buf.Bytes())
		h.buf = bytes.Buffer{}
	}
}

// immediate is where w's writes appear at once: a prompt must not wait
// behind a buffered stdout.
func immediate(w io.Writer) io.Writer {
	if h, ok := w.(*heldStream); ok {
		return h.now
	}
	return w
}

// sameDestination reports whether two streams write to one place, as
// stdout and stderr do after 2>&1.
func sameDestination(a, b io.Writer) bool {
	fa, okA := fileOf(a).(*os.File)
	fb, okB := fileOf(b).(*os.File)
	if okA && okB {
		sa, errA := fa.Stat()
		sb, errB := fb.Stat()
		return errA == nil && errB == nil && os.SameFile(sa, sb)
	}
	if okA || okB || reflect.ValueOf(a).Kind() != reflect.Pointer {
		return false
	}
	return a == b // one writer in-process (a test's 2>&1)
}

// ownOutputOnly reports whether cmd is a command with one output of its
// own (an access file, a script, progress) that -o cannot shape. A
// command with subcommands is left to say it needs one.
func ownOutputOnly(cmd *cobra.Command) bool {
	return !hasJSONOutput(cmd) && !cmd.HasSubCommands()
}

// setupOutput runs before a command's RunE (from the root's
// PersistentPreRunE): it applies --quiet, checks --jq and -o yaml against
// the command, and routes stdout through the jq filter, the YAML
// converter or the pager, which the command's RunE then finishes. A batch
// line gets the same, on its own streams.
func (inv *Invocation) setupOutput(cmd *cobra.Command) error {
	g := inv.Global
	if g.Quiet {
		inv.quiet = true
	}
	outFlag, outVal := cmd.Flags().Lookup("output"), g.Output
	if outFlag != nil {
		outVal = outFlag.Value.String() // the audits have an -o of their own
	}
	outVal = strings.ToLower(strings.TrimSpace(outVal))
	if outFlag != nil && outFlag.Changed && ownOutputOnly(cmd) && outVal != string(output.Table) && outVal != string(output.YAML) {
		// A command with one output of its own (an access file, a script,
		// progress) would otherwise ignore -o json silently.
		return usageErrorf("-o %s: %s prints no rows or JSON; it has one output of its own", outVal, cmd.CommandPath())
	}
	yaml := outVal == string(output.YAML)
	if g.JQ != "" || yaml {
		what := "-o yaml"
		if g.JQ != "" {
			what = "--jq"
		}
		if !hasJSONOutput(cmd) {
			return usageErrorf("%s: %s prints no JSON", what, cmd.CommandPath())
		}
	}
	var filter io.WriteCloser
	real := inv.IO.Out
	switch {
	case g.JQ != "":
		if yaml {
			return usageError("--jq prints JSON values; it does not combine with -o yaml")
		}
		if outFlag != nil && outFlag.Changed {
			if outVal != string(output.JSON) && outVal != string(output.JSONL) {
				return usageErrorf("--jq filters JSON: use it with -o json or -o jsonl, not -o %s", outVal)
			}
		} else if err := cmd.Flags().Set("output", string(output.JSON)); err != nil {
			// Set marks -o as given: commands that print a change list
			// only when -o is given (a real run) print it for --jq.
			return err
		}
		q, err := output.CompileJQ(g.JQ)
		if err != nil {
			return usageError(err.Error())
		}
		filter = output.NewJQWriter(real, q)
	case yaml:
		filter = output.NewYAMLWriter(real)
	default:
		if p := inv.newPager(cmd, outVal); p != nil {
			filter = p
		}
	}
	if filter == nil || cmd.RunE == nil {
		return nil
	}
	streams := *inv.IO
	streams.Out = filter
	pg, paged := filter.(*pager)
	if !paged {
		streams.OutTTY = false // JSON for a filter, not a person
	}
	// Behind -o yaml or --jq, stdout comes out at the end (or its last
	// value does, for JSON Lines): with 2>&1, what the command writes to
	// stderr meanwhile (the next page's cursor, notes) would land inside
	// it, so it waits. Only then: not when stderr goes elsewhere, nor to a
	// terminal (a progress bar), nor under --debug, whose lines say what
	// runs as it runs. A password prompt goes out at once (immediate).
	var held *heldStream
	if (yaml || g.JQ != "") && !streams.ErrTTY && !g.Debug && sameDestination(real, streams.ErrOut) {
		held = &heldStream{now: streams.ErrOut}
		streams.ErrOut = held
		inv.Factory.holding(held, true)
	}
	inv.IO = &streams
	run := cmd.RunE
	cmd.RunE = func(c *cobra.Command, args []string) error {
		err := run(c, args)
		cerr := filter.Close()
		if held != nil {
			held.release()
			inv.Factory.holding(held, false)
		}
		if paged {
			// Quitting the pager before the end is how people stop reading.
			if pg.started() && errors.Is(err, syscall.EPIPE) {
				err = nil
			}
			cerr = nil
		}
		if err == nil {
			err = cerr
		}
		// The expression failed on the data (the command's write returns
		// the same error): the expression is the user's mistake.
		var jqErr *output.JQError
		if errors.As(err, &jqErr) {
			return usageError(jqErr.Error())
		}
		return err
	}
	return nil
}

// terminalWidth is the width tables fit to on a terminal: the terminal's,
// else $COLUMNS, else 80.
func (inv *Invocation) terminalWidth() int {
	if !inv.IO.OutTTY {
		return 0
	}
	if inv.IO.Width > 0 {
		return inv.IO.Width
	}
	if n, err := strconv.Atoi(strings.TrimSpace(inv.Getenv("COLUMNS"))); err == nil && n > 0 {
		return n
	}
	return 80
}
