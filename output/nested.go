package output

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"time"
)

// nestedText renders, for the text formats, a value Text has no case of:
// a struct, a map, a list other than []string, a pointer, a number of
// another type. It goes through the value's JSON as the json format
// writes it (appendJSONValue, so a MarshalJSON or a `json:"-"` counts the
// same way), so that the two formats cannot disagree:
//
//   - null (a nil pointer, map or list) is the empty cell, as for nil;
//   - a JSON string is the string itself, a number or boolean its literal
//     (a scalar reads in a cell as it does in -o json);
//   - an array of strings, numbers and booleans is its elements joined with
//     sep, as a []string is (docs/output.md: lists are comma-joined), and
//     an empty one is empty, unless its Go elements are objects;
//   - anything else (an object, an array of objects or with a null) is
//     the compact JSON: a script decodes the cell with a JSON parser.
//
// fmt's syntax would print a struct's pointers as addresses and its
// field values without their names, which nothing can read back.
func nestedText(v any, sep string) string {
	b, err := appendJSONValue(nil, v)
	if err != nil {
		// Not JSON-encodable (a channel, a NaN): fmt is all there is.
		return fmt.Sprint(v)
	}
	if s, ok := scalarJSONText(b); ok {
		return s
	}
	if b[0] != '[' {
		return string(b)
	}
	var elems []json.RawMessage
	if json.Unmarshal(b, &elems) != nil {
		return string(b)
	}
	if len(elems) == 0 && objectElems(v) {
		// No element to judge by: the Go type says it is a list of
		// objects, and "[]" keeps it JSON (2fa disable's devices after).
		return string(b)
	}
	parts := make([]string, len(elems))
	for i, e := range elems {
		s, ok := scalarJSONText(e)
		if !ok || string(e) == "null" {
			return string(b)
		}
		parts[i] = s
	}
	return strings.Join(parts, sep)
}

// scalarJSONText is the cell text of a JSON scalar: null is empty, a
// string is unquoted, a number or boolean is its literal. ok is false for
// an array or an object.
func scalarJSONText(b []byte) (string, bool) {
	switch b[0] {
	case '[', '{':
		return "", false
	case 'n':
		return "", true
	case '"':
		var s string
		if json.Unmarshal(b, &s) != nil {
			return string(b), true
		}
		return s, true
	}
	return string(b), true
}

// objectElems reports a slice or array (or a pointer to one) whose
// elements are objects or lists in JSON: structs, maps, slices.
func objectElems(v any) bool {
	t := reflect.TypeOf(v)
	for t != nil && t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t == nil || (t.Kind() != reflect.Slice && t.Kind() != reflect.Array) {
		return false
	}
	e := t.Elem()
	for e.Kind() == reflect.Pointer {
		e = e.Elem()
	}
	switch e.Kind() {
	case reflect.Struct, reflect.Map, reflect.Slice, reflect.Array:
		return e != reflect.TypeFor[time.Time]()
	}
	return false
}

// isNilPointer reports a typed nil pointer in an interface: a Stringer
// with a value receiver would panic on it.
func isNilPointer(v any) bool {
	rv := reflect.ValueOf(v)
	return rv.Kind() == reflect.Pointer && rv.IsNil()
}

// isNested reports a value nestedText renders as JSON text, which a table
// treats as free text (it may be cut to fit the terminal).
func isNested(v any) bool {
	rv := reflect.ValueOf(v)
	for rv.Kind() == reflect.Pointer && !rv.IsNil() {
		rv = rv.Elem()
	}
	switch rv.Kind() {
	case reflect.Struct, reflect.Map, reflect.Slice, reflect.Array:
		return true
	}
	return false
}
