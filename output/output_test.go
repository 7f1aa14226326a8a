package output

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// testCols and testRows exercise every value type and every character that
// needs quoting or escaping in some format.
var testCols = Columns{
	{Key: "id", Header: "ID", Default: true},
	{Key: "email", Header: "Email", Default: true},
	{Key: "name", Header: "Name", Default: true},
	{Key: "is_active", Header: "Is active", Default: true},
	{Key: "date_joined", Header: "Registration date", Default: true},
	{Key: "groups", Header: "Group", Default: true},
	{Key: "note", Header: "Note"},
	{Key: "last_login", Header: "Last login"},
}

var joined = time.Date(2024, 5, 1, 12, 30, 0, 0, time.FixedZone("CEST", 2*3600))

func testRows() [][]any {
	return [][]any{
		{int64(1), "alice@example.com", "Alice Smith", true, joined, []string{"API", "Merchant owner"}, "plain", nil},
		{int64(2), "bob@example.com", `Bob "The Builder", Jr.`, false, joined.Add(time.Hour), []string(nil), "line1\nline2\r\nwith\ttab and back\\slash", joined},
		{int64(3), "zoë@example.com", "Zoë <&> Ünïcode", true, joined.Add(48 * time.Hour), []string{"KYC not verified"}, "", nil},
	}
}

func render(t *testing.T, f Format, o Options, requested ...string) string {
	t.Helper()
	p, err := testCols.Select(requested, f)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := WriteAll(f, &buf, p, o, testRows()); err != nil {
		t.Fatal(err)
	}
	return buf.String()
}

func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name+".golden")
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./output -update to create it)", err)
	}
	if got != string(want) {
		t.Errorf("%s differs from %s (go test ./output -update rewrites it)\n--- got\n%s\n--- want\n%s", name, path, got, want)
	}
}

func TestGolden(t *testing.T) {
	for _, tc := range []struct {
		name string
		f    Format
		o    Options
		cols []string
	}{
		{"table_plain", Table, Options{}, nil},
		{"table_plain_noheaders", Table, Options{NoHeaders: true}, nil},
		{"table_tty", Table, Options{TTY: true}, nil},
		{"table_tty_nocolor", Table, Options{TTY: true, NoColor: true}, nil},
		{"table_columns", Table, Options{}, []string{"note,id", "email"}},
		{"csv", CSV, Options{}, nil},
		{"tsv", TSV, Options{}, nil},
		{"json", JSON, Options{}, nil},
		{"jsonl", JSONL, Options{}, nil},
		{"ids", IDs, Options{}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) { golden(t, tc.name, render(t, tc.f, tc.o, tc.cols...)) })
	}
}

// Without a terminal a table is plain text: no escape sequences, no box
// drawing, whatever NO_COLOR says; NO_COLOR removes escapes on a terminal.
func TestTableColourAndBorders(t *testing.T) {
	plain := render(t, Table, Options{})
	if strings.ContainsAny(plain, "\x1b│─┌") {
		t.Errorf("plain table has escapes or borders:\n%s", plain)
	}
	if tty := render(t, Table, Options{TTY: true}); !strings.Contains(tty, "\x1b[") || !strings.Contains(tty, "│") {
		t.Errorf("TTY table lacks colour or borders:\n%s", tty)
	}
	if nc := render(t, Table, Options{TTY: true, NoColor: true}); strings.Contains(nc, "\x1b") || !strings.Contains(nc, "│") {
		t.Errorf("NO_COLOR table must keep borders and drop escapes:\n%s", nc)
	}
	for _, line := range strings.Split(plain, "\n") {
		if strings.HasSuffix(line, " ") {
			t.Errorf("plain table line has trailing spaces: %q", line)
		}
	}
}

