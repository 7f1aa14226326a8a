package commands

import (
	"context"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/b2badmin/b2badmin/client"
	"github.com/b2badmin/b2badmin/client/catalog"
	"github.com/b2badmin/b2badmin/output"
)

// annotColumns lists a command's output column keys (comma-separated) so
// that --columns can be completed; set it with withColumns.
const annotColumns = "b2badmin/columns"

// withColumns declares cmd's output columns, so that --columns completes
// them, and returns cmd.
func withColumns(cmd *cobra.Command, cols output.Columns) *cobra.Command {
	if cmd.Annotations == nil {
		cmd.Annotations = map[string]string{}
	}
	cmd.Annotations[annotColumns] = strings.Join(cols.Keys(), ",")
	return cmd
}

// userCompletionTimeout bounds the database lookup behind user completion:
// a shell must never hang on a Tab.
const userCompletionTimeout = time.Second

// completionOptions are `completion`.
type completionOptions struct {
	*Invocation
	Shell string
	root  *cobra.Command
}

func newCmdCompletion(inv *Invocation, runF func(context.Context, *completionOptions) error) *cobra.Command {
	o := &completionOptions{Invocation: inv}
	return &cobra.Command{
		Use:   "completion bash|zsh|fish|powershell",
		Short: "Print the shell completion script",
		Long: `Print the completion script for a shell. Load it with, for example:
  bash:       source <(b2badmin completion bash)
  zsh:        b2badmin completion zsh > "${fpath[1]}/_b2badmin"
  fish:       b2badmin completion fish > ~/.config/fish/completions/b2badmin.fish
  powershell: b2badmin completion powershell | Out-String | Invoke-Expression
The scripts ask b2badmin for group names, permission identifiers and
--columns values (no database needed) and for user emails (when a database
answers within 1 s). "make install" puts the bash, zsh and fish scripts
where those shells look for them.`,
		Example:   "  source <(b2badmin completion bash)",
		ValidArgs: []string{"bash", "zsh", "fish", "powershell"},
		Args:      cobra.MatchAll(cobra.ExactArgs(1), cobra.OnlyValidArgs),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.Shell, o.root = args[0], cmd.Root()
			return runCmd(cmd, inv, o, runF, runCompletion)
		},
	}
}

func runCompletion(_ context.Context, o *completionOptions) error {
	w := o.IO.Out
	switch o.Shell {
	case "bash":
		return o.root.GenBashCompletionV2(w, true)
	case "zsh":
		return o.root.GenZshCompletion(w)
	case "fish":
		return o.root.GenFishCompletion(w, true)
	}
	return o.root.GenPowerShellCompletionWithDesc(w)
}

// installCompletions wires dynamic completion into a finished tree: every
// command that declares its argument kinds (argsAnnotation) and has no
// completion of its own completes users, groups or permissions by position;
// flags named group, perm, permission or user complete the same way; and
// --columns completes the command's columns. It also makes our completion
// command the only one (Cobra would add its own).
func installCompletions(root *cobra.Command, inv *Invocation) {
	root.CompletionOptions.DisableDefaultCmd = true
	if inv.Batch != nil {
		return // a batch line never completes; its tree is built per line
	}
	if _, ok := root.GetFlagCompletionFunc("columns"); !ok {
		completeFlag(inv, root, "columns", completeColumns)
	}
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		if c.Annotations[annotArgs] != "" && c.ValidArgsFunction == nil {
			c.ValidArgsFunction = func(cmd *cobra.Command, args []string, toComplete string) ([]string, cobra.ShellCompDirective) {
				return completeKind(inv, cmd, argKindAt(cmd, len(args)), toComplete)
			}
		}
		for _, fk := range flagKinds {
			// Flags() before execution holds only the command's own flags;
			// LocalFlags() would merge every parent's, for every command of
			// every batch line.
			if c.Flags().Lookup(fk.name) == nil {
				continue
			}
			if _, ok := c.GetFlagCompletionFunc(fk.name); ok {
				continue
			}
			kind := fk.kind
			completeFlag(inv, c, fk.name, func(cmd *cobra.Command, _ []string, toComplete string) ([]string, cobra.ShellCompDirective) {
				return completeKind(inv, cmd, kind, toComplete)
			})
		}
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(root)
}

