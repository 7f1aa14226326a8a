package output

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"

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
// the encoder then writes block YAML and quotes only the strings that
// would otherwise read as another type.
func blockStyle(n *yaml.Node) {
	n.Style = 0
	for _, c := range n.Content {
		blockStyle(c)
	}
}
