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

	"github.com/jackc/pgx/v5"
	"github.com/spf13/cobra"

	"github.com/b2badmin/b2badmin/client"
)

// Test-only commands under `t`, added to the tree batch and shell lines
// run on, so the batch machinery is tested with real writes through the
// same path as the real commands (resolve, transaction, operation log)
// without depending on commands other branches are still building.
func init() {
	lineRootHook = func(f *Factory) *cobra.Command {
		root := NewRootCmd(f)
		root.AddCommand(testCommands(f))
		installCompletions(root, f)
		return root
	}
}

func testCommands(f *Factory) *cobra.Command {
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
			u, err := client.ResolveUser(ctx, c.DB(), args[0])
			if err != nil {
				return err
			}
			a := f.Audit(reason)
			var batchID, batchLine any
			if a.BatchID != "" {
				batchID, batchLine = a.BatchID, a.BatchLine
			}
			const q = `
WITH old AS (SELECT id, first_name FROM rbac_user WHERE id = $1 FOR UPDATE),
     upd AS (UPDATE rbac_user SET first_name = $2 WHERE id = $1)
INSERT INTO api_operationlog (created_at, actor, action, target_user_id, before, after, reason, command, batch_id, batch_file, batch_line)
SELECT now(), $3, 'test.set_name', id, jsonb_build_object('first_name', first_name), jsonb_build_object('first_name', $2::text), $4, $5, $6::uuid, $7, $8 FROM old`
			err = pgx.BeginFunc(ctx, c.DB(), func(tx pgx.Tx) error {
				_, err := tx.Exec(ctx, q, u.ID, args[1], a.Actor, a.Reason, a.Command, batchID, a.BatchFile, batchLine)
				return err
			})
			if err != nil {
				return err
			}
			fmt.Fprintf(f.IO.Out, "renamed %s\n", u.Email)
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
	f.Args = args
	root := lineRoot(f, nil)
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
