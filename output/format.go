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

// Report formats are what CI systems read natively for check results
// (output/findings writes them). Only commands whose rows are findings,
// the audits, accept them, besides Formats.
const (
	JUnit  Format = "junit"  // JUnit XML: GitLab, Jenkins, Azure Pipelines test reports
	SARIF  Format = "sarif"  // SARIF 2.1.0: GitHub code scanning
	GitHub Format = "github" // GitHub Actions workflow commands (annotations)
	TAP    Format = "tap"    // Test Anything Protocol, version 13
)

// ReportFormats lists the report formats.
var ReportFormats = []Format{JUnit, SARIF, GitHub, TAP}

// IsReport reports whether f is one of ReportFormats.
func (f Format) IsReport() bool {
	for _, r := range ReportFormats {
		if f == r {
			return true
		}
	}
	return false
}

// FormatNames is Formats as strings.
func FormatNames() []string { return Names(Formats) }

// Names lists formats as strings.
func Names(formats []Format) []string {
	out := make([]string, len(formats))
	for i, f := range formats {
		out[i] = string(f)
	}
	return out
}

// ParseFormat validates an -o value.
func ParseFormat(s string) (Format, error) { return ParseFormatOf(s, Formats) }

// ParseFormatOf validates an -o value against the formats a command accepts.
func ParseFormatOf(s string, formats []Format) (Format, error) {
	for _, f := range formats {
		if strings.EqualFold(s, string(f)) {
			return f, nil
		}
	}
	return "", fmt.Errorf("unknown output format %q (want one of %s)", s, strings.Join(Names(formats), ", "))
}

// Streams reports whether a format writes each row as it arrives, so that
// memory stays flat on millions of rows.
func (f Format) Streams() bool { return f == JSONL || f == CSV || f == TSV || f == IDs || f == JSON }
