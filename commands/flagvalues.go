package commands

import (
	"errors"

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
