package output

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"
)

// The values a change list carries in before/after: a commission plan (a
// struct with *string fields), deleted 2FA devices (a []struct with a
// field JSON leaves out), blacklisted token IDs (a []int64).
type nestedPlan struct {
	Operation string  `json:"operation"`
	MinFee    *string `json:"min_fee"`
	MaxFee    *string `json:"max_fee"`
}

type nestedDevice struct {
	ID     int64  `json:"id"`
	Kind   string `json:"kind"`
	Secret string `json:"-"`
}

// nestedMoney has its own JSON, a string: its cell is that string.
type nestedMoney struct{ cents int64 }

func (m nestedMoney) MarshalJSON() ([]byte, error) { return []byte(`"12.34"`), nil }

// nestedStamp is a Stringer with a value receiver: a nil *nestedStamp
// must not be called.
type nestedStamp struct{}

func (nestedStamp) String() string { return "stamp" }

var nestedCols = Columns{
	{Key: "id", Header: "ID", Default: true},
	{Key: "plan", Header: "Plan", Default: true},
	{Key: "devices", Header: "Devices", Default: true},
	{Key: "tokens", Header: "Tokens", Default: true},
	{Key: "no_plan", Header: "No plan", Default: true},
	{Key: "no_stamp", Header: "No stamp", Default: true},
	{Key: "mixed", Header: "Mixed", Default: true},
	{Key: "no_tokens", Header: "No tokens", Default: true},
	{Key: "detail", Header: "Detail", Default: true},
	{Key: "money", Header: "Money", Default: true},
	{Key: "with_null", Header: "With null", Default: true},
}

func nestedRow() []any {
	// Quotes, a comma, a backslash, a tab and a line break: the CSV quoting
	// and the TSV escapes must both survive inside the JSON.
	min := "1.00 \"a, b\" \\ \t\nend"
	return []any{
		int64(4),
		&nestedPlan{Operation: "payout", MinFee: &min},
		[]nestedDevice{{ID: 717, Kind: "totp", Secret: "never shown"}, {ID: 9, Kind: "email"}},
		[]int64{3, 4, 5},
		(*nestedPlan)(nil),
		(*nestedStamp)(nil),
		[]any{"API", 1.5, true},
		[]int64{},
		map[string]any{"commission_id": int64(12)},
		nestedMoney{1234},
		[]*string{&min, nil},
	}
}

// nestedWant is each column's cell for CSV and TSV: "json" marks a cell
// that must decode as JSON to the value -o json prints for the column.
var nestedWant = map[string]string{
	"id": "4", "plan": "json", "devices": "json", "tokens": "3,4,5", "no_plan": "", "no_stamp": "",
	"mixed": "API,1.5,true", "no_tokens": "", "detail": "json", "money": "12.34", "with_null": "json",
}

// jsonFields is the row as -o json prints it, each field decoded.
func jsonFields(t *testing.T) map[string]any {
	t.Helper()
	p, _ := nestedCols.Select(nil, JSON)
	var buf bytes.Buffer
	if err := WriteAll(JSON, &buf, p, Options{}, [][]any{nestedRow()}); err != nil {
		t.Fatal(err)
	}
	var rows []map[string]any
	if err := json.Unmarshal(buf.Bytes(), &rows); err != nil || len(rows) != 1 {
		t.Fatalf("json output: %v\n%s", err, buf.String())
	}
	return rows[0]
}

// checkNestedCells asserts each decoded cell against nestedWant and the
// JSON output, and the JSON cells against the exact Go values.
func checkNestedCells(t *testing.T, format string, cells map[string]string) {
	t.Helper()
	fields := jsonFields(t)
	for key, want := range nestedWant {
		got, ok := cells[key]
		if !ok {
			t.Errorf("%s: no %s column in %v", format, key, cells)
			continue
		}
		if want != "json" {
			if got != want {
				t.Errorf("%s %s: cell %q, want %q", format, key, got, want)
			}
			continue
		}
		var v any
		if err := json.Unmarshal([]byte(got), &v); err != nil {
			t.Errorf("%s %s: cell %q is not JSON: %v", format, key, got, err)
			continue
		}
		if !reflect.DeepEqual(v, fields[key]) {
			t.Errorf("%s %s: cell decodes to %#v, -o json has %#v", format, key, v, fields[key])
		}
	}
	row := nestedRow()
	var plan nestedPlan
	if err := json.Unmarshal([]byte(cells["plan"]), &plan); err != nil || plan.Operation != "payout" ||
		plan.MinFee == nil || *plan.MinFee != *row[1].(*nestedPlan).MinFee || plan.MaxFee != nil {
		t.Errorf("%s plan: %q decodes to %+v (%v)", format, cells["plan"], plan, err)
	}
	var devs []nestedDevice
	wantDevs := []nestedDevice{{ID: 717, Kind: "totp"}, {ID: 9, Kind: "email"}}
	if err := json.Unmarshal([]byte(cells["devices"]), &devs); err != nil || !reflect.DeepEqual(devs, wantDevs) {
		t.Errorf("%s devices: %q decodes to %+v (%v)", format, cells["devices"], devs, err)
	}
	var detail map[string]int64
	if err := json.Unmarshal([]byte(cells["detail"]), &detail); err != nil || !reflect.DeepEqual(detail, map[string]int64{"commission_id": 12}) {
		t.Errorf("%s detail: %q decodes to %v (%v)", format, cells["detail"], detail, err)
	}
}

func renderNested(t *testing.T, f Format, o Options, cols ...string) string {
	t.Helper()
	p, err := nestedCols.Select(cols, f)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := WriteAll(f, &buf, p, o, [][]any{nestedRow()}); err != nil {
		t.Fatal(err)
	}
	return buf.String()
}

