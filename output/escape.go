package output

import (
	"bytes"
	"fmt"
	"strings"
	"unicode/utf8"
)

// Values come from the web side, where anyone can type a first name: an
// ESC sequence that retitles or recolours the admin's terminal, a BEL, or
// a formula (=HYPERLINK(...), +cmd|...) that a spreadsheet runs when the
// CSV export is opened. This file decides, for every text format, what
// is escaped and how:
//
//	table  tab and line breaks become spaces; other control characters
//	       \xNN; bidirectional overrides \u202e (a name must not reorder
//	       the line it is shown on)
//	CSV    control characters other than tab and line breaks \xNN (line
//	       breaks are quoted, as RFC 4180 allows); formulas neutralised
//	TSV    tab, line breaks and backslash as backslash escapes, other
//	       control characters as \xNN of their UTF-8 bytes: PostgreSQL's
//	       text format, which TSVUnescape (and COPY) read back exactly;
//	       formulas neutralised
//	JSON   every control character as \u00NN (encoding/json leaves DEL
//	       and C1 as they are): the decoded value is unchanged
//
// Options.Raw (--raw) writes CSV and TSV values exactly as stored.

// isControl: C0 controls, DEL and the C1 range.
func isControl(r rune) bool { return r < 0x20 || (r >= 0x7f && r <= 0x9f) }

// isBidiOverride: the embeddings, overrides and isolates that reorder
// text on screen (U+202A-U+202E, U+2066-U+2069).
func isBidiOverride(r rune) bool { return (r >= 0x202a && r <= 0x202e) || (r >= 0x2066 && r <= 0x2069) }

// hasControlBytes reports, without decoding, whether f holds a control
// character other than tab and line breaks: a C0 byte, DEL, or the UTF-8
// form of a C1 character (0xC2 0x80-0x9F).
func hasControlBytes(f []byte) bool {
	for i, c := range f {
		switch {
		case c < 0x20 && c != '\t' && c != '\n' && c != '\r', c == 0x7f:
			return true
		case c == 0xc2 && i+1 < len(f) && f[i+1] >= 0x80 && f[i+1] <= 0x9f:
			return true
		}
	}
	return false
}

// appendControlEscaped appends f with every control character other than
// tab and line breaks as \xNN (its code point), for CSV.
func appendControlEscaped(b, f []byte) []byte {
	for len(f) > 0 {
		r, n := utf8.DecodeRune(f)
		if isControl(r) && r != '\t' && r != '\n' && r != '\r' {
			b = append(b, '\\', 'x', hexDigits[r>>4], hexDigits[r&0xf])
		} else {
			b = append(b, f[:n]...)
		}
		f = f[n:]
	}
	return b
}

// needsFormulaGuard reports a cell a spreadsheet would take for a formula:
// one starting with = + - @, a tab or a carriage return (OWASP's list).
// A plain signed number (-12.5, an E.164 phone +442079460958) is a value,
// not a formula, and stays as it is.
func needsFormulaGuard(f []byte) bool {
	if len(f) == 0 {
		return false
	}
	switch f[0] {
	case '=', '@', '\t', '\r':
		return true
	case '+', '-':
		return !isSignedNumber(f)
	}
	return false
}

func isSignedNumber(f []byte) bool {
	digits, dot := 0, false
	for i, c := range f[1:] {
		switch {
		case c >= '0' && c <= '9':
			digits++
		case c == '.' && !dot && i > 0:
			dot = true
		default:
			return false
		}
	}
	return digits > 0 && f[len(f)-1] != '.'
}

// safeCell keeps a table row on one line and the terminal in our hands.
func safeCell(s string) string {
	if strings.IndexFunc(s, func(r rune) bool { return isControl(r) || isBidiOverride(r) }) < 0 {
		return s
	}
	s = strings.ReplaceAll(s, "\r\n", "\n")
	var b strings.Builder
	for _, r := range s {
		switch {
		case r == '\t' || r == '\n' || r == '\r':
			b.WriteByte(' ')
		case isControl(r):
			fmt.Fprintf(&b, "\\x%02x", r)
		case isBidiOverride(r):
			fmt.Fprintf(&b, "\\u%04x", r)
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// escapeJSONControls rewrites DEL and the C1 characters of encoded JSON as
// \u escapes (encoding/json writes them raw). Outside strings JSON is
// ASCII without DEL, so a byte-level rewrite cannot touch the structure.
func escapeJSONControls(b []byte) []byte {
	if !bytes.ContainsFunc(b, func(r rune) bool { return r >= 0x7f && r <= 0x9f }) {
		return b
	}
	out := make([]byte, 0, len(b)+16)
	for len(b) > 0 {
		r, n := utf8.DecodeRune(b)
		if r >= 0x7f && r <= 0x9f {
			out = append(out, '\\', 'u', '0', '0', hexDigits[r>>4], hexDigits[r&0xf])
		} else {
			out = append(out, b[:n]...)
		}
		b = b[n:]
	}
	return out
}
