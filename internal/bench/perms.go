package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"syscall"
	"time"

	"github.com/b2badmin/b2badmin/client/policy"
)

// The audit scenario: `perms audit` over every seeded grant against a
// realistic policy, next to psql running the same policy as ONE SQL query
// (globs turned into regular expressions). Both print their findings as
// CSV; the row counts must agree.
func init() {
	register(Scenario{Order: 40, Name: "perms audit", Run: benchPermsAudit})
}

const benchPolicy = `deny:
  - "auth.*"
  - "guardian.*"
  - "token_blacklist.*"
groups:
  "Merchant owner":
    allow: ["api.view_*", "kyc.view_*"]
  "Legal merchant owner":
    allow: ["api.view_*", "kyc.view_*"]
  "Enterprise owner":
    allow: ["api.view_*", "node.view_*"]
  API:
    allow: ["api.*_deposit", "api.view_transfer"]
types:
  enterprise:
    allow: ["api.view_wallet"]
  merchant:
    allow: ["api.view_payout"]
`

func benchPermsAudit(ctx context.Context, e *Env) ([]Row, error) {
	polFile := filepath.Join(e.Dir, "bench-policy.yaml")
	if err := os.WriteFile(polFile, []byte(benchPolicy), 0o600); err != nil {
		return nil, err
	}
	pol, err := policy.Load(polFile)
	if err != nil {
		return nil, err
	}
	sql := policySQL(pol)
	var toolRows, psqlRows int
	tool, peak, err := Median(e.Runs, func() (Measurement, error) {
		var out lineCounter
		m, err := runAllowing(&out, []int{0, 5}, e.Bin, "--dsn", e.DSN, "perms", "audit", "--policy", polFile, "-o", "csv", "--no-headers")
		toolRows = int(out)
		return m, err
	})
	if err != nil {
		return nil, err
	}
	ps, _, err := Median(e.Runs, func() (Measurement, error) {
		var out lineCounter
		m, err := RunProcess("", &out, e.Psql, e.DSN, "-Atqc", `\copy (`+sql+`) TO STDOUT CSV`)
		psqlRows = int(out)
		return m, err
	})
	if err != nil {
		return nil, err
	}
	note := fmt.Sprintf("%d findings (psql %d rows), peak %s", toolRows, psqlRows, MiB(peak))
	if toolRows != psqlRows {
		note += "  MISMATCH"
	}
	rows := []Row{{Name: "perms audit (one pass, policy in Go vs one SQL)", Tool: tool, Psql: ps, Target: "-", Extra: note}}

	exp, peak, err := Median(e.Runs, func() (Measurement, error) {
		return RunProcess("", nil, e.Bin, "--dsn", e.DSN, "perms", "export")
	})
	if err != nil {
		return nil, err
	}
	const exportSQL = `SELECT up.user_id, u.email, ct.app_label || '.' || p.codename
FROM rbac_user_user_permissions up JOIN rbac_user u ON u.id = up.user_id
JOIN auth_permission p ON p.id = up.permission_id JOIN django_content_type ct ON ct.id = p.content_type_id
ORDER BY up.user_id, (ct.app_label || '.' || p.codename) COLLATE "C"`
	psExp, _, err := Median(e.Runs, func() (Measurement, error) {
		return RunProcess("", nil, e.Psql, e.DSN, "-Atqc", `\copy (`+strings.Join(strings.Fields(exportSQL), " ")+`) TO STDOUT CSV HEADER`)
	})
	if err != nil {
		return nil, err
	}
	rows = append(rows, Row{Name: "perms export (baseline CSV)", Tool: exp, Psql: psExp, Target: "-", Extra: "peak " + MiB(peak)})
	return rows, nil
}

// lineCounter counts output lines without keeping them: the harness's own
// memory must stay small, or it shows up in its children's peak RSS.
type lineCounter int64

func (l *lineCounter) Write(p []byte) (int, error) {
	*l += lineCounter(bytes.Count(p, []byte{'\n'}))
	return len(p), nil
}

// runAllowing is RunProcess accepting the given exit codes (audit exits 5 on findings).
func runAllowing(out io.Writer, ok []int, name string, args ...string) (Measurement, error) {
	return runAllowingIn("", out, ok, name, args...)
}

// runAllowingIn is runAllowing in directory dir ("" = this one). An
// *os.File out is the child's stdout itself, as a shell's > makes it.
func runAllowingIn(dir string, out io.Writer, ok []int, name string, args ...string) (Measurement, error) {
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	var errBuf bytes.Buffer
	cmd.Stdout, cmd.Stderr = out, &errBuf
	start := time.Now()
	err := cmd.Run()
	m := Measurement{Wall: time.Since(start)}
	if ru, isRU := cmd.ProcessState.SysUsage().(*syscall.Rusage); isRU {
		m.PeakRSS = ru.Maxrss * 1024
	}
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		for _, c := range ok {
			if ee.ExitCode() == c {
				return m, nil
			}
		}
	}
	if err != nil {
		return m, fmt.Errorf("%s %s: %v: %s", name, strings.Join(args, " "), err, errBuf.String())
	}
	return m, nil
}

// policySQL writes the policy (without exceptions) as one SQL query over
// the grants, so psql does the same work in a single pass.
func policySQL(p *policy.Policy) string {
	alt := func(rules []policy.Rule) string {
		var parts []string
		for _, r := range rules {
			parts = append(parts, globRegexp(r.Glob))
		}
		return "'^(" + strings.Join(parts, "|") + ")$'"
	}
	var allow []string
	names := make([]string, 0, len(p.Groups))
	for g := range p.Groups {
		names = append(names, g)
	}
	sort.Strings(names)
	for _, g := range names {
		if len(p.Groups[g]) > 0 {
			allow = append(allow, fmt.Sprintf("('%s' = ANY(g.groups) AND g.perm ~* %s)", g, alt(p.Groups[g])))
		}
	}
	for t, rules := range p.Types {
		if len(rules) > 0 {
			allow = append(allow, fmt.Sprintf("(g.type = '%s' AND g.perm ~* %s)", t, alt(rules)))
		}
	}
	deny := "false"
	if len(p.Deny) > 0 {
		deny = "g.perm ~* " + alt(p.Deny)
	}
	if len(allow) == 0 {
		allow = []string{"false"}
	}
	q := `SELECT g.user_id, g.email, g.perm FROM (
  SELECT up.user_id, u.email, u.type, ct.app_label || '.' || p.codename AS perm,
         ARRAY(SELECT ag.name FROM rbac_user_groups ug JOIN auth_group ag ON ag.id = ug.group_id WHERE ug.user_id = u.id)::text[] AS groups
  FROM rbac_user_user_permissions up JOIN rbac_user u ON u.id = up.user_id
  JOIN auth_permission p ON p.id = up.permission_id JOIN django_content_type ct ON ct.id = p.content_type_id) g
WHERE ` + deny + ` OR NOT (` + strings.Join(allow, " OR ") + `)`
	return strings.Join(strings.Fields(q), " ")
}

// globRegexp turns a path.Match glob into a POSIX regular expression.
func globRegexp(glob string) string {
	var b strings.Builder
	for _, r := range glob {
		switch r {
		case '*':
			b.WriteString(".*")
		case '?':
			b.WriteString(".")
		default:
			b.WriteString(regexp.QuoteMeta(string(r)))
		}
	}
	return b.String()
}
