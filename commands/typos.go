package commands

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/b2badmin/b2badmin/internal/suggest"
)

// A typo must fail. Cobra prints a parent's help and exits 0 when the word
// after it names no subcommand (`users deactive 5`), so a cron job
// "succeeds" doing nothing; and it reports the flags of the subcommand
// that was meant as unknown flags of the parent. requireSubcommands makes
// every parent refuse what is not one of its subcommands (exit 2), with a
// did-you-mean on one line; flagError does the same for flags.

// annotParent marks a command that only groups subcommands.
const annotParent = "b2badmin_parent"

// requireSubcommands walks the tree: every command that has subcommands
// and no run of its own accepts no other word. The root alone, without
// any word, still prints its help.
func requireSubcommands(cmd *cobra.Command) {
	for _, c := range cmd.Commands() {
		requireSubcommands(c)
	}
	if !cmd.HasSubCommands() {
		return
	}
	if cmd.Run != nil || cmd.RunE != nil {
		// Runnable with subcommands (log, log runs): its own Args refuse
		// a stray word; -h waits for them too (`log rns -h` must fail).
		var asked helpAsked
		addHelpFlag(cmd, &asked)
		args := cmd.Args
		cmd.Args = func(c *cobra.Command, a []string) error {
			if args != nil {
				if err := args(c, a); err != nil {
					return err
				}
			}
			if asked {
				return pflag.ErrHelp
			}
			return nil
		}
		return
	}
	if cmd.Annotations == nil {
		cmd.Annotations = map[string]string{}
	}
	cmd.Annotations[annotParent] = "true"
	var asked helpAsked
	addHelpFlag(cmd, &asked)
	if cmd.Version != "" {
		// Cobra answers --version before the words, and now before -h,
		// which it reads as false: as before, help wins (`-h --version`).
		fl := cmd.Flags().VarPF(&versionAsked{help: &asked}, "version", "v", "version for "+cmd.DisplayName())
		fl.NoOptDefVal = "true"
		_ = cmd.Flags().SetAnnotation("version", cobra.FlagSetByCobraAnnotation, []string{"true"})
	}
	cmd.Args = func(c *cobra.Command, args []string) error {
		if len(args) > 0 {
			return unknownCommand(c, args[0])
		}
		if asked {
			return pflag.ErrHelp // Cobra's own answer to -h, after the words were checked
		}
		return nil
	}
	cmd.RunE = func(c *cobra.Command, _ []string) error {
		if !c.HasParent() {
			return c.Help()
		}
		return needsSubcommand(c)
	}
}

// addHelpFlag gives cmd a -h/--help that Cobra reads as false. Cobra
// answers a help flag before it checks a command's words, with the help of
// the command it stopped at: `b2badmin usrs --help` printed the root's help
// and exited 0, a typo that succeeds. A parent's Args (above) and the help
// command (help.go) check the words first and then give the help asked.
func addHelpFlag(cmd *cobra.Command, asked *helpAsked) {
	name := cmd.DisplayName()
	fl := cmd.Flags().VarPF(asked, "help", "h", "help for "+name)
	fl.NoOptDefVal = "true"
	_ = cmd.Flags().SetAnnotation("help", cobra.FlagSetByCobraAnnotation, []string{"true"})
}

// helpAsked is a -h given to addHelpFlag's command; "false" to Cobra.
type helpAsked bool

func (h *helpAsked) Set(v string) error {
	b, err := strconv.ParseBool(v)
	*h = helpAsked(b)
	return err
}
func (h *helpAsked) String() string { return "false" }
func (h *helpAsked) Type() string   { return "bool" }

// versionAsked is the root's --version: true to Cobra only without -h.
type versionAsked struct {
	set  bool
	help *helpAsked
}

func (v *versionAsked) Set(s string) error {
	b, err := strconv.ParseBool(s)
	v.set = b
	return err
}
func (v *versionAsked) String() string { return strconv.FormatBool(v.set && !bool(*v.help)) }
func (v *versionAsked) Type() string   { return "bool" }

// isParent reports a command that only groups subcommands.
func isParent(cmd *cobra.Command) bool {
	return cmd.Annotations[annotParent] != "" || (cmd.HasSubCommands() && !cmd.Runnable())
}

// unknownCommand is the error for a word that names no subcommand of cmd.
func unknownCommand(cmd *cobra.Command, word string) error {
	return usageErrorf("unknown command %q for %q%s", word, cmd.CommandPath(),
		suggest.Phrase(word, subcommandNames(cmd), func(s string) string { return fmt.Sprintf("%q", s) }))
}

// needsSubcommand is the error for a parent given no subcommand.
func needsSubcommand(cmd *cobra.Command) error {
	return usageErrorf("%q needs a subcommand: %s (see %s --help)", cmd.CommandPath(), strings.Join(subcommandNames(cmd), ", "), cmd.CommandPath())
}

func subcommandNames(cmd *cobra.Command) []string {
	var out []string
	for _, c := range cmd.Commands() {
		if c.IsAvailableCommand() && c.Name() != "help" {
			out = append(out, c.Name())
		}
	}
	return out
}

// flagError turns pflag's parse errors into one-line usage errors. An
// unknown flag gets the closest flags of the command; on a parent, a word
// before the flag that names no subcommand is the real mistake
// (`users deactive 5 --yes`: --yes belongs to the verb that was meant).
func flagError(cmd *cobra.Command, err error) error {
	if isParent(cmd) {
		if pos := cmd.Flags().Args(); len(pos) > 0 {
			return unknownCommand(cmd, pos[0])
		}
	}
	var ne *pflag.NotExistError
	if errors.As(err, &ne) {
		name := ne.GetSpecifiedName()
		if ne.GetSpecifiedShortnames() != "" {
			return usageErrorf("unknown shorthand flag -%s for %q", name, cmd.CommandPath())
		}
		var names []string
		cmd.Flags().VisitAll(func(f *pflag.Flag) {
			if !f.Hidden {
				names = append(names, f.Name)
			}
		})
		return usageErrorf("unknown flag --%s for %q%s", name, cmd.CommandPath(),
			suggest.Phrase(name, names, func(s string) string { return "--" + s }))
	}
	return usageError(err.Error())
}