func TestCSVRoundTrip(t *testing.T) {
	recs, err := csv.NewReader(strings.NewReader(render(t, CSV, Options{}))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(recs[0], testCols.Keys()) {
		t.Fatalf("header %v, want the JSON keys %v", recs[0], testCols.Keys())
	}
	if len(recs) != 4 {
		t.Fatalf("%d records, want header + 3", len(recs))
	}
	rows := testRows()
	for i, rec := range recs[1:] {
		for j, field := range rec {
			want := strings.ReplaceAll(Text(rows[i][j]), "\r\n", "\n")
			if field != want {
				t.Errorf("row %d field %s: %q, want %q", i, testCols[j].Key, field, want)
			}
		}
	}
	// encoding/csv reads \r\n inside a quoted field back as \n (RFC 4180
	// allows either); the value otherwise survives exactly.
	if got := recs[2][6]; got != "line1\nline2\nwith\ttab and back\\slash" {
		t.Errorf("multi-line field came back as %q", got)
	}
	if got := recs[2][5]; got != "" {
		t.Errorf("empty group list is %q, want empty field", got)
	}
}

func TestCSVNoHeadersAndEmpty(t *testing.T) {
	p, _ := testCols.Select([]string{"id,email"}, CSV)
	var buf bytes.Buffer
	if err := WriteAll(CSV, &buf, p, Options{}, nil); err != nil {
		t.Fatal(err)
	}
	if buf.String() != "id,email\n" {
		t.Errorf("empty CSV is %q, want the header alone", buf.String())
	}
	recs, err := csv.NewReader(strings.NewReader(render(t, CSV, Options{NoHeaders: true}, "id"))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(recs, [][]string{{"1"}, {"2"}, {"3"}}) {
		t.Errorf("--no-headers CSV: %v", recs)
	}
}

func TestTSVEscaping(t *testing.T) {
	out := render(t, TSV, Options{})
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	if len(lines) != 4 {
		t.Fatalf("TSV has %d lines, want 4 (a field must never break a line):\n%s", len(lines), out)
	}
	rows := testRows()
	for i, line := range lines[1:] {
		fields := strings.Split(line, "\t")
		if len(fields) != len(testCols) {
			t.Fatalf("line %d has %d fields, want %d: %q", i, len(fields), len(testCols), line)
		}
		for j, f := range fields {
			if got, want := TSVUnescape(f), Text(rows[i][j]); got != want {
				t.Errorf("row %d field %d: unescaped %q, want %q", i, j, got, want)
			}
		}
	}
	if got := tsvReplacer.Replace("a\tb\\n\nc"); got != `a\tb\\n\nc` {
		t.Errorf("escape: %q", got)
	}
}

// decoded is how a program reads the JSON rows back.
type decoded struct {
	ID         int64    `json:"id"`
	Email      string   `json:"email"`
	Name       string   `json:"name"`
	IsActive   bool     `json:"is_active"`
	DateJoined string   `json:"date_joined"`
	Groups     []string `json:"groups"`
	Note       string   `json:"note"`
	LastLogin  *string  `json:"last_login"`
}

func TestJSONAndJSONLParseBack(t *testing.T) {
	var arr []decoded
	if err := json.Unmarshal([]byte(render(t, JSON, Options{})), &arr); err != nil {
		t.Fatal(err)
	}
	var lines []decoded
	sc := bufio.NewScanner(strings.NewReader(render(t, JSONL, Options{})))
	for sc.Scan() {
		var d decoded
		dec := json.NewDecoder(strings.NewReader(sc.Text()))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&d); err != nil {
			t.Fatalf("jsonl line %q: %v", sc.Text(), err)
		}
		lines = append(lines, d)
	}
	if !reflect.DeepEqual(arr, lines) {
		t.Fatalf("json and jsonl disagree:\n%+v\n%+v", arr, lines)
	}
	rows := testRows()
	for i, d := range arr {
		if d.ID != rows[i][0].(int64) || d.Email != rows[i][1] || d.Name != rows[i][2] || d.Note != rows[i][6] {
			t.Errorf("row %d decoded as %+v", i, d)
		}
		if d.Groups == nil {
			t.Errorf("row %d: groups must be an array, even when empty", i)
		}
		want := rows[i][4].(time.Time).UTC().Format(time.RFC3339)
		if d.DateJoined != want || !strings.HasSuffix(d.DateJoined, "Z") {
			t.Errorf("row %d: date_joined %q, want RFC 3339 UTC %q", i, d.DateJoined, want)
		}
	}
	if arr[0].LastLogin != nil || arr[1].LastLogin == nil {
		t.Errorf("nil time must be null, a time a string: %+v", arr)
	}
	// An empty list is an empty array, not nothing.
	p, _ := testCols.Select(nil, JSON)
	var buf bytes.Buffer
	if err := WriteAll(JSON, &buf, p, Options{}, nil); err != nil || buf.String() != "[]\n" {
		t.Errorf("empty JSON list: %q %v", buf.String(), err)
	}
}

func TestAppendJSONStringMatchesEncodingJSON(t *testing.T) {
	for _, s := range []string{"", "plain", `q"uote\back`, "ctl\x00\x01\x1f\x7f", "zoë ünï 日本", "bad\xffutf8", "\u2028\u2029", "tab\tnl\ncr\r"} {
		var v string
		if err := json.Unmarshal(appendJSONString(nil, s), &v); err != nil {
			t.Fatalf("%q: %v", s, err)
		}
		var want string
		enc, _ := json.Marshal(s)
		_ = json.Unmarshal(enc, &want)
		if v != want {
			t.Errorf("%q decodes as %q, encoding/json gives %q", s, v, want)
		}
	}
}

func TestSelectColumns(t *testing.T) {
	p, err := testCols.Select([]string{"Email, ID", "email"}, CSV)
	if err != nil {
		t.Fatal(err)
	}
	if got := p.Keys(); !reflect.DeepEqual(got, []string{"email", "id"}) {
		t.Errorf("order/dedup: %v", got)
	}
	if p, _ := testCols.Select(nil, Table); len(p.Cols) != 6 || p.Has("note") {
		t.Errorf("table default must be the Default columns: %v", p.Keys())
	}
	if p, _ := testCols.Select(nil, JSONL); len(p.Cols) != len(testCols) {
		t.Errorf("machine formats carry every column by default: %v", p.Keys())
	}
	if _, err := testCols.Select([]string{"id,nope"}, CSV); err == nil || !strings.Contains(err.Error(), `"nope"`) {
		t.Errorf("unknown column must be named: %v", err)
	}
	if _, err := testCols.Select([]string{" , "}, CSV); err == nil {
		t.Error("empty --columns must be an error")
	}
}

func TestParseFormat(t *testing.T) {
	for _, f := range Formats {
		if got, err := ParseFormat(strings.ToUpper(string(f))); err != nil || got != f {
			t.Errorf("%s: %v %v", f, got, err)
		}
	}
	if _, err := ParseFormat("xml"); err == nil {
		t.Error("xml is not a format")
	}
}

// TestCloseTwiceIsHarmless: writers share pooled buffers, so a second
// Close must neither write nor touch a buffer another writer owns.
func TestCloseTwiceIsHarmless(t *testing.T) {
	cols := Columns{{Key: "id", Header: "ID", Default: true}}
	for _, f := range Formats {
		var a, b bytes.Buffer
		p, _ := cols.Select(nil, f)
		wa := NewRowWriter(f, &a, p, Options{})
		_ = wa.Write([]any{int64(1)})
		if err := wa.Close(); err != nil {
			t.Fatal(err)
		}
		first := a.String()
		wb := NewRowWriter(f, &b, p, Options{}) // likely reuses wa's buffer
		_ = wb.Write([]any{int64(2)})
		if err := wa.Close(); err != nil {
			t.Fatalf("%s: second Close: %v", f, err)
		}
		_ = wb.Close()
		if a.String() != first {
			t.Fatalf("%s: second Close wrote %q after %q", f, a.String()[len(first):], first)
		}
		if strings.Contains(b.String(), "1") || !strings.Contains(b.String(), "2") {
			t.Fatalf("%s: second writer's output %q", f, b.String())
		}
	}
}
