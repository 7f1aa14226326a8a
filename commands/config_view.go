package commands

import (
	"context"
	"os"
	"sort"
	"strings"

	"github.com/spf13/cobra"

	"github.com/b2badmin/b2badmin/client"
	"github.com/b2badmin/b2badmin/output"
)

// `config view` and `config profiles` show the configuration a command
// would run with, so that nobody has to read Go to find out which database
// a command goes to. Passwords in DSNs are masked (xxxxx), always.

func newConfigCmd(inv *Invocation) *cobra.Command {
	cmd := &cobra.Command{Use: "config", Short: "Show the resolved configuration and the profiles of the config file (secrets masked)",
		Long: "The config file holds named connection profiles; see docs/config.md. These commands only read it: edit the file to change it."}
	cmd.AddCommand(newCmdConfigView(inv, nil), newCmdConfigProfiles(inv, nil))
	return cmd
}

// ConfigView is what `config view` prints: each setting a command would
// use and where it came from.
type ConfigView struct {
	ConfigFile     string  `json:"config_file"`
	ConfigExists   bool    `json:"config_exists"`
	DefaultProfile *string `json:"default_profile"`
	Profile        *string `json:"profile"`
	ProfileSource  string  `json:"profile_source"`
	DSN            string  `json:"dsn"`
	DSNSource      string  `json:"dsn_source"`
	Target         string  `json:"target"`
	ReadDSN        *string `json:"read_dsn"`
	ReadDSNSource  string  `json:"read_dsn_source"`
	Actor          string  `json:"actor"`
	ActorSource    string  `json:"actor_source"`
	ReadOnly       bool    `json:"read_only"`
	ReadOnlySource string  `json:"read_only_source"`
}

// configViewOptions are `config view`.
type configViewOptions struct {
	*Invocation
}

func newCmdConfigView(inv *Invocation, runF func(context.Context, *configViewOptions) error) *cobra.Command {
	o := &configViewOptions{Invocation: inv}
	cmd := &cobra.Command{
		Use:   "view",
		Short: "The configuration this command line resolves to: file, profile, database, actor, read-only (passwords masked)",
		Long: `Show what a command given the same flags and environment would use, and
where each setting comes from:
  profile    --profile, B2BADMIN_PROFILE, the file's default_profile
  dsn        --dsn, the profile's dsn, B2BADMIN_DSN, DATABASE_URL, the PG* variables
  read_dsn   --read-dsn, the profile's read_dsn (read-only commands use it)
  actor      --actor, B2BADMIN_ACTOR, the profile's actor, $USER@host
  read_only  --read-only, the profile's read_only
Passwords inside connection strings print as xxxxx. Nothing connects to a
database. -o json prints one object.`,
		Example: "  b2badmin config view\n  b2badmin config view -o json --jq .target",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runCmd(cmd, inv, o, runF, runConfigView)
		},
	}
	return withJSONShape(cmd, ConfigView{})
}

func runConfigView(_ context.Context, o *configViewOptions) error {
	v := o.configView()
	fm, err := o.OutputFormat()
	if err != nil {
		return err
	}
	if len(o.Global.Columns) > 0 {
		return usageError("--columns does not apply to config view")
	}
	switch fm {
	case output.JSON:
		return output.WriteJSON(o.IO.Out, v)
	case output.JSONL:
		return output.WriteJSONLine(o.IO.Out, v)
	case output.IDs:
		return usageError("-o ids does not apply to config view")
	}
	withSource := func(val any, src string) any {
		if s := output.Text(val); s != "" && src != "" {
			return s + "   (" + src + ")"
		}
		return val
	}
	rows := [][]any{
		{"config_file", v.ConfigFile + map[bool]string{true: "", false: "   (not found: no profiles)"}[v.ConfigExists]},
		{"default_profile", deref(v.DefaultProfile)},
		{"profile", withSource(deref(v.Profile), v.ProfileSource)},
		{"dsn", withSource(v.DSN, v.DSNSource)},
		{"target", v.Target},
		{"read_dsn", withSource(deref(v.ReadDSN), v.ReadDSNSource)},
		{"actor", withSource(v.Actor, v.ActorSource)},
		{"read_only", withSource(v.ReadOnly, v.ReadOnlySource)},
	}
	if fm != output.Table {
		// Machine formats: plain values, no "(source)" decoration.
		rows = [][]any{{"config_file", v.ConfigFile}, {"config_exists", v.ConfigExists}, {"default_profile", deref(v.DefaultProfile)},
			{"profile", deref(v.Profile)}, {"profile_source", v.ProfileSource}, {"dsn", v.DSN}, {"dsn_source", v.DSNSource},
			{"target", v.Target}, {"read_dsn", deref(v.ReadDSN)}, {"read_dsn_source", v.ReadDSNSource}, {"actor", v.Actor},
			{"actor_source", v.ActorSource}, {"read_only", v.ReadOnly}, {"read_only_source", v.ReadOnlySource}}
	}
	cols := output.Columns{{Key: "setting", Header: "Setting", Default: true}, {Key: "value", Header: "Value", Default: true}}
	p, _ := cols.Select(nil, fm)
	return output.WriteAll(fm, o.IO.Out, p, o.OutputOptions(), rows)
}

