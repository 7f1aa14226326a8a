package commands

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"testing"
	"time"

	"github.com/spf13/cobra"

	"github.com/b2badmin/b2badmin/client"
)

// Test-only commands under `t`, added to the tree batch and shell lines
// run on, so the batch machinery is tested with real writes through the
// same path as the real commands (resolve, transaction, operation log)
// without depending on commands other branches are still building.
func init() {
	lineRootHook = func(inv *Invocation) *cobra.Command {
		root := NewRootCmd(inv)
		root.AddCommand(testCommands(inv))
		installCompletions(root, inv)
		return root
	}
}

func testCommands(f *Invocation) *cobra.Command {
	t := &cobra.Command{Use: "t", Short: "test commands", Hidden: true}
	var reason string
	setName := &cobra.Command{
		Use:         "set-name USER NAME",
		Args:        cobra.ExactArgs(2),
		Annotations: argsAnnotation(ArgUser, ArgOther),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := refuseReadOnly(f); err != nil {
				return err
			}
			if args[1] == "FAIL" {
				return client.Refused("refused: FAIL is not a name")
			}
			ctx, cancel := commandContext(cmd, f)
			defer cancel()
			c, err := f.Client(ctx)
			if err != nil {
				return err
			}
			// Through the change engine, as every write: the lock, the log
			// row and the batch's run come from it.
			name := args[1]
			res, err := c.UpdateUsers(ctx, f.Audit(reason), client.Targets{Refs: args[:1]}, client.UserUpdate{FirstName: &name}, client.ChangeOptions{})
			if err != nil {
				return err
			}
			email := args[0]
			if len(res.Changes) > 0 {
				email = res.Changes[0].Email
			} else if len(res.Unchanged) > 0 {
				email = res.Unchanged[0].Email
			}
			fmt.Fprintf(f.IO.Out, "renamed %s\n", email)
			return nil
		},
	}
	setName.Flags().StringVar(&reason, "reason", "", "why")
	addGroup := &cobra.Command{
		Use: "add-group USER GROUP...", Args: cobra.MinimumNArgs(2), Annotations: argsAnnotation(ArgUser, ArgGroup),
		RunE: func(*cobra.Command, []string) error { return nil },
	}
	grant := &cobra.Command{
		Use: "grant USER PERM...", Args: cobra.MinimumNArgs(2), Annotations: argsAnnotation(ArgUser, ArgPerm),
		RunE: func(*cobra.Command, []string) error { return nil },
	}
	var flagVal string
	var flagBool bool
	echo := &cobra.Command{
		Use: "echo ARG...", Annotations: argsAnnotation(ArgOther),
		RunE: func(_ *cobra.Command, args []string) error {
			return json.NewEncoder(f.IO.Out).Encode(map[string]any{"args": args, "value": flagVal, "bool": flagBool})
		},
	}
	echo.Flags().StringVar(&flagVal, "value", "", "a string flag")
	echo.Flags().BoolVarP(&flagBool, "yes", "y", false, "a bool flag")
	sleep := &cobra.Command{
		Use: "sleep DURATION", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			d, err := time.ParseDuration(args[0])
			if err != nil {
				return usageError(err.Error())
			}
			select {
			case <-time.After(d):
				return nil
			case <-cmd.Context().Done():
				return cmd.Context().Err()
			}
		},
	}
	t.AddCommand(setName, addGroup, grant, echo, sleep)
	return t
}

// TestBatchHelperProcess is not a test: the process tests re-run the test
// binary with B2BADMIN_TEST_HELPER=1 to get a b2badmin whose batch lines
// can use the test commands, then signal or kill it.
func TestBatchHelperProcess(t *testing.T) {
	if os.Getenv("B2BADMIN_TEST_HELPER") != "1" {
		t.Skip("helper process for the batch process tests")
	}
	args := os.Args
	for i, a := range args {
		if a == "--" {
			args = args[i+1:]
			break
		}
	}
	// Main, but on the tree with the test commands.
	f := NewFactory(SystemStreams(), os.Getenv)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	root := lineRoot(f.NewInvocation(f.IO, args, nil), nil)
	root.SetArgs(args)
	code := ExitOK
	if err := root.ExecuteContext(ctx); err != nil {
		var msg string
		code, msg = classify(err)
		if msg != "" {
			fmt.Fprintln(f.IO.ErrOut, "b2badmin: "+oneLine(msg))
		}
	}
	stop()
	f.Close()
	os.Exit(code)
}
