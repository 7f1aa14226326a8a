package commands

import (
	"strings"

	"github.com/spf13/cobra"
)

// Cobra's own help command looks its topic up with Root().Find, which
// reports an unknown word only for a command without an Args function,
// and requireSubcommands gives every parent one; its "Unknown help topic"
// path then exits 0 anyway. So `help usrs` printed the root's help and
// `help users lst` the users help, both exit 0: a typo that "succeeds".
// newHelpCmd replaces it with one that resolves the topic word by word
// and refuses a word that names no subcommand exactly as running it
// would (`b2badmin usrs`: exit 2, one line, did-you-mean).

// newHelpCmd is the tree's help command (root.SetHelpCommand). Its text,
// and the help it prints for a topic, are what Cobra's printed.
func newHelpCmd() *cobra.Command {
	var asked helpAsked
	help := &cobra.Command{
		Use:   "help [command]",
		Short: "Help about any command",
		Long: `Help provides help for any command in the application.
Simply type b2badmin help [path to command] for full details.`,
		ValidArgsFunction: completeHelpTopic,
		RunE: func(c *cobra.Command, args []string) error {
			topic, err := helpTopic(c.Root(), args)
			if err != nil {
				return err
			}
			if asked && len(args) == 0 {
				topic = c // `help -h`: the help of help
			}
			// As Cobra's help command does: the topic's help lists -h
			// and --version like its --help does, and sees the context.
			if topic.Context() == nil {
				topic.SetContext(c.Context())
			}
			topic.InitDefaultHelpFlag()
			topic.InitDefaultVersionFlag()
			return topic.Help()
		},
	}
	// -h on the help command asks for its topic's help (`help users -h`,
	// as the shell's help reads it), and for its own only when it names
	// none; a topic that names no command fails as it does without -h.
	addHelpFlag(help, &asked)
	return help
}

// helpTopic is the command words names, from root; no words is root.
func helpTopic(root *cobra.Command, words []string) (*cobra.Command, error) {
	cmd := root
	for i, w := range words {
		next := subcommandNamed(cmd, w)
		if next == nil {
			if !cmd.HasSubCommands() {
				return nil, usageErrorf("unknown help topic %q: %q has no subcommands", strings.Join(words[:i+1], " "), cmd.CommandPath())
			}
			return nil, unknownCommand(cmd, w)
		}
		cmd = next
	}
	return cmd, nil
}

// subcommandNamed is cmd's subcommand called word (by name or alias), the
// way Cobra finds one when it runs a command line.
func subcommandNamed(cmd *cobra.Command, word string) *cobra.Command {
	for _, c := range cmd.Commands() {
		if c.Name() == word || c.HasAlias(word) {
			return c
		}
	}
	return nil
}

// completeHelpTopic offers the subcommands of the topic typed so far, as
// Cobra's help command did; nothing after a word that names none.
func completeHelpTopic(c *cobra.Command, args []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
	topic, err := helpTopic(c.Root(), args)
	if err != nil {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	var out []cobra.Completion
	for _, sub := range topic.Commands() {
		if (sub.IsAvailableCommand() || sub == c) && strings.HasPrefix(sub.Name(), toComplete) {
			out = append(out, cobra.CompletionWithDesc(sub.Name(), sub.Short))
		}
	}
	return out, cobra.ShellCompDirectiveNoFileComp
}
