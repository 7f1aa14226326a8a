package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
)

// The audit's CI formats cost what -o json costs: the same pass over the
// grants, only the encoding differs. Measured side by side on the same
// policy, as a CI job runs them: the policy named by a path relative to
// the working directory (the repository root) and the report redirected
// to a file. The psql column of the report holds the -o json run. groups
// audit, a pass over every user's groups, has no target; it is timed so a
// regression shows.
func init() {
	register(Scenario{Order: 41, Name: "perms audit -o sarif", Run: benchAuditFormats})
}

func benchAuditFormats(ctx context.Context, e *Env) ([]Row, error) {
	const polFile = "bench-policy.yaml"
	if err := os.WriteFile(filepath.Join(e.Dir, polFile), []byte(benchPolicy), 0o600); err != nil {
		return nil, err
	}
	sizes := map[string]int64{}
	audit := func(format string) (Measurement, error) {
		out, err := os.Create(filepath.Join(e.Dir, "audit."+format))
		if err != nil {
			return Measurement{}, err
		}
		defer out.Close()
		m, err := runAllowingIn(e.Dir, out, []int{0, 5}, e.Bin, "--dsn", e.DSN, "perms", "audit", "--policy", polFile, "-o", format)
		if st, serr := out.Stat(); serr == nil {
			sizes[format] = st.Size()
		}
		return m, err
	}
	// The two formats run in turns, so that a change of load on a shared
	// machine falls on both alike.
	var jsonRuns, sarifRuns []Measurement
	for i := 0; i < e.Runs; i++ {
		for _, r := range []struct {
			format string
			into   *[]Measurement
		}{{"json", &jsonRuns}, {"sarif", &sarifRuns}} {
			m, err := audit(r.format)
			if err != nil {
				return nil, err
			}
			*r.into = append(*r.into, m)
		}
	}
	js, _ := medianOf(jsonRuns)
	sa, peak := medianOf(sarifRuns)
	rows := []Row{{Name: "perms audit -o sarif (psql column: -o json)", Tool: sa, Psql: js, Target: "≤ 1.2×",
		Extra: fmt.Sprintf("%s SARIF vs %s JSON, peak %s", MiB(sizes["sarif"]), MiB(sizes["json"]), MiB(peak))}}

	ga, peak, err := Median(e.Runs, func() (Measurement, error) {
		out, err := os.Create(filepath.Join(e.Dir, "audit-groups.json"))
		if err != nil {
			return Measurement{}, err
		}
		defer out.Close()
		return runAllowingIn(e.Dir, out, []int{0, 5}, e.Bin, "--dsn", e.DSN, "groups", "audit", "-o", "json")
	})
	if err != nil {
		return nil, err
	}
	rows = append(rows, Row{Name: "groups audit (every user's groups, one pass)", Tool: ga, Target: "-", Extra: "peak " + MiB(peak)})
	return rows, nil
}
