package commands

import (
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/b2badmin/b2badmin/client"
)

// Bad input must never reach PostgreSQL: a NUL byte or invalid UTF-8
// comes back as a raw SQLSTATE (exit 1), in a batch after earlier lines
// committed. checkLine is the database-free check every command line gets
// before it runs: from the root's PersistentPreRunE on the command line
// and on every batch or shell line, and from the batch pre-check before
// the first line runs. What a single flag's value must look like is the
// command's own PreRunE (which the pre-check runs too).

// checkLine refuses malformed words (exit 2) and global option values
// that cannot work: a negative --timeout, one past what PostgreSQL takes
// as a setting (else the connection fails, exit 1, after the command
// started), an --actor the operation log would refuse (exit 4).
func checkLine(inv *Invocation, cmd *cobra.Command, args []string) error {
	if err := checkWords(cmd, args); err != nil {
		return err
	}
	g := inv.Global
	if g.Timeout < 0 {
		return usageErrorf("invalid --timeout %s: want a positive duration such as 30s, or 0 for no limit", g.Timeout)
	}
	if g.Timeout > client.MaxTimeout {
		return usageErrorf("invalid --timeout %s: at most %s (PostgreSQL's limit for statement_timeout), or 0 for no limit", g.Timeout, client.MaxTimeout)
	}
	if g.LockTimeout < 0 {
		return usageErrorf("invalid --lock-timeout %s: want a positive duration such as 30s, or 0 to wait for ever", g.LockTimeout)
	}
	if g.LockTimeout > client.MaxLockTimeout {
		return usageErrorf("invalid --lock-timeout %s: at most %s (PostgreSQL's limit for lock_timeout), or 0 to wait for ever", g.LockTimeout, client.MaxLockTimeout)
	}
	if g.Actor != "" {
		if err := client.CheckActor(strings.TrimSpace(g.Actor)); err != nil {
			return err
		}
	}
	return nil
}

// checkWords refuses any argument or flag value that is not valid UTF-8
// or holds a NUL byte: PostgreSQL rejects both in every text value.
func checkWords(cmd *cobra.Command, args []string) error {
	for i, a := range args {
		if err := wellFormed(a); err != nil {
			return usageErrorf("invalid argument %d (%s): %v", i+1, quoteClip(a), err)
		}
	}
	var bad error
	cmd.Flags().Visit(func(f *pflag.Flag) {
		if bad != nil {
			return
		}
		for _, v := range flagValues(f) {
			if err := wellFormed(v); err != nil {
				bad = usageErrorf("invalid --%s: %v", f.Name, err)
				return
			}
		}
	})
	return bad
}

// flagValues are the values a flag was given (each element of a list).
func flagValues(f *pflag.Flag) []string {
	if sv, ok := f.Value.(pflag.SliceValue); ok {
		return sv.GetSlice()
	}
	return []string{f.Value.String()}
}

func wellFormed(s string) error {
	if !utf8.ValidString(s) {
		return fmt.Errorf("not valid UTF-8")
	}
	if strings.IndexByte(s, 0) >= 0 {
		return fmt.Errorf("holds a NUL byte")
	}
	return nil
}

// quoteClip quotes a word for a message, short and printable.
func quoteClip(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	if utf8.RuneCountInString(s) > 40 {
		s = string([]rune(s)[:37]) + "..."
	}
	return fmt.Sprintf("%q", s)
}
