package output

import (
	"bytes"
	"errors"
	"io"
	"runtime"
	"strings"
	"testing"

	"github.com/jedib0t/go-pretty/v6/text"
	"go.yaml.in/yaml/v3"
)

func jqRun(t *testing.T, expr, input string) (string, error) {
	t.Helper()
	q, err := CompileJQ(expr)
	if err != nil {
		return "", err
	}
	var out bytes.Buffer
	w := NewJQWriter(&out, q)
	_, werr := io.WriteString(w, input)
	cerr := w.Close()
	if werr != nil {
		return out.String(), werr
	}
	return out.String(), cerr
}

func TestJQResults(t *testing.T) {
	in := `[{"id":9007199254740993,"email":"a@example.com","groups":["API"],"amount":"1.50","last":null},
 {"id":2,"email":"b@example.com","groups":[],"amount":"2","last":"2024-05-01T00:00:00Z"}]`
	for _, c := range []struct{ expr, want string }{
		{".[].email", "a@example.com\nb@example.com\n"},                            // strings raw, as jq -r
		{".[0].id", "9007199254740993\n"},                                          // no float rounding of big IDs
		{"[.[] | .id]", "[9007199254740993,2]\n"},                                  // other values: compact JSON
		{".[1] | {email, groups}", `{"email":"b@example.com","groups":[]}` + "\n"}, // keys sorted (gojq)
		{".[] | select(.last == null) | .email", "a@example.com\n"},
		{"length", "2\n"},
		{".[0].last", "null\n"},
		{"empty", ""},
		{".[0].email, halt, .[1].email", "a@example.com\n"},
	} {
		got, err := jqRun(t, c.expr, in)
		if err != nil || got != c.want {
			t.Errorf("%s: got %q, %v; want %q", c.expr, got, err, c.want)
		}
	}
	// JSON Lines: each value is filtered on its own.
	if got, err := jqRun(t, ".email", "{\"email\":\"x\"}\n{\"email\":\"y\"}\n"); err != nil || got != "x\ny\n" {
		t.Errorf("jsonl: %q %v", got, err)
	}
}

func TestJQErrors(t *testing.T) {
	if _, err := CompileJQ(".["); err == nil || !strings.HasPrefix(err.Error(), "--jq: ") {
		t.Errorf("syntax error: %v", err)
	}
	if _, err := CompileJQ("nosuchfunc(1)"); err == nil {
		t.Error("an unknown function must not compile")
	}
	_, err := jqRun(t, ".foo", `[1,2]`)
	var jqErr *JQError
	if !errors.As(err, &jqErr) || !strings.Contains(err.Error(), "expected an object") {
		t.Errorf(".foo on an array: %v", err)
	}
	// A failing expression does not leave the producer blocked on a pipe
	// nobody reads: its writes fail with the expression's error.
	q, _ := CompileJQ(".foo")
	w := NewJQWriter(io.Discard, q)
	var werr error
	for i := 0; i < 10000 && werr == nil; i++ {
		_, werr = io.WriteString(w, "[1,2,3] ")
	}
	if !errors.As(werr, &jqErr) {
		t.Errorf("producer write after a failure: %v", werr)
	}
	w.Close()
}