// configView resolves every setting as the command line would.
func (inv *Invocation) configView() ConfigView {
	g, f := inv.Global, inv.Factory
	path := ConfigPath(g.Config, f.Getenv)
	_, statErr := os.Stat(path)
	v := ConfigView{ConfigFile: path, ConfigExists: statErr == nil}
	f.mu.Lock()
	cfg := f.config
	f.mu.Unlock()
	if cfg != nil && cfg.DefaultProfile != "" {
		v.DefaultProfile = &cfg.DefaultProfile
	}
	if p := inv.profile; p != nil {
		name := p.Name
		v.Profile = &name
		switch {
		case g.Profile != "":
			v.ProfileSource = "--profile"
		case f.Getenv("B2BADMIN_PROFILE") != "":
			v.ProfileSource = "B2BADMIN_PROFILE"
		default:
			v.ProfileSource = "default_profile"
		}
	}
	dsn, src := inv.resolvedDSN()
	v.DSN, v.DSNSource, v.Target = client.RedactDSN(dsn), src, client.DescribeDSN(dsn)
	switch {
	case g.ReadDSN != "":
		r := client.RedactDSN(g.ReadDSN)
		v.ReadDSN, v.ReadDSNSource = &r, "--read-dsn"
	case inv.profile != nil && inv.profile.ReadDSN != "":
		r := client.RedactDSN(inv.profile.ReadDSN)
		v.ReadDSN, v.ReadDSNSource = &r, "profile "+inv.profile.Name
	}
	v.Actor = inv.Actor()
	switch {
	case strings.TrimSpace(g.Actor) != "":
		v.ActorSource = "--actor"
	case strings.TrimSpace(f.Getenv("B2BADMIN_ACTOR")) != "":
		v.ActorSource = "B2BADMIN_ACTOR"
	case inv.profile != nil && inv.profile.Actor != "":
		v.ActorSource = "profile " + inv.profile.Name
	default:
		v.ActorSource = "$USER@host"
	}
	v.ReadOnly = inv.ReadOnly()
	switch {
	case g.ReadOnly:
		v.ReadOnlySource = "--read-only"
	case inv.profile != nil && inv.profile.ReadOnly:
		v.ReadOnlySource = "profile " + inv.profile.Name
	}
	return v
}

// profileColumns are `config profiles`.
var profileColumns = output.Columns{
	{Key: "name", Header: "Profile", Default: true},
	{Key: "default", Header: "Default", Default: true},
	{Key: "target", Header: "Database", Default: true},
	{Key: "dsn", Header: "DSN"},
	{Key: "read_dsn", Header: "Read DSN"},
	{Key: "actor", Header: "Actor", Default: true},
	{Key: "read_only", Header: "Read-only", Default: true},
}

// configProfilesOptions are `config profiles`.
type configProfilesOptions struct {
	*Invocation
}

func newCmdConfigProfiles(inv *Invocation, runF func(context.Context, *configProfilesOptions) error) *cobra.Command {
	o := &configProfilesOptions{Invocation: inv}
	cmd := &cobra.Command{
		Use:   "profiles",
		Short: "The profiles of the config file, by name (passwords masked)",
		Long: `List the config file's profiles: which is the default, the database each
points at (user@host:port/database), its DSN and read DSN with the password
masked, its actor and whether it is read-only. An empty list when there is
no config file.`,
		Example: "  b2badmin config profiles\n  b2badmin config profiles -o json --jq '.[] | select(.read_only) | .name'",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runCmd(cmd, inv, o, runF, runConfigProfiles)
		},
	}
	return withColumns(cmd, profileColumns)
}

func runConfigProfiles(_ context.Context, o *configProfilesOptions) error {
	fm, p, err := o.selectColumns(profileColumns)
	if err != nil {
		return err
	}
	o.Factory.mu.Lock()
	cfg := o.Factory.config
	o.Factory.mu.Unlock()
	var names []string
	if cfg != nil {
		for n := range cfg.Profiles {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	w := output.NewRowWriter(fm, o.IO.Out, p, o.OutputOptions())
	for _, n := range names {
		pr := cfg.Profiles[n]
		if pr == nil {
			pr = &Profile{}
		}
		var readDSN any
		if pr.ReadDSN != "" {
			readDSN = client.RedactDSN(pr.ReadDSN)
		}
		var target any
		if pr.DSN != "" {
			target = client.DescribeDSN(pr.DSN)
		}
		if err := w.Write([]any{n, n == cfg.DefaultProfile, target, client.RedactDSN(pr.DSN), readDSN, pr.Actor, pr.ReadOnly}); err != nil {
			return err
		}
	}
	return w.Close()
}
