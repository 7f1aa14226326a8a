package commands

import (
	"bytes"
	"context"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/mattn/go-shellwords"
	"github.com/spf13/cobra"
	"go.yaml.in/yaml/v3"

	"github.com/b2badmin/b2badmin/output"
)

// The CI jobs of docs/ci-audit.md are meant to be copied as they are: their
// YAML parses, every b2badmin command in them parses with the real flags,
// and what a job uploads (SARIF, JUnit) is what its commands write, in the
// format the upload expects.
func TestCIDocJobs(t *testing.T) {
	doc, err := os.ReadFile("../docs/ci-audit.md")
	if err != nil {
		t.Fatal(err)
	}
	blocks := regexp.MustCompile("(?s)```yaml\n(.*?)```").FindAllStringSubmatch(string(doc), -1)
	if len(blocks) < 2 {
		t.Fatalf("%d yaml blocks in docs/ci-audit.md, want the GitHub and the GitLab job first", len(blocks))
	}
	// The access jobs after them: every command parses with the real flags.
	accessCmds := 0
	for _, b := range blocks[2:] {
		for _, m := range regexp.MustCompile(`bin/b2badmin (access [^|>\n]*)`).FindAllStringSubmatch(b[1], -1) {
			args, err := shellwords.Parse(m[1])
			if err != nil {
				t.Fatalf("%q: %v", m[1], err)
			}
			docAccessCommand(t, args)
			accessCmds++
		}
	}
	if accessCmds < 4 {
		t.Fatalf("%d access commands in the access jobs, want plan and apply in each", accessCmds)
	}
	var gh struct {
		Permissions map[string]string `yaml:"permissions"`
		Jobs        map[string]struct {
			Steps []struct {
				Uses string            `yaml:"uses"`
				Run  string            `yaml:"run"`
				With map[string]string `yaml:"with"`
			} `yaml:"steps"`
		} `yaml:"jobs"`
	}
	if err := yaml.Unmarshal([]byte(blocks[0][1]), &gh); err != nil {
		t.Fatalf("GitHub job: %v", err)
	}
	var gl map[string]struct {
		Script    []string `yaml:"script"`
		Artifacts struct {
			When    string              `yaml:"when"`
			Reports map[string][]string `yaml:"reports"`
		} `yaml:"artifacts"`
	}
	if err := yaml.Unmarshal([]byte(blocks[1][1]), &gl); err != nil {
		t.Fatalf("GitLab job: %v", err)
	}

	// written maps each file a b2badmin command writes to its -o format.
	written := map[string]output.Format{}
	commands := 0
	check := func(line string) {
		for _, part := range strings.Split(line, "||") {
			i := strings.Index(part, "bin/b2badmin ")
			if i < 0 {
				continue
			}
			cmdline, target, _ := strings.Cut(part[i+len("bin/b2badmin "):], ">")
			args, err := shellwords.Parse(cmdline)
			if err != nil {
				t.Fatalf("%q: %v", cmdline, err)
			}
			commands++
			fm := docCommandFormat(t, args)
			if target = strings.TrimSpace(target); target != "" {
				written[target] = fm
			}
		}
	}
	uploads := 0
	for _, job := range gh.Jobs {
		for _, s := range job.Steps {
			for _, l := range strings.Split(s.Run, "\n") {
				check(l)
			}
			if strings.HasPrefix(s.Uses, "github/codeql-action/upload-sarif@") {
				uploads++
				if written[s.With["sarif_file"]] != output.SARIF {
					t.Errorf("upload-sarif uploads %q, which no step writes as -o sarif (%v)", s.With["sarif_file"], written)
				}
			}
		}
	}
	if uploads != 1 || gh.Permissions["security-events"] != "write" {
		t.Errorf("GitHub job: %d SARIF uploads, permissions %v", uploads, gh.Permissions)
	}
	reports := 0
	for _, job := range gl {
		for _, l := range job.Script {
			check(l)
		}
		for _, f := range job.Artifacts.Reports["junit"] {
			reports++
			if written[f] != output.JUnit {
				t.Errorf("GitLab junit report %q is not written as -o junit (%v)", f, written)
			}
		}
		if job.Artifacts.When != "always" {
			t.Errorf("GitLab artifacts when %q: a failing audit must still report", job.Artifacts.When)
		}
	}
	if reports != 2 || commands < 5 {
		t.Errorf("%d junit reports, %d b2badmin commands", reports, commands)
	}
}

// docCommandFormat parses a documented command line on the real flags of
// the audits (which capture their options instead of running) and returns
// its -o format.
func docCommandFormat(t *testing.T, args []string) output.Format {
	t.Helper()
	var errOut bytes.Buffer
	env := map[string]string{"XDG_CONFIG_HOME": t.TempDir()}
	f := NewFactory(&IOStreams{In: strings.NewReader(""), Out: &errOut, ErrOut: &errOut}, func(k string) string { return env[k] })
	defer f.Close()
	var fm output.Format
	inv := f.NewInvocation(f.IO, args, nil)
	root := newRootCmd(inv, func(inv *Invocation) *cobra.Command {
		p := &cobra.Command{Use: "perms"}
		p.AddCommand(newCmdPermsAudit(inv, func(_ context.Context, o *permsAuditOptions) error { fm = o.Format; return nil }))
		return p
	})
	g := &cobra.Command{Use: "groups"}
	g.AddCommand(newCmdGroupsAudit(inv, func(_ context.Context, o *groupsAuditOptions) error { fm = o.Format; return nil }))
	root.AddCommand(g)
	root.SetArgs(args)
	if err := root.ExecuteContext(context.Background()); err != nil || fm == "" {
		t.Fatalf("documented command %q: %v %s", args, err, errOut.String())
	}
	if !slices.Contains(args, "--read-only") {
		t.Errorf("documented command %q: a CI audit should run --read-only", args)
	}
	return fm
}

// docAccessCommand parses a documented access command on the real
// commands, stopping before anything runs.
func docAccessCommand(t *testing.T, args []string) {
	t.Helper()
	f := NewFactory(&IOStreams{In: strings.NewReader(""), Out: &bytes.Buffer{}, ErrOut: &bytes.Buffer{}}, func(string) string { return "" })
	defer f.Close()
	inv := f.NewInvocation(f.IO, args, nil)
	reached := false
	root := newRootCmd(inv, func(inv *Invocation) *cobra.Command {
		a := &cobra.Command{Use: "access"}
		capture := func(context.Context, *accessApplyOptions) error { reached = true; return nil }
		a.AddCommand(newCmdAccessPlan(inv, capture), newCmdAccessApply(inv, capture))
		return a
	})
	root.SetArgs(args)
	if err := root.ExecuteContext(context.Background()); err != nil || !reached {
		t.Fatalf("documented command %q: %v", args, err)
	}
}
