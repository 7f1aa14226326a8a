package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
)

// The audit's CI formats cost what -o json costs: the same pass over the
// grants, only the encoding differs. Measured side by side on the same
// policy; the psql column of the report holds the -o json run. groups
// audit, a pass over every user's groups, has no target; it is timed so a
// regression shows.
func init() {
	register(Scenario{Order: 41, Name: "perms audit -o sarif", Run: benchAuditFormats})
}

func benchAuditFormats(ctx context.Context, e *Env) ([]Row, error) {
	polFile := filepath.Join(e.Dir, "bench-policy.yaml")
	if err := os.WriteFile(polFile, []byte(benchPolicy), 0o600); err != nil {
		return nil, err
	}
	audit := func(format string, n *byteCounter) (Measurement, error) {
		*n = 0
		return runAllowing(n, []int{0, 5}, e.Bin, "--dsn", e.DSN, "perms", "audit", "--policy", polFile, "-o", format)
	}
	// The two formats run in turns, so that a change of load on a shared
	// machine falls on both alike.
	var jsonBytes, sarifBytes byteCounter
	var jsonRuns, sarifRuns []Measurement
	for i := 0; i < e.Runs; i++ {
		for _, r := range []struct {
			format string
			n      *byteCounter
			into   *[]Measurement
		}{{"json", &jsonBytes, &jsonRuns}, {"sarif", &sarifBytes, &sarifRuns}} {
			m, err := audit(r.format, r.n)
			if err != nil {
				return nil, err
			}
			*r.into = append(*r.into, m)
		}
	}
	js, _ := medianOf(jsonRuns)
	sa, peak := medianOf(sarifRuns)
	rows := []Row{{Name: "perms audit -o sarif (psql column: -o json)", Tool: sa, Psql: js, Target: "≤ 1.2×",
		Extra: fmt.Sprintf("%s SARIF vs %s JSON, peak %s", MiB(int64(sarifBytes)), MiB(int64(jsonBytes)), MiB(peak))}}

	var groups byteCounter
	ga, peak, err := Median(e.Runs, func() (Measurement, error) {
		groups = 0
		return runAllowing(&groups, []int{0, 5}, e.Bin, "--dsn", e.DSN, "groups", "audit", "-o", "json")
	})
	if err != nil {
		return nil, err
	}
	rows = append(rows, Row{Name: "groups audit (every user's groups, one pass)", Tool: ga, Target: "-",
		Extra: fmt.Sprintf("%s JSON, peak %s", MiB(int64(groups)), MiB(peak))})
	return rows, nil
}

// byteCounter counts output bytes without keeping them.
type byteCounter int64

func (b *byteCounter) Write(p []byte) (int, error) {
	*b += byteCounter(len(p))
	return len(p), nil
}
