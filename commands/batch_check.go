package commands

import (
	"context"
	"fmt"
	"io"
	"runtime"
	"sort"
	"strings"
	"sync"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/b2badmin/b2badmin/client"
	"github.com/b2badmin/b2badmin/client/catalog"
	"github.com/b2badmin/b2badmin/client/permref"
)

// notInBatch are the top-level commands a batch line may not run: nesting
// a batch or a shell, changing the schema mid-batch, printing scripts.
var notInBatch = map[string]string{
	"batch":      "a batch cannot start another batch",
	"shell":      "a batch cannot start a shell",
	"db":         "db commands (migrate, seed, status) cannot run inside a batch",
	"completion": "completion scripts cannot be printed inside a batch",
	"help":       "help is not available inside a batch (run b2badmin help)",
	"__complete": "completion cannot run inside a batch",
}

// notInLine are global flags a line may not set: the batch's connection and
// profile are fixed when it starts, so a line's own would silently be ignored.
var notInLine = []string{"dsn", "read-dsn", "profile", "config", "lock-timeout"}

// userArg is one user reference of a line, checked in bulk.
type userArg struct {
	ref  string
	line int
}

// checkCommands runs every pre-check that needs no database on every
// command (the command exists and may run here, its flags parse, its
// arguments fit, named groups and permissions exist), then checks every
// named user with one query. It returns every problem found.
// fixed names the global flags the batch or shell itself was given: a line
// may not set them again (a line's --read-only=false must not undo the
// batch's --read-only).
func checkCommands(ctx context.Context, inv *Invocation, file string, cmds []batchCommand, refused map[string]string, fixed []string) ([]lineProblem, error) {
	// Every line that writes records this actor: one the engine would
	// refuse must stop the batch before its first line.
	if err := client.CheckActor(inv.Actor()); err != nil {
		return nil, err
	}
	// Each line is checked on a tree of its own and shares nothing with
	// the others: the lines are spread over the CPUs, the results kept in
	// line order.
	type checked struct {
		users []userArg
		probs []lineProblem
	}
	results := make([]checked, len(cmds))
	workers := min(runtime.GOMAXPROCS(0), len(cmds)/64+1)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < len(cmds); i += workers {
				results[i].users, results[i].probs = checkCommand(&cmds[i], refused, fixed)
			}
		}()
	}
	wg.Wait()
	var probs []lineProblem
	var users []userArg
	for _, r := range results {
		for i := range r.probs {
			r.probs[i].File = file
		}
		probs = append(probs, r.probs...)
		users = append(users, r.users...)
	}
	if len(users) > 0 {
		refs := make([]string, 0, len(users))
		seen := map[string]bool{}
		for _, u := range users {
			if !seen[u.ref] {
				seen[u.ref] = true
				refs = append(refs, u.ref)
			}
		}
		c, err := inv.Client(ctx)
		if err != nil {
			return nil, err
		}
		ids, bad, err := client.CheckUsers(ctx, c.DB(), refs)
		if err != nil {
			return nil, err
		}
		// After a line that may give an email to another user, an email
		// names whom the run finds then, maybe not whom it names now: only
		// lines naming users by id or UUID may still run side by side.
		moved := false
		for i := range cmds {
			if moved && !allByID(cmds[i].users) {
				cmds[i].users = nil
			}
			for _, r := range cmds[i].users {
				cmds[i].userIDs = append(cmds[i].userIDs, ids[r])
			}
			moved = moved || cmds[i].movesEmail
		}
		for _, u := range users {
			if e, ok := bad[u.ref]; ok {
				kind := problemNotFound
				if client.IsRefused(e) {
					kind = problemUsage
				}
				probs = append(probs, lineProblem{file, u.line, e.Error(), kind})
			}
		}
	}
	sort.SliceStable(probs, func(i, j int) bool { return probs[i].Line < probs[j].Line })
	return probs, nil
}

// checkCommand checks one command on its own fresh tree (parsing flags
// changes a tree's state) and returns the user references it names.
func checkCommand(bc *batchCommand, refused map[string]string, fixed []string) (users []userArg, probs []lineProblem) {
	leanFirst(func(lean bool) bool {
		bc.users, bc.movesEmail = nil, false
		users, probs = checkCommandOn(bc, refused, fixed, lean)
		return len(probs) == 0
	})
	return users, probs
}

