package findings

import (
	"fmt"
	"io"
	"testing"

	"github.com/b2badmin/b2badmin/output"
)

// The report writers against the json row writer on the same rows: the
// CI formats should cost about what -o json costs (make bench measures
// the whole command).
var benchFields = []string{"user_id", "email", "groups", "type", "permission", "label", "rule", "policy_line", "change"}

func benchRow(i int) []any {
	return []any{int64(i), fmt.Sprintf("user%d@example.com", i), []string{"API", "Merchant owner"}, "merchant", "node.view_blockchainwallet",
		"node | blockchain wallet | Can view blockchain wallet", "not allowed for groups [API, Merchant owner] / type merchant", 23, ""}
}

func BenchmarkJSONRows(b *testing.B) {
	cols := output.Columns{}
	for _, k := range benchFields {
		cols = append(cols, output.Column{Key: k})
	}
	p, _ := cols.Select(nil, output.JSON)
	row := benchRow(1)
	b.ReportAllocs()
	w := output.NewRowWriter(output.JSON, io.Discard, p, output.Options{})
	for b.Loop() {
		w.Write(row)
	}
	w.Close()
}

func benchReport(b *testing.B, fm output.Format) {
	r := &Report{Tool: "b2badmin", Command: "perms audit", File: "ci/policy.yaml", Fields: benchFields,
		Rules: []Rule{{ID: "deny:auth.*", Text: "x", Line: 2}, {ID: "not-allowed", Text: "y"}}}
	row := benchRow(1)
	w, _ := New(fm, io.Discard, r)
	b.ReportAllocs()
	for b.Loop() {
		w.Finding(&Finding{RuleID: "not-allowed", Rule: row[6].(string), Subject: "user1@example.com (user 1)", SubjectID: "user/1",
			Item: "node.view_blockchainwallet", Message: "user1@example.com (user 1) holds node.view_blockchainwallet (node | blockchain wallet | Can view blockchain wallet): " + row[6].(string),
			Line: 23, Fails: true, Values: row})
	}
	w.Close(Summary{})
}

func BenchmarkSARIF(b *testing.B)  { benchReport(b, output.SARIF) }
func BenchmarkJUnit(b *testing.B)  { benchReport(b, output.JUnit) }
func BenchmarkTAP(b *testing.B)    { benchReport(b, output.TAP) }
func BenchmarkGitHub(b *testing.B) { benchReport(b, output.GitHub) }