func TestYAMLKeepsOrderAndTypes(t *testing.T) {
	var out bytes.Buffer
	w := NewYAMLWriter(&out)
	io.WriteString(w, `[{"id":1,"email":"a@example.com","active":true,"s_true":"true","s_num":"123","empty":"","none":null,`+
		`"when":"2024-05-01T00:00:00Z","list":[],"nested":{"z":1,"a":[{"k":"v"}]},"multi":"a\nb"}]`)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	got := out.String()
	// Keys in the JSON order, not sorted.
	if strings.Index(got, "email:") > strings.Index(got, "active:") || strings.Index(got, "z:") > strings.Index(got, "a:\n") {
		t.Errorf("key order lost:\n%s", got)
	}
	var back []map[string]any
	if err := yaml.Unmarshal(out.Bytes(), &back); err != nil {
		t.Fatalf("%v\n%s", err, got)
	}
	r := back[0]
	if r["id"] != 1 || r["active"] != true || r["s_true"] != "true" || r["s_num"] != "123" || r["empty"] != "" ||
		r["none"] != nil || r["when"] != "2024-05-01T00:00:00Z" || r["multi"] != "a\nb" {
		t.Errorf("types changed: %#v\n%s", r, got)
	}
	if l, ok := r["list"].([]any); !ok || len(l) != 0 {
		t.Errorf("empty list: %#v", r["list"])
	}
	if strings.Contains(got, "{") || strings.Contains(got, `"id"`) {
		t.Errorf("flow style or JSON quoting left:\n%s", got)
	}
}

func TestTableFitsTerminalWidth(t *testing.T) {
	cols := Columns{{Key: "id", Header: "ID", Default: true}, {Key: "email", Header: "Email", Default: true},
		{Key: "name", Header: "Name", Default: true}, {Key: "active", Header: "Is active", Default: true}, {Key: "groups", Header: "Group", Default: true}}
	p, _ := cols.Select(nil, Table)
	rows := [][]any{
		{int64(123456789), "a.very.long.address.of.somebody@subsidiary.example.com", "Maximiliane Wolkenstein-Rabenhorst", true, []string{"Legal merchant owner", "KYC not verified", "API"}},
		{int64(2), "b@example.com", "Bo", false, []string{}},
	}
	render := func(o Options) string {
		var b bytes.Buffer
		if err := WriteAll(Table, &b, p, o, rows); err != nil {
			t.Fatal(err)
		}
		return b.String()
	}
	natural := render(Options{TTY: true, NoColor: true})
	if w := maxWidth(natural); w <= 80 {
		t.Fatalf("the test table must be wider than 80 to test anything, is %d", w)
	}
	fitted := render(Options{TTY: true, NoColor: true, Width: 80})
	if w := maxWidth(fitted); w > 80 {
		t.Errorf("fitted table is %d wide:\n%s", w, fitted)
	}
	if !strings.Contains(fitted, "…") || !strings.Contains(fitted, "123456789") || !strings.Contains(fitted, "b@example.com") {
		t.Errorf("fitting must cut text, never the ID, and leave short cells:\n%s", fitted)
	}
	// Piped: no fitting whatever the width says.
	piped := render(Options{Width: 80})
	if strings.Contains(piped, "…") || !strings.Contains(piped, "a.very.long.address.of.somebody@subsidiary.example.com") {
		t.Errorf("piped output must not be cut:\n%s", piped)
	}
	// A table that fits is untouched.
	if got := render(Options{TTY: true, NoColor: true, Width: 500}); got != natural {
		t.Errorf("a fitting table changed:\n%s", got)
	}
}

func maxWidth(s string) int {
	w := 0
	for _, l := range strings.Split(s, "\n") {
		if n := text.StringWidthWithoutEscSequences(l); n > w {
			w = n
		}
	}
	return w
}

// A --jq writer made for a command that never runs (its checks failed, a
// batch stopped before its line) and never closed holds no goroutine;
// closed without a write, it writes nothing and reports no error.
func TestJQWriterUnusedHoldsNothing(t *testing.T) {
	q, err := CompileJQ(".id")
	if err != nil {
		t.Fatal(err)
	}
	before := runtime.NumGoroutine()
	for range 100 {
		_ = NewJQWriter(io.Discard, q)
	}
	if n := runtime.NumGoroutine(); n > before+10 {
		t.Fatalf("%d goroutines after 100 unused writers, %d before", n, before)
	}
	var out bytes.Buffer
	if err := NewJQWriter(&out, q).Close(); err != nil || out.Len() != 0 {
		t.Fatalf("closed unused: %v, wrote %q", err, out.String())
	}
}
