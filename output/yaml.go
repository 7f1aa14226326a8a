package output

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strings"

	"go.yaml.in/yaml/v3"
)

// NewYAMLWriter returns a writer that takes JSON and writes it to w as
// YAML, one document per JSON value, keys in the JSON order. It buffers
// until Close (a YAML document cannot be streamed row by row the way JSON
// Lines can), so use jsonl or csv for exports of millions of rows.
func NewYAMLWriter(w io.Writer) io.WriteCloser { return &yamlWriter{w: w} }

type yamlWriter struct {
	w   io.Writer
	buf bytes.Buffer
}

func (y *yamlWriter) Write(p []byte) (int, error) { return y.buf.Write(p) }

func (y *yamlWriter) Close() error {
	dec := json.NewDecoder(&y.buf)
	enc := yaml.NewEncoder(y.w)
	enc.SetIndent(2)
	for {
		var raw json.RawMessage
		if err := dec.Decode(&raw); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			return fmt.Errorf("yaml: reading the JSON output: %w", err)
		}
		// JSON is YAML: parsing it as YAML keeps the key order and each
		// scalar's type (a JSON string "true" stays a string).
		var doc yaml.Node
		if err := yaml.Unmarshal(raw, &doc); err != nil {
			return fmt.Errorf("yaml: %w", err)
		}
		blockStyle(&doc)
		if err := enc.Encode(&doc); err != nil {
			return err
		}
	}
	return enc.Close()
}

// blockStyle drops the flow style and quotes the JSON syntax carried in:
// the encoder then writes block YAML. A string that a YAML 1.1 or 1.2
// parser would read as another type is double-quoted: for a node, unlike
// a Go string, the encoder quotes only what its own (1.2) resolver types,
// and PyYAML would read a plain No as False and 12:30 as 750.
func blockStyle(n *yaml.Node) {
	n.Style = 0
	if n.Kind == yaml.ScalarNode && n.Tag == "!!str" && !plainIsString(n.Value) {
		n.Style = yaml.DoubleQuotedStyle
	}
	for _, c := range n.Content {
		blockStyle(c)
	}
}

// plainIsString reports whether s written plain reads back as the string
// s in YAML 1.1 and 1.2. The emitter quotes what YAML's syntax forbids
// plain (": ", a leading "#" or "-") whatever the style asked for, and
// what yaml.v3's YAML 1.2 resolver types (true, 1e3, 0x1F); this adds
// YAML 1.1's types.
func plainIsString(s string) bool {
	if s == "" {
		return false // "" alone is null
	}
	if strings.Contains(s, "\n") {
		return true // a literal block (|): a string in every version
	}
	if c := s[0]; !mayBeTyped[c] || c >= 'A' && len(s) > 5 {
		return true // a letter starts only booleans and nulls ("false": five)
	}
	if yaml11Typed.MatchString(s) {
		return false
	}
	// For a Go string yaml.v3 also quotes YAML 1.1 booleans (three letters
	// at most) and base-60 numbers (with a colon): its own decision there,
	// asked only where it can differ, as a Marshal costs kilobytes.
	if len(s) <= 3 || strings.IndexByte(s, ':') >= 0 {
		out, err := yaml.Marshal(s)
		return err == nil && string(out) == s+"\n"
	}
	return true
}

// YAMLPlain reports whether s can be written as a plain scalar, on one
// line, and read back as the string s by YAML 1.1 and 1.2 parsers: for a
// writer that has no emitter of its own (an access file). It asks yaml.v3
// what its emitter would quote (syntax, YAML 1.2 types), which costs a
// Marshal: callers writing the same strings often keep the answers.
func YAMLPlain(s string) bool {
	if strings.Contains(s, "\n") || !plainIsString(s) {
		return false
	}
	out, err := yaml.Marshal(s)
	return err == nil && string(out) == s+"\n"
}

// mayBeTyped are the first bytes of every plain scalar YAML 1.1 or 1.2
// resolves to a type other than string: numbers and times (digits, signs,
// "."), booleans and null (y n t f o ~), merge "<<", value "=".
var mayBeTyped = func() (t [256]bool) {
	for _, c := range "0123456789+-.~<=yYnNtTfFoO" {
		t[c] = true
	}
	return t
}()

// yaml11Typed are the YAML 1.1 types' regular expressions
// (yaml.org/type/*.html, and PyYAML's, which differ in floats), for the
// plain scalars yaml.v3 does not quote: = (the value key), 1.1 floats
// such as 1.2.3, timestamps with a space.
var yaml11Typed = regexp.MustCompile(`^(?:` + strings.Join([]string{
	// bool
	`y|Y|yes|Yes|YES|n|N|no|No|NO|true|True|TRUE|false|False|FALSE|on|On|ON|off|Off|OFF`,
	// int: binary, octal, decimal, hex, base 60
	`[-+]?0b[01_]+|[-+]?0[0-7_]+|[-+]?(?:0|[1-9][0-9_]*)|[-+]?0x[0-9a-fA-F_]+|[-+]?[1-9][0-9_]*(?::[0-5]?[0-9])+`,
	// float: the spec's, PyYAML's, base 60, infinity, not a number
	`[-+]?(?:[0-9][0-9_]*)?\.[0-9.]*(?:[eE][-+][0-9]+)?|[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+][0-9]+)?|\.[0-9][0-9_]*(?:[eE][-+][0-9]+)?`,
	`[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+\.[0-9_]*|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN)`,
	// null, merge, value
	`~|null|Null|NULL|<<|=`,
	// timestamp
	`[0-9]{4}-[0-9]{2}-[0-9]{2}|[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}(?:[Tt]|[ \t]+)[0-9]{1,2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]*)?(?:[ \t]*(?:Z|[-+][0-9]{1,2}(?::[0-9]{2})?))?`,
}, "|") + `)$`)
