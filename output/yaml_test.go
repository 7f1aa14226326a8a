package output

import (
	"bytes"
	"encoding/json"
	"os/exec"
	"reflect"
	"testing"

	"go.yaml.in/yaml/v3"
)

// yamlTypedStrings read as another type if written plain, in YAML 1.1
// (booleans, base-60 numbers, octal, hex, binary, the value and merge
// keys, timestamps with a space) or 1.2 (nulls, numbers, .inf).
var yamlTypedStrings = []string{
	"No", "yes", "ON", "off", "y", "n", "Y", "N", "On", "NO", "False", "true",
	"12:30", "1:2:3", "190:20:30.15", "-1:30", "007", "0x1F", "0b101", "0o17", "1_000", "+12",
	"=", "<<", "~", "null", "NULL", "",
	"1e3", "1.5", "-1.5", ".5", "1.2.3", ".inf", "-.Inf", ".NaN",
	"2024-05-01", "2024-05-01T12:30:00Z", "2024-5-1 12:30:00", "2024-05-01 12:30:00 +2",
}

// yamlPlainStrings are ordinary text: strings in every YAML, written plain.
var yamlPlainStrings = []string{
	"Alice Smith", "alice@example.com", "Nina", "tom", "Oliver", "yesterday", "enterprise", "Off-site", "0xZZ", "1 Main St", "no-reply",
}

// yamlTrickyStrings adds YAML's syntax (which the emitter quotes as it
// must) to both lists: every one must read back as itself.
var yamlTrickyStrings = append(append(append([]string{}, yamlTypedStrings...), yamlPlainStrings...),
	"-", "!", "&", "*", "?", "%", "@x", "`x", "#x", "a: b", "a #b", " lead", "trail ", "[x]", "{x}", "x,y", "'q'", `"d"`,
	"line1\nline2", "\\")

// yamlTrickyJSON is the JSON the YAML writer gets: one row per string,
// the string as a value, and as a key; and one row of real types, which
// must keep them.
func yamlTrickyJSON(t *testing.T) []byte {
	t.Helper()
	rows := []any{}
	for _, s := range yamlTrickyStrings {
		rows = append(rows, map[string]any{"s": s, "as_key": map[string]any{s: s}})
	}
	rows = append(rows, map[string]any{"id": 1, "active": true, "none": nil, "ratio": 1.5, "list": []any{"no", 2, false}})
	b, err := json.Marshal(rows)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func writeYAML(t *testing.T, in []byte) []byte {
	t.Helper()
	var out bytes.Buffer
	w := NewYAMLWriter(&out)
	if _, err := w.Write(in); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}

// checkYAMLDecoded compares a parser's reading of the YAML with the JSON
// it was made from: every string the identical string, every key too.
func checkYAMLDecoded(t *testing.T, parser string, got any, in []byte, doc []byte) {
	t.Helper()
	var want []any
	if err := json.Unmarshal(in, &want); err != nil {
		t.Fatal(err)
	}
	rows, ok := got.([]any)
	if !ok || len(rows) != len(want) {
		t.Fatalf("%s: read %T of %d, want %d rows\n%s", parser, got, len(rows), len(want), doc)
	}
	for i, s := range yamlTrickyStrings {
		r, _ := rows[i].(map[string]any)
		if v, ok := r["s"].(string); !ok || v != s {
			t.Errorf("%s: %q read back as %#v", parser, s, r["s"])
		}
		k, _ := r["as_key"].(map[string]any)
		if v, ok := k[s].(string); !ok || v != s || len(k) != 1 {
			t.Errorf("%s: key %q read back as %#v", parser, s, r["as_key"])
		}
	}
	if last := rows[len(rows)-1]; !reflect.DeepEqual(last, want[len(want)-1]) {
		t.Errorf("%s: typed row read back as %#v, want %#v", parser, last, want[len(want)-1])
	}
}

// yaml.v3 is a YAML 1.2 parser (with 1.1 octals).
func TestYAMLStringsReadBackAsStrings(t *testing.T) {
	in := yamlTrickyJSON(t)
	doc := writeYAML(t, in)
	var got any
	if err := yaml.Unmarshal(doc, &got); err != nil {
		t.Fatalf("%v\n%s", err, doc)
	}
	// yaml.v3 decodes a mapping as map[string]any and integers as int; the
	// JSON side has float64: compare through JSON.
	b, err := json.Marshal(got)
	if err != nil {
		t.Fatalf("yaml.v3 read a value JSON cannot hold (a time?): %v\n%s", err, doc)
	}
	var norm any
	_ = json.Unmarshal(b, &norm)
	checkYAMLDecoded(t, "yaml.v3", norm, in, doc)
}

// Read back as nodes: a string any YAML would type is double-quoted (so
// that a YAML 1.1 parser reads it too, which yaml.v3 alone cannot check);
// ordinary text and the rows' keys stay plain.
func TestYAMLQuotesOnlyWhereNeeded(t *testing.T) {
	rows := []any{}
	for _, s := range append(append([]string{}, yamlTypedStrings...), yamlPlainStrings...) {
		rows = append(rows, map[string]string{"s": s})
	}
	in, _ := json.Marshal(rows)
	doc := writeYAML(t, in)
	var root yaml.Node
	if err := yaml.Unmarshal(doc, &root); err != nil {
		t.Fatalf("%v\n%s", err, doc)
	}
	seq := root.Content[0]
	if len(seq.Content) != len(rows) {
		t.Fatalf("%d rows read back, want %d\n%s", len(seq.Content), len(rows), doc)
	}
	for i, row := range seq.Content {
		key, val := row.Content[0], row.Content[1]
		if key.Style != 0 {
			t.Errorf("key %q is quoted", key.Value)
		}
		want := yaml.Style(0)
		if i < len(yamlTypedStrings) {
			want = yaml.DoubleQuotedStyle
		}
		if val.Value != rows[i].(map[string]string)["s"] || val.Style != want {
			t.Errorf("%q read back as %q in style %d, want style %d", rows[i].(map[string]string)["s"], val.Value, val.Style, want)
		}
	}
}

// PyYAML is a YAML 1.1 parser, the one most scripts have: it reads the
// output exactly as yaml.v3 does.
func TestYAMLReadByPyYAML(t *testing.T) {
	if _, err := exec.LookPath("python3"); err != nil {
		t.Skip("python3 is not installed; this check needs python3 with PyYAML (python3-yaml)")
	}
	if out, err := exec.Command("python3", "-c", "import yaml").CombinedOutput(); err != nil {
		t.Skipf("PyYAML is not installed (apt-get install python3-yaml, or pip install pyyaml): %v %s", err, out)
	}
	in := yamlTrickyJSON(t)
	doc := writeYAML(t, in)
	cmd := exec.Command("python3", "-c", "import sys,yaml,json; print(json.dumps(yaml.safe_load(sys.stdin)))")
	cmd.Stdin = bytes.NewReader(doc)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("PyYAML could not read the output: %v\n%s\n%s", err, stderr.String(), doc)
	}
	var got any
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	checkYAMLDecoded(t, "PyYAML", got, in, doc)
}
