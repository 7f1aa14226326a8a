package commands

import (
	"encoding/csv"
	"errors"
	"strings"

	"github.com/spf13/pflag"
)

// onceString is a single-valued string flag that refuses a second value:
// pflag would otherwise keep the last one silently, and a script writing
// `--email gmail --email yahoo` would get yahoo alone without knowing.
type onceString struct {
	p   *string
	set bool
}

func (o *onceString) String() string {
	if o.p == nil {
		return ""
	}
	return *o.p
}

func (o *onceString) Set(v string) error {
	if o.set {
		return errors.New("given more than once; it takes one value")
	}
	*o.p, o.set = v, true
	return nil
}

func (o *onceString) Type() string { return "string" }

// onceStringVar defines a onceString flag.
func onceStringVar(fs *pflag.FlagSet, p *string, name, value, usage string) {
	*p = value
	fs.Var(&onceString{p: p}, name, usage)
}

// listValue is a repeatable, comma-separated list flag (--group a,b
// --group c). pflag's StringSlice does the same but formats its default
// through encoding/csv when the flag is defined, a 4 KiB buffer per flag
// per command tree: a batch builds a tree per line.
type listValue struct{ p *[]string }

func (l *listValue) String() string { return strings.Join(*l.p, ",") }

func (l *listValue) Set(v string) error {
	if strings.ContainsRune(v, '"') {
		// Quoted items may hold commas, as with pflag's StringSlice.
		items, err := csv.NewReader(strings.NewReader(v)).Read()
		if err != nil {
			return err
		}
		*l.p = append(*l.p, items...)
		return nil
	}
	*l.p = append(*l.p, strings.Split(v, ",")...)
	return nil
}

func (l *listValue) Type() string { return "strings" }

// listVar defines a listValue flag.
func listVar(fs *pflag.FlagSet, p *[]string, name, usage string) {
	*p = nil
	fs.Var(&listValue{p: p}, name, usage)
}
