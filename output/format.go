// Package output renders rows for people and for programs: go-pretty
// tables, JSON, JSON Lines, YAML, CSV, TSV and bare IDs. It knows nothing about
// users: callers give it column definitions and rows of values.
package output

import (
	"fmt"
	"strings"
)

// Format is one value of the -o flag.
type Format string

const (
	Table Format = "table"
	JSON  Format = "json"
	JSONL Format = "jsonl"
	CSV   Format = "csv"
	TSV   Format = "tsv"
	IDs   Format = "ids"
	// YAML is JSON converted: callers render JSON into NewYAMLWriter, so
	// every command with JSON output has YAML with the same keys.
	YAML Format = "yaml"
)

// Formats lists every -o value; the flag's help and completion come from it.
var Formats = []Format{Table, JSON, JSONL, YAML, CSV, TSV, IDs}

// FormatNames is Formats as strings.
func FormatNames() []string {
	out := make([]string, len(Formats))
	for i, f := range Formats {
		out[i] = string(f)
	}
	return out
}

// ParseFormat validates an -o value.
func ParseFormat(s string) (Format, error) {
	for _, f := range Formats {
		if strings.EqualFold(s, string(f)) {
			return f, nil
		}
	}
	return "", fmt.Errorf("unknown output format %q (want one of %s)", s, strings.Join(FormatNames(), ", "))
}

// Streams reports whether a format writes each row as it arrives, so that
// memory stays flat on millions of rows.
func (f Format) Streams() bool { return f == JSONL || f == CSV || f == TSV || f == IDs || f == JSON }