// checkCommandOn is checkCommand on a tree with or without the selector
// flags (leanFirst).
func checkCommandOn(bc *batchCommand, refused map[string]string, fixed []string, lean bool) ([]userArg, []lineProblem) {
	bad := func(kind int, format string, a ...any) []lineProblem {
		return []lineProblem{{Line: bc.Line, Msg: fmt.Sprintf(format, a...), Kind: kind}}
	}
	if why, ok := refused[bc.Args[0]]; ok {
		return nil, bad(problemUsage, "%s", why)
	}
	inv := checkInvocation()
	inv.withoutSelectors = lean
	root := lineRoot(inv, bc.Args)
	cmd, rest, err := findLine(root, bc.Args)
	if err != nil {
		return nil, bad(problemUsage, "%s", firstLine(err.Error()))
	}
	if top := topLevel(cmd); top != nil {
		if why, ok := refused[top.Name()]; ok {
			return nil, bad(problemUsage, "%s", why)
		}
	}
	cmd.InitDefaultHelpFlag()
	// This tree is only checked, never shown: pflag need not sort its
	// flags on each of the visits below.
	cmd.Flags().SortFlags = false
	if err := cmd.ParseFlags(rest); err != nil {
		return nil, bad(problemUsage, "%s", firstLine(flagError(cmd, err).Error()))
	}
	if h := cmd.Flags().Lookup("help"); h != nil && h.Changed {
		return nil, bad(problemUsage, "--help is not available inside a batch")
	}
	for _, name := range notInLine {
		if fl := cmd.Flags().Lookup(name); fl != nil && fl.Changed {
			return nil, bad(problemUsage, "--%s cannot change inside a batch: give it to the batch itself", name)
		}
	}
	// A line has no stdin of its own: the batch's stdin may be the batch.
	if fl := cmd.Flags().Lookup("password-stdin"); fl != nil && fl.Changed {
		return nil, bad(problemUsage, "--password-stdin cannot read inside a batch (the line has no stdin); use set-password on its own")
	}
	for _, name := range fixed {
		if fl := cmd.Flags().Lookup(name); fl != nil && fl.Changed {
			return nil, bad(problemUsage, "--%s is set for the whole run and cannot change on a line", name)
		}
	}
	pos := cmd.Flags().Args()
	// The checks every command line gets before it runs (encoding, global
	// values), so that a NUL in line 900's --reason stops line 1.
	if err := checkLine(inv, cmd, pos); err != nil {
		code, msg := classify(err)
		return nil, bad(code, "%s", msg)
	}
	if isParent(cmd) {
		if len(pos) > 0 {
			return nil, bad(problemUsage, "%s", unknownCommand(cmd, pos[0]))
		}
		return nil, bad(problemUsage, "%s", needsSubcommand(cmd))
	}
	for _, check := range []func() error{func() error { return cmd.ValidateArgs(pos) }, cmd.ValidateRequiredFlags, cmd.ValidateFlagGroups} {
		if err := check(); err != nil {
			return nil, bad(problemUsage, "%s: %s", cmd.CommandPath(), firstLine(err.Error()))
		}
	}
	// A command's PreRunE holds its database-free validation of flag
	// values (a malformed phone, say): running it here means a bad value
	// on line 900 stops the batch before line 1 runs.
	if cmd.PreRunE != nil {
		if err := cmd.PreRunE(cmd, pos); err != nil {
			code, msg := classify(err)
			return nil, bad(code, "%s", msg)
		}
	}
	var users []userArg
	var probs []lineProblem
	for i, a := range pos {
		switch argKindAt(cmd, i) {
		case ArgUser:
			if a == "-" {
				probs = append(probs, bad(problemUsage, "reading users from stdin (-) is not possible inside a batch: list them on the line")...)
				continue
			}
			users = append(users, userArg{ref: a, line: bc.Line})
		case ArgGroup:
			if _, ok := catalog.LookupGroup(a); !ok {
				probs = append(probs, bad(problemRefused, "%s", catalog.UnknownGroup(a))...)
			}
		case ArgPerm:
			if !permExists(a) {
				probs = append(probs, bad(problemRefused, "permission %q not found (an identifier such as api.view_wallet, an exact label, or a glob matching one)", a)...)
			}
		}
	}
	if len(probs) == 0 && len(users) > 0 && changesOnlyNamed(cmd) {
		for _, u := range users {
			bc.users = append(bc.users, u.ref)
		}
	}
	path := pathBelowRoot(cmd)
	if fl := cmd.Flags().Lookup("email"); path == "undo" || (path == "users update" && fl != nil && fl.Changed) {
		bc.movesEmail = true
	}
	return users, probs
}

// pathBelowRoot is cmd's path without the program's name ("users update").
func pathBelowRoot(cmd *cobra.Command) string {
	return strings.TrimPrefix(cmd.CommandPath(), cmd.Root().Name()+" ")
}

// allByID reports whether every reference is an id or a UUID (no email).
func allByID(refs []string) bool {
	for _, r := range refs {
		if strings.Contains(r, "@") {
			return false
		}
	}
	return true
}

// sideBySideCommands change the users they name and read nothing of any
// other user: their rules (group rules, permissions) are per user.
var sideBySideCommands = map[string]bool{
	"users update": true, "users activate": true, "users deactivate": true,
	"users add-group": true, "users remove-group": true, "users set-group": true, "users set-role": true,
	"perms grant": true, "perms revoke": true,
}

// changesOnlyNamed reports whether cmd, as parsed, changes exactly the
// users its arguments name and reads nothing of other users: no selector,
// no dry run of its own (a savepoint), no new email (unique across users).
func changesOnlyNamed(cmd *cobra.Command) bool {
	if !sideBySideCommands[pathBelowRoot(cmd)] {
		return false
	}
	only := true
	cmd.Flags().Visit(func(fl *pflag.Flag) {
		if _, sel := fl.Annotations[annotSelector]; sel || fl.Name == "dry-run" || fl.Name == "email" {
			only = false
		}
	})
	return only
}

// checkInvocation is an invocation for checking a line only: no streams,
// no environment, no connection, and inside a batch.
func checkInvocation() *Invocation {
	f := NewFactory(&IOStreams{In: strings.NewReader(""), Out: io.Discard, ErrOut: io.Discard}, func(string) string { return "" })
	return f.NewInvocation(f.IO, nil, &BatchLine{})
}

// topLevel is the command directly under the root on cmd's path.
func topLevel(cmd *cobra.Command) *cobra.Command {
	for cmd != nil && cmd.HasParent() && cmd.Parent().HasParent() {
		cmd = cmd.Parent()
	}
	if cmd == nil || !cmd.HasParent() {
		return nil
	}
	return cmd
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(s, "\n")
	return s
}

func groupNames() []string {
	var out []string
	for _, g := range catalog.Groups() {
		out = append(out, g.Name)
	}
	return out
}

// permExists is the pre-check's view of a PERM argument: the command's own
// resolver (permref), so that a word the command accepts is never refused
// here, nor the reverse.
func permExists(arg string) bool {
	_, err := permref.Resolve([]string{arg})
	return err == nil
}
