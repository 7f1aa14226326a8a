package commands

import (
	"encoding/csv"
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/b2badmin/b2badmin/internal/fixture"
)

func csvText(t *testing.T, rows [][]string) string {
	t.Helper()
	var b strings.Builder
	w := csv.NewWriter(&b)
	if err := w.WriteAll(rows); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// Each {column} becomes exactly one argument whatever it holds, and a value
// after a flag that takes one stays that flag's value.
func TestBatchCSVHostileValuesStayOneArgument(t *testing.T) {
	dsn, conn := batchDB(t)
	before := fixture.DumpAll(t, conn)
	hostile := [][2]string{
		{"with space", "--yes"},
		{`it's "quoted"`, "x; t set-name 1 pwned"},
		{"$(rm -rf /)", "`id`"},
		{"line1\nline2", "--active=false"},
		{";", "-y"},
		{"a|b&c>d<e", ""},
		{"#not a comment", `\`},
	}
	rows := [][]string{{"a", "b"}}
	for _, h := range hostile {
		rows = append(rows, []string{h[0], h[1]})
	}
	file := writeTemp(t, "in.csv", csvText(t, rows))
	r := runCLI(t, dsn, "-o", "jsonl", "batch", "--csv", file, "--template", "t echo {a} --value {b}")
	if r.Code != 0 {
		t.Fatalf("exit %d: %s", r.Code, r.Stderr)
	}
	res := parseResults(t, r.Stdout)
	if len(res) != len(hostile) {
		t.Fatalf("%d results, want %d", len(res), len(hostile))
	}
	for i, h := range hostile {
		var echo struct {
			Args  []string `json:"args"`
			Value string   `json:"value"`
			Bool  bool     `json:"bool"`
		}
		if res[i].Output == nil {
			t.Fatalf("row %d: no output", i)
		}
		if err := json.Unmarshal([]byte(*res[i].Output), &echo); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(echo.Args, []string{h[0]}) || echo.Value != h[1] || echo.Bool {
			t.Errorf("row %d: args %q value %q bool %v; want [%q] %q false", i, echo.Args, echo.Value, echo.Bool, h[0], h[1])
		}
		if res[i].Line != i+2 && i < 3 {
			t.Errorf("row %d reported at CSV line %d", i, res[i].Line)
		}
	}
	if fixture.DumpAll(t, conn) != before {
		t.Fatal("echo rows changed the database")
	}
}

func TestBatchCSVTemplateWrites(t *testing.T) {
	dsn, conn := batchDB(t)
	file := writeTemp(t, "in.csv", csvText(t, [][]string{{"id", "name", "reason"}, {"1", `Zoë "Z"`, "OPS-1; drop table rbac_user"}, {"cy@example.com", "-dash", "--yes"}}))
	r := runCLI(t, dsn, "batch", "--csv", file, "--template", "t set-name {id} --reason {reason} -- {name}")
	if r.Code != 0 {
		t.Fatalf("exit %d: %s", r.Code, r.Stderr)
	}
	if got := firstNames(t, conn); !reflect.DeepEqual(got, []string{`Zoë "Z"`, "orig", "-dash"}) {
		t.Fatalf("names %q", got)
	}
	var reasons string
	conn.QueryRow(t.Context(), "SELECT string_agg(reason || '@' || batch_line, '|' ORDER BY id) FROM api_operationlog").Scan(&reasons)
	if reasons != "OPS-1; drop table rbac_user@2|--yes@3" {
		t.Fatalf("reasons %q", reasons)
	}
}

func TestBatchCSVRefusesBeforeRunning(t *testing.T) {
	dsn, conn := batchDB(t)
	before := fixture.DumpAll(t, conn)
	good := "id,name\n1,ok\n"
	cases := []struct {
		name, csv, template, want string
	}{
		{"unknown column", good, "t set-name {id} {nmae}", `in.csv:1: the template's {nmae} names no column (columns: id, name)`},
		{"value becomes a flag", "id,name\n1,ok\n--yes,x\n", "t set-name {id} {name}", `in.csv:3: value "--yes" would be read as a flag where {id} expects an argument`},
		{"missing user", "id,name\n1,ok\n77,x\n", "t set-name {id} {name}", "in.csv:3: user 77 not found"},
		{"ragged row", "id,name\n1,ok\n2\n", "t set-name {id} {name}", "in.csv:3: CSV: 1 fields, the header has 2"},
		{"quote opens the first field", "id,name\n1,ok\n\"2,x\n", "t set-name {id} {name}", "in.csv:3: CSV: parse error on line 3, column 6: extraneous or missing \" in quoted-field"},
		{"quote inside the first field", "id,name\n1,ok\n2\"x,y\n", "t set-name {id} {name}", "in.csv:3: CSV: parse error on line 3, column 2: bare \" in non-quoted-field"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			file := writeTemp(t, "in.csv", c.csv)
			r := runCLI(t, dsn, "batch", "--csv", file, "--template", c.template)
			if r.Code == 0 || !strings.Contains(r.Stderr, c.want+"\n") || !strings.Contains(r.Stderr, "nothing was run") {
				t.Fatalf("exit %d stderr %q, want %q", r.Code, r.Stderr, c.want)
			}
		})
	}
	for _, tpl := range []string{"{cmd} set-name 1 x", "t {verb} 1 x", "t set-name 1 x --{flag}=1", "t set-name 1 'unbalanced"} {
		r := cliRun{DSN: dsn, Stdin: good}.run(t, "batch", "--csv", "-", "--template", tpl)
		assertOneLineError(t, r, ExitUsage)
	}
	if fixture.DumpAll(t, conn) != before {
		t.Fatal("changed")
	}
}

// FuzzTemplateExpand: whatever a CSV value holds, each placeholder word is
// exactly that value, as one argument; the only refusal is a leading "-"
// in a positional slot.
func FuzzTemplateExpand(f *testing.F) {
	tpl, err := parseTemplate("t echo {a} x{a}y --value {b} -- {c}", lineRoot)
	if err != nil {
		f.Fatal(err)
	}
	for _, s := range []string{"", "-", "--yes", "a b", "'", `"`, ";", "{b}", "$(x)", "\n", "\\"} {
		f.Add(s, s, s)
	}
	f.Fuzz(func(t *testing.T, a, b, c string) {
		args, err := tpl.expand(map[string]string{"a": a, "b": b, "c": c})
		if err != nil {
			if !strings.HasPrefix(a, "-") {
				t.Fatalf("refused %q %q %q: %v", a, b, c, err)
			}
			return
		}
		want := []string{"t", "echo", a, "x" + a + "y", "--value", b, "--", c}
		if !reflect.DeepEqual(args, want) {
			t.Fatalf("got %q, want %q", args, want)
		}
	})
}

// FuzzExpandCSV: whatever the CSV file holds, expanding it never panics,
// and every problem names a line of the file.
func FuzzExpandCSV(f *testing.F) {
	tpl, err := parseTemplate("t set-name {id} {name}", lineRoot)
	if err != nil {
		f.Fatal(err)
	}
	for _, s := range []string{"id,name\n1,ok\n", "id,name\n\"48\n", "id,name\n4\"8,x\n", "id\n", "", "\ufeffid,name\n1,\"a\nb\"\n", "id,name\n1\n2,3,4\n"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, data string) {
		lines := strings.Count(data, "\n") + 1
		cmds, probs := expandCSV(strings.NewReader(data), "in.csv", tpl)
		for _, p := range probs {
			if p.File != "in.csv" || p.Line < 1 || p.Line > lines {
				t.Fatalf("problem %+v names no line of a %d-line file", p, lines)
			}
		}
		for _, c := range cmds {
			if c.Line < 2 || c.Line > lines {
				t.Fatalf("command at line %d of a %d-line file", c.Line, lines)
			}
		}
	})
}