func TestNestedValuesCSV(t *testing.T) {
	out := renderNested(t, CSV, Options{})
	recs, err := csv.NewReader(strings.NewReader(out)).ReadAll()
	if err != nil || len(recs) != 2 {
		t.Fatalf("csv: %v, %d records\n%s", err, len(recs), out)
	}
	cells := map[string]string{}
	for i, k := range recs[0] {
		cells[k] = recs[1][i]
	}
	checkNestedCells(t, "csv", cells)
}

func TestNestedValuesTSV(t *testing.T) {
	out := renderNested(t, TSV, Options{})
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	if len(lines) != 2 {
		t.Fatalf("tsv: %d lines, want 2 (a value broke a line)\n%s", len(lines), out)
	}
	keys, vals := strings.Split(lines[0], "\t"), strings.Split(lines[1], "\t")
	if len(keys) != len(vals) {
		t.Fatalf("tsv: %d headers, %d fields\n%s", len(keys), len(vals), out)
	}
	cells := map[string]string{}
	for i, k := range keys {
		cells[k] = TSVUnescape(vals[i])
	}
	checkNestedCells(t, "tsv", cells)
}

// A table cell is read back one column at a time (a column alone, no
// header: the line is the cell). Lists are joined with ", " there.
func TestNestedValuesTable(t *testing.T) {
	cells := map[string]string{}
	for _, c := range nestedCols {
		out := renderNested(t, Table, Options{NoHeaders: true}, c.Key)
		if strings.Count(out, "\n") != 1 {
			t.Fatalf("table %s: want one line, got %q", c.Key, out)
		}
		cells[c.Key] = strings.TrimSuffix(out, "\n")
	}
	// The table shows a tab and a line break as spaces (safeCell); inside
	// JSON they are escapes already, so the JSON decodes to the value.
	tableWant := map[string]string{"tokens": "3, 4, 5", "mixed": "API, 1.5, true"}
	for k, want := range tableWant {
		if cells[k] != want {
			t.Errorf("table %s: %q, want %q", k, cells[k], want)
		}
		cells[k] = nestedWant[k]
	}
	checkNestedCells(t, "table", cells)
	// A list or an object is text, which fitting a terminal may cut.
	for _, v := range []any{[]int64{1}, &nestedPlan{}, map[string]any{}, []nestedDevice{}} {
		if !isText(v) {
			t.Errorf("isText(%T) = false", v)
		}
	}
	for _, v := range []any{int64(1), (*nestedPlan)(nil), 2.5} {
		if isText(v) {
			t.Errorf("isText(%T) = true", v)
		}
	}
}

// Text is what every caller outside the writers sees (the TAP YAML block,
// config view): the same rules.
func TestTextNested(t *testing.T) {
	min := "2"
	for _, c := range []struct {
		v    any
		want string
	}{
		{nestedPlan{Operation: "payout", MinFee: &min}, `{"operation":"payout","min_fee":"2","max_fee":null}`},
		{[]nestedDevice{{ID: 717, Kind: "totp", Secret: "k"}}, `[{"id":717,"kind":"totp"}]`},
		{[]nestedDevice{}, `[]`}, // an empty list of objects is still a JSON array
		{[]*nestedPlan{}, `[]`},
		{[]time.Time{}, ""},
		{[]int64{3, 4, 5}, "3,4,5"},
		{[]int{7}, "7"},
		{[]string{"a", "b"}, "a,b"},
		{(*nestedPlan)(nil), ""},
		{(*nestedStamp)(nil), ""},
		{&nestedStamp{}, "stamp"},
		{float64(1000000), "1000000"}, // as JSON writes it, not fmt's 1e+06
		{int32(-3), "-3"},
		{map[string]any(nil), ""},
		{nestedMoney{}, "12.34"},
		{[]any{}, ""},
		{[]any{map[string]any{"a": 1}}, `[{"a":1}]`},
	} {
		if got := Text(c.v); got != c.want {
			t.Errorf("Text(%#v) = %q, want %q", c.v, got, c.want)
		}
		if got := string(AppendText([]byte("x"), c.v)); got != "x"+c.want {
			t.Errorf("AppendText(%#v) = %q, want %q", c.v, got, "x"+c.want)
		}
	}
}

// -o json writes an object's strings as it writes a top-level one: <, >
// and & as they are (encoding/json alone would write \u003c, \u0026).
func TestNestedJSONKeepsAngleBracketsAndAmpersands(t *testing.T) {
	cols := Columns{{Key: "name", Header: "Name", Default: true}, {Key: "plan", Header: "Plan", Default: true}}
	p, err := cols.Select(nil, JSON)
	if err != nil {
		t.Fatal(err)
	}
	op := "A&B <payout>\u009b31m\x7f" // and a CSI and a DEL, escaped as at top level
	var buf bytes.Buffer
	if err := WriteAll(JSON, &buf, p, Options{}, [][]any{{op, &nestedPlan{Operation: op}}}); err != nil {
		t.Fatal(err)
	}
	var rows []struct {
		Name string     `json:"name"`
		Plan nestedPlan `json:"plan"`
	}
	if err := json.Unmarshal(buf.Bytes(), &rows); err != nil || len(rows) != 1 || rows[0].Name != op || rows[0].Plan.Operation != op {
		t.Fatalf("parse back: %v %+v\n%s", err, rows, buf.String())
	}
	if n := strings.Count(buf.String(), `"A&B <payout>\u009b31m\u007f"`); n != 2 {
		t.Fatalf("%d of 2 strings written as they are:\n%s", n, buf.String())
	}
}
