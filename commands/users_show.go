package commands

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/b2badmin/b2badmin/client"
	"github.com/b2badmin/b2badmin/output"
)

// usersShowOptions are `users show`.
type usersShowOptions struct {
	*Invocation
	User     string
	Sections []string // normalised: known section names, "2fa" read as two_factor
	Reveal   bool
	Limit    int
}

func newCmdUsersShow(inv *Invocation, runF func(context.Context, *usersShowOptions) error) *cobra.Command {
	o := &usersShowOptions{Invocation: inv}
	cmd := &cobra.Command{
		Use:   "show USER",
		Short: "Show a user's details page: info, two_factor (2FA), additional, sessions, tokens, commissions",
		Long: `Show the user details page of USER (an ID, an email or a UUID).

Sections: ` + strings.Join(client.UserSections, ", ") + `. --section picks some
(repeatable or comma-separated). -o json prints one object with a key per
section; -o csv and -o tsv print section,field,value rows. Sent tokens are
masked (••••1234) unless --reveal; password hashes and 2FA keys are never
read. Exit 3 when the user does not exist.`,
		Example: `  b2badmin users show alice@example.com
  b2badmin users show 42 --section commissions -o json`,
		Args:        cobra.ExactArgs(1),
		Annotations: argsAnnotation(ArgUser),
		PreRunE: func(*cobra.Command, []string) error {
			var secs []string
			for _, s := range o.Sections {
				s = strings.ToLower(strings.TrimSpace(s))
				if s == "" {
					continue
				}
				if s == "2fa" {
					s = client.SectionTwoFactor // the tab's name in the back office
				}
				if !isSection(s) {
					return usageErrorf("unknown section %q (sections: %s)", s, strings.Join(client.UserSections, ", "))
				}
				secs = append(secs, s)
			}
			o.Sections = secs
			if o.Limit < 1 {
				return usageErrorf("--limit must be at least 1, got %d", o.Limit)
			}
			if len(inv.Global.Columns) > 0 {
				return usageError("--columns does not apply to users show; use --section")
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			o.User = args[0]
			return runCmd(cmd, inv, o, runF, runUsersShow)
		},
	}
	completeFlag(inv, cmd, "section", cobra.FixedCompletions(client.UserSections, cobra.ShellCompDirectiveNoFileComp))
	cmd.Flags().StringSliceVar(&o.Sections, "section", nil, "sections to show: "+strings.Join(client.UserSections, ", "))
	cmd.Flags().BoolVar(&o.Reveal, "reveal", false, "show sent tokens in full instead of ••••1234")
	cmd.Flags().IntVar(&o.Limit, "limit", 20, "latest API sessions and sent tokens shown")
	return withJSONShape(cmd, client.UserDetails{})
}

func runUsersShow(ctx context.Context, o *usersShowOptions) error {
	fm, err := o.OutputFormat()
	if err != nil {
		return err
	}
	c, err := o.ReadClient(ctx)
	if err != nil {
		return err
	}
	d, err := c.ShowUser(ctx, o.User, client.ShowOptions{Sections: o.Sections, Reveal: o.Reveal, Limit: o.Limit})
	if err != nil {
		return err
	}
	return renderUserDetails(o.IO.Out, fm, o.OutputOptions(), d)
}

func isSection(s string) bool {
	for _, x := range client.UserSections {
		if x == s {
			return true
		}
	}
	return false
}

func renderUserDetails(w io.Writer, fm output.Format, o output.Options, d *client.UserDetails) error {
	switch fm {
	case output.JSON:
		return output.WriteJSON(w, d)
	case output.JSONL:
		return output.WriteJSONLine(w, d)
	case output.IDs:
		_, err := fmt.Fprintln(w, d.ID)
		return err
	case output.CSV, output.TSV:
		return writeDetailRecords(w, fm, o, detailBlocks(d))
	}
	return writeDetailTables(w, o, detailBlocks(d))
}

// writeDetailRecords flattens the sections to section,field,value rows; a
// list's fields are numbered (sessions, field sessions.1.ip).
func writeDetailRecords(w io.Writer, fm output.Format, o output.Options, blocks []detailBlock) error {
	cols := output.Columns{{Key: "section"}, {Key: "field"}, {Key: "value"}}
	p, _ := cols.Select(nil, fm)
	rw := output.NewRowWriter(fm, w, p, o)
	for _, b := range blocks {
		for _, kv := range b.pairs {
			if err := rw.Write([]any{b.key, kv.k, kv.v}); err != nil {
				return err
			}
		}
		for _, l := range b.lists {
			for i, r := range l.rows {
				for j, c := range l.cols {
					if err := rw.Write([]any{b.key, l.key + "." + strconv.Itoa(i+1) + "." + c.Key, r[j]}); err != nil {
						return err
					}
				}
			}
		}
	}
	return rw.Close()
}

// writeDetailTables prints each section as a titled key/value table, and
// its list (wallets, sessions, tokens, devices, plans) as a table below.
func writeDetailTables(w io.Writer, o output.Options, blocks []detailBlock) error {
	for i, b := range blocks {
		if i > 0 {
			fmt.Fprintln(w)
		}
		fmt.Fprintln(w, "== "+b.title)
		if len(b.pairs) > 0 {
			// A headerless two-column table, fitted to the terminal like any other.
			rows := make([][]any, len(b.pairs))
			for i, kv := range b.pairs {
				rows[i] = []any{kv.label, kv.v}
			}
			po := o
			po.NoHeaders = true
			if err := output.WriteAll(output.Table, w, pairColumns, po, rows); err != nil {
				return err
			}
		}
		for _, l := range b.lists {
			fmt.Fprintln(w, l.title+":")
			if len(l.rows) == 0 {
				fmt.Fprintln(w, "  (none)")
				continue
			}
			p, _ := l.cols.Select(nil, output.Table)
			if err := output.WriteAll(output.Table, w, p, o, l.rows); err != nil {
				return err
			}
		}
	}
	return nil
}

// pairColumns is a section's label/value table.
var pairColumns, _ = output.Columns{{Key: "field", Header: "Field", Default: true}, {Key: "value", Header: "Value", Default: true}}.Select(nil, output.Table)
