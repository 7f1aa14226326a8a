package client

import "strings"

// TrimBOM drops the byte-order mark that Windows editors (Notepad) and
// spreadsheet exports put at the start of a UTF-8 file; it is no part of
// the first word. Apply it to the first line of an input only: anywhere
// else U+FEFF is data.
func TrimBOM(firstLine string) string { return strings.TrimPrefix(firstLine, "\ufeff") }
