package commands

import (
	"context"
	"fmt"
	"runtime"
	"runtime/debug"
	"strings"
	"sync"

	"github.com/spf13/cobra"

	"github.com/b2badmin/b2badmin/output"
)

// Set by the Makefile (-ldflags -X); a plain `go build` leaves them empty
// and BuildInfo falls back to what the Go toolchain stamped into the
// binary (module version, VCS revision and time, unless -buildvcs=false).
var (
	stampVersion string // git describe, or a release tag
	stampCommit  string // full commit hash
	stampDate    string // RFC 3339 UTC
	stampDirty   string // "true" when the work tree had uncommitted changes
)

// BuildInfo is what `b2badmin version` prints: enough to paste into a bug
// report and find the exact source.
type BuildInfo struct {
	Version   string `json:"version"`
	Commit    string `json:"commit"`
	Modified  bool   `json:"modified"`
	BuildDate string `json:"build_date"`
	GoVersion string `json:"go_version"`
	Platform  string `json:"platform"`
}

// buildInfo is computed once: every command tree (one per batch line)
// sets the root's --version from it.
var buildInfo = sync.OnceValue(readBuildInfo)

// readBuildInfo merges the linker-set values with the toolchain's stamp.
func readBuildInfo() BuildInfo {
	b := BuildInfo{Version: stampVersion, Commit: stampCommit, BuildDate: stampDate,
		GoVersion: runtime.Version(), Platform: runtime.GOOS + "/" + runtime.GOARCH}
	if bi, ok := debug.ReadBuildInfo(); ok {
		if b.Version == "" && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
			b.Version = bi.Main.Version // go install …@vX.Y.Z
		}
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				if b.Commit == "" {
					b.Commit = s.Value
				}
			case "vcs.time":
				if b.BuildDate == "" {
					b.BuildDate = s.Value // the commit's time: the best a plain go build knows
				}
			case "vcs.modified":
				b.Modified = s.Value == "true"
			}
		}
	}
	if stampDirty == "true" || strings.HasSuffix(b.Version, "-dirty") {
		b.Modified = true
	}
	if b.Version == "" {
		b.Version = "dev"
	}
	return b
}

// String is the one line of --version.
func (b BuildInfo) String() string {
	commit := b.Commit
	if len(commit) > 12 {
		commit = commit[:12]
	}
	if commit == "" {
		commit = "unknown"
	}
	if b.Modified && !strings.HasSuffix(b.Version, "-dirty") {
		commit += "-dirty"
	}
	date := b.BuildDate
	if date == "" {
		date = "unknown"
	}
	return fmt.Sprintf("%s (commit %s, built %s, %s %s)", b.Version, commit, date, b.GoVersion, b.Platform)
}

var versionColumns = output.Columns{
	{Key: "version", Header: "Version", Default: true},
	{Key: "commit", Header: "Commit", Default: true},
	{Key: "modified", Header: "Modified", Default: true},
	{Key: "build_date", Header: "Built", Default: true},
	{Key: "go_version", Header: "Go", Default: true},
	{Key: "platform", Header: "Platform", Default: true},
}

// versionOptions are `version`.
type versionOptions struct {
	*Invocation
}

func newCmdVersion(inv *Invocation, runF func(context.Context, *versionOptions) error) *cobra.Command {
	o := &versionOptions{Invocation: inv}
	cmd := &cobra.Command{
		Use:   "version",
		Short: "Print the version, commit, build date and Go version of this binary",
		Long: `Print the version, the commit it was built from (with "modified" when the
work tree had uncommitted changes), the build date, the Go version and the
platform. "b2badmin --version" prints the same on one line. Needs no
database and no config file. -o json prints one object.`,
		Example: "  b2badmin version\n  b2badmin version -o json --jq .commit",
		Args:    cobra.NoArgs,
		// A broken config file must not stop a bug report: no profile is read.
		PersistentPreRunE: func(cmd *cobra.Command, _ []string) error {
			if _, err := inv.OutputFormat(); err != nil {
				return err
			}
			return inv.setupOutput(cmd)
		},
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runCmd(cmd, inv, o, runF, runVersion)
		},
	}
	return withColumns(cmd, versionColumns)
}

func runVersion(_ context.Context, o *versionOptions) error {
	b := buildInfo()
	fm, p, err := o.selectColumns(versionColumns)
	if err != nil {
		return err
	}
	switch fm {
	case output.JSON:
		return output.WriteJSON(o.IO.Out, b)
	case output.JSONL:
		return output.WriteJSONLine(o.IO.Out, b)
	case output.Table:
		if len(o.Global.Columns) == 0 {
			_, err := fmt.Fprintln(o.IO.Out, "b2badmin "+b.String())
			return err
		}
	}
	return output.WriteAll(fm, o.IO.Out, p, o.OutputOptions(), [][]any{{b.Version, b.Commit, b.Modified, b.BuildDate, b.GoVersion, b.Platform}})
}
