package commands

import (
	"encoding/json"
	"reflect"
	"strings"
	"time"

	"github.com/spf13/cobra"
)

// annotJSON lists the JSON keys of a command that prints an object (users
// show, commissions show, config view) as dotted paths, comma-separated:
// "info.groups[].name". Set it with withJSONShape; the documentation test
// holds docs/output.md to it.
const annotJSON = "b2badmin/json"

// withJSONShape declares that cmd prints v's type as JSON (-o json prints
// one such object) and returns cmd. The keys come from the type itself, so
// a field added to the type is a key the docs must add.
func withJSONShape(cmd *cobra.Command, v any) *cobra.Command {
	if cmd.Annotations == nil {
		cmd.Annotations = map[string]string{}
	}
	cmd.Annotations[annotJSON] = strings.Join(jsonPaths(reflect.TypeOf(v), ""), ",")
	return cmd
}

// jsonShape is a command's declared object keys (nil when it has none).
func jsonShape(cmd *cobra.Command) []string {
	if s := cmd.Annotations[annotJSON]; s != "" {
		return strings.Split(s, ",")
	}
	return nil
}

var (
	marshalerType = reflect.TypeFor[json.Marshaler]()
	timeType      = reflect.TypeFor[time.Time]()
)

// jsonPaths lists the key paths encoding/json writes for t: every object
// key and array, in field order ("a", "a.b", "a.list[]", "a.list[].c").
func jsonPaths(t reflect.Type, prefix string) []string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t == timeType || t.Implements(marshalerType) || reflect.PointerTo(t).Implements(marshalerType) {
		return nil
	}
	switch t.Kind() {
	case reflect.Slice, reflect.Array:
		if t.Elem().Kind() == reflect.Uint8 {
			return nil
		}
		return jsonPaths(t.Elem(), prefix+"[]")
	case reflect.Struct:
	default:
		return nil
	}
	var out []string
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "-" {
			continue
		}
		if f.Anonymous && name == "" {
			out = append(out, jsonPaths(f.Type, prefix)...)
			continue
		}
		if name == "" {
			name = f.Name
		}
		p := name
		if prefix != "" {
			p = prefix + "." + name
		}
		out = append(out, p)
		out = append(out, jsonPaths(f.Type, p)...)
	}
	return out
}