// flagKinds are the flag names whose values name users, groups or permissions.
var flagKinds = []struct{ name, kind string }{{"group", ArgGroup}, {"perm", ArgPerm}, {"permission", ArgPerm}, {"user", ArgUser}}

// completeKind offers the words an argument of this kind can take.
func completeKind(inv *Invocation, cmd *cobra.Command, kind, toComplete string) ([]string, cobra.ShellCompDirective) {
	var out []string
	switch kind {
	case ArgGroup:
		for _, g := range catalog.Groups() {
			if hasPrefixFold(g.Name, toComplete) {
				out = append(out, g.Name)
			}
		}
	case ArgPerm:
		for _, p := range catalog.Permissions() {
			if hasPrefixFold(p.ID(), toComplete) {
				out = append(out, p.ID()+"\t"+p.Label)
			}
		}
	case ArgUser:
		out = completeUsers(inv, cmd, toComplete)
	default:
		return nil, cobra.ShellCompDirectiveDefault
	}
	return out, cobra.ShellCompDirectiveNoFileComp
}

// completeUsers asks the database for matching emails, giving up silently
// after userCompletionTimeout (no database, wrong password, slow network).
func completeUsers(inv *Invocation, cmd *cobra.Command, prefix string) []string {
	if prefix == "" || isAllDigits(prefix) {
		return nil // IDs are not worth a query, and "" would list anyone
	}
	ctx, cancel := context.WithTimeout(context.Background(), userCompletionTimeout)
	defer cancel()
	if inv.profile == nil {
		if err := inv.loadProfile(); err != nil {
			return nil
		}
	}
	o := inv.connectOptions()
	o.ReadOnly = true
	o.ConnectTimeout, o.MaxConns, o.Debug = userCompletionTimeout, 1, nil
	c, err := inv.clientFor(ctx, o)
	if err != nil {
		return nil
	}
	defer c.Close()
	emails, err := client.UserEmailsWithPrefix(ctx, c.DB(), prefix, 50)
	if err != nil {
		return nil
	}
	return emails
}

// completeColumns completes a comma-separated --columns list from the
// command's declared columns, leaving out those already given.
func completeColumns(cmd *cobra.Command, _ []string, toComplete string) ([]string, cobra.ShellCompDirective) {
	keys := strings.Split(cmd.Annotations[annotColumns], ",")
	if len(keys) == 1 && keys[0] == "" {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	done, last := "", toComplete
	if i := strings.LastIndex(toComplete, ","); i >= 0 {
		done, last = toComplete[:i+1], toComplete[i+1:]
	}
	given := map[string]bool{}
	for _, k := range strings.Split(done, ",") {
		given[strings.TrimSpace(k)] = true
	}
	var out []string
	for _, k := range keys {
		if !given[k] && strings.HasPrefix(k, last) {
			out = append(out, done+k)
		}
	}
	return out, cobra.ShellCompDirectiveNoFileComp | cobra.ShellCompDirectiveNoSpace
}

func hasPrefixFold(s, prefix string) bool {
	return len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix)
}

func isAllDigits(s string) bool {
	return strings.Trim(s, "0123456789") == ""
}

// completeFlag registers fn as the completion of cmd's flag name, except
// on a batch line: Cobra keeps every registered flag in a process-wide
// map for good, so a batch that registered its lines' flags would keep
// every line's command tree alive (and spend most of its CPU in the
// garbage collector walking them). A batch line never completes.
func completeFlag(inv *Invocation, cmd *cobra.Command, name string, fn cobra.CompletionFunc) {
	if inv.Batch != nil {
		return
	}
	_ = cmd.RegisterFlagCompletionFunc(name, fn)
}
