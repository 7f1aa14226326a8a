package commands

import (
	"bufio"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/b2badmin/b2badmin/client"
)

// mutateFlags are the safety flags every mutating command takes.
type mutateFlags struct {
	DryRun      bool
	Yes         bool
	MaxAffected int
	Reason      string
}

func addMutateFlags(cmd *cobra.Command, m *mutateFlags) {
	fl := cmd.Flags()
	fl.BoolVar(&m.DryRun, "dry-run", false, "show the exact before/after per user and change nothing")
	fl.BoolVarP(&m.Yes, "yes", "y", false, "confirm a change to more than one user without a prompt")
	fl.IntVar(&m.MaxAffected, "max-affected", 0, "refuse, before writing, a change touching more than N users (0 = no limit)")
	fl.StringVar(&m.Reason, "reason", "", "why: recorded in the operation log")
}

// maxUserArgs bounds how many user references one command reads, so a
// runaway pipe fails clearly instead of exhausting memory.
const maxUserArgs = 10_000_000

// readUserArgs returns the user references of args; a "-" reads one
// reference per line from stdin (blank lines and # comments skipped).
func readUserArgs(f *Factory, args []string) ([]string, error) {
	var out []string
	for _, a := range args {
		if a != "-" {
			out = append(out, a)
			continue
		}
		sc := bufio.NewScanner(f.IO.In)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		line := 0
		for sc.Scan() {
			line++
			s := strings.TrimSpace(sc.Text())
			if s == "" || strings.HasPrefix(s, "#") {
				continue
			}
			if len(out) >= maxUserArgs {
				return nil, usageErrorf("stdin: more than %d users", maxUserArgs)
			}
			out = append(out, s)
		}
		if err := sc.Err(); err != nil {
			return nil, usageErrorf("stdin line %d: %v", line+1, err)
		}
	}
	if len(out) == 0 {
		return nil, usageError("no users given (pass IDs, emails or UUIDs, or - to read them from stdin)")
	}
	return out, nil
}

// confirmChange applies the blast-radius rules before a change of n users:
// --max-affected refuses (exit 4); more than one user needs a yes on a TTY
// or --yes without one (exit 2), except inside a batch, whose file is the
// confirmation. A dry run needs no confirmation.
func confirmChange(f *Factory, m *mutateFlags, n int, what string) error {
	if m.MaxAffected > 0 && n > m.MaxAffected {
		return client.Refused("refused: %s would touch %d users, more than --max-affected %d", what, n, m.MaxAffected)
	}
	if m.DryRun || n <= 1 || m.Yes || (f.Batch != nil && f.Batch.Confirmed) {
		return nil
	}
	if !f.IO.InTTY || !f.IO.ErrTTY {
		return usageErrorf("%s would change %d users: pass --yes to confirm (no terminal to ask)", what, n)
	}
	fmt.Fprintf(f.IO.ErrOut, "%s will change %d users. Continue? [y/N] ", what, n)
	answer, _ := bufio.NewReader(f.IO.In).ReadString('\n')
	switch strings.ToLower(strings.TrimSpace(answer)) {
	case "y", "yes":
		return nil
	}
	return &ExitError{Code: ExitUsage, Msg: "aborted: not confirmed"}
}
