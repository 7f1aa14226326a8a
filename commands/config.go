package commands

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/b2badmin/b2badmin/client"
)

// Config is the user's config file: named connection profiles.
//
//	default_profile: staging
//	profiles:
//	  staging:
//	    dsn: postgres://admin@db-staging/backoffice
//	    read_dsn: postgres://admin@db-staging-replica/backoffice
//	    actor: alice
//	    read_only: false
//	    lock_timeout: 30s
type Config struct {
	DefaultProfile string              `yaml:"default_profile"`
	Profiles       map[string]*Profile `yaml:"profiles"`
	path           string
	mode           os.FileMode
}

// Profile is one named connection.
type Profile struct {
	Name     string `yaml:"-"`
	DSN      string `yaml:"dsn"`
	ReadDSN  string `yaml:"read_dsn"`
	Actor    string `yaml:"actor"`
	ReadOnly bool   `yaml:"read_only"`
	// LockTimeout is a duration (30s, 2m; 0 = wait for ever), the
	// default of --lock-timeout for this profile.
	LockTimeout string `yaml:"lock_timeout"`
	lockTimeout *time.Duration
}

// ConfigPath is --config, else B2BADMIN_CONFIG, else
// $XDG_CONFIG_HOME/b2badmin/config.yaml (~/.config when unset).
func ConfigPath(flag string, getenv func(string) string) string {
	if flag != "" {
		return flag
	}
	if p := getenv("B2BADMIN_CONFIG"); p != "" {
		return p
	}
	dir := getenv("XDG_CONFIG_HOME")
	if dir == "" {
		home := getenv("HOME")
		if home == "" {
			home, _ = os.UserHomeDir()
		}
		dir = filepath.Join(home, ".config")
	}
	return filepath.Join(dir, "b2badmin", "config.yaml")
}

// LoadConfig reads the config file; a missing file is an empty config
// unless it was named explicitly. Errors carry FILE:LINE.
func LoadConfig(path string, explicit bool) (*Config, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) && !explicit {
		return &Config{path: path}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	cfg := &Config{path: path}
	if st, err := os.Stat(path); err == nil {
		cfg.mode = st.Mode().Perm()
	}
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	// An empty file decodes to io.EOF: that is an empty config, not an error.
	if err := dec.Decode(cfg); err != nil && !errors.Is(err, io.EOF) {
		// FILE:LINE: message, the form editors and CI logs link to.
		msg := yamlMessage(err)
		if msg != "" && msg[0] >= '0' && msg[0] <= '9' {
			return nil, fmt.Errorf("%s:%s", path, msg)
		}
		return nil, fmt.Errorf("%s: %s", path, msg)
	}
	return cfg, nil
}

// yamlMessage turns "yaml: line 3: …" into "3: …" so errors read FILE:LINE: ….
func yamlMessage(err error) string {
	msg := err.Error()
	more := ""
	var te *yaml.TypeError
	if errors.As(err, &te) && len(te.Errors) > 0 {
		// The first problem, and how many more: one line.
		msg = te.Errors[0]
		if n := len(te.Errors) - 1; n == 1 {
			more = " (and 1 more problem)"
		} else if n > 1 {
			more = fmt.Sprintf(" (and %d more problems)", n)
		}
	}
	msg = strings.TrimPrefix(msg, "yaml: unmarshal errors:\n")
	msg = strings.TrimPrefix(msg, "yaml: ")
	msg = strings.TrimSpace(msg)
	if strings.HasPrefix(msg, "line ") {
		msg = strings.TrimPrefix(msg, "line ")
	}
	msg = strings.Join(strings.Fields(msg), " ")
	// KnownFields names our Go type ("field readonly not found in type
	// commands.Profile"): say it as the policy and access files do.
	if m := unknownField.FindStringSubmatch(msg); m != nil {
		where, known := "config", configKeys(Config{})
		if m[3] == "Profile" {
			where, known = "profile", configKeys(Profile{})
		}
		msg = fmt.Sprintf("%s%s: unknown key %q (want %s)", m[1], where, m[2], strings.Join(known, ", "))
	}
	// "cannot unmarshal !!seq into map[string]*commands.Profile": the
	// shape, in YAML's words.
	if m := wrongShape.FindStringSubmatch(msg); m != nil {
		got := map[string]string{"seq": "a list", "map": "a mapping", "str": "a string", "int": "a number", "float": "a number", "bool": "true or false", "null": "nothing"}[m[2]]
		if got == "" {
			got = m[2]
		}
		want := "a string"
		switch t := m[4]; {
		case strings.HasPrefix(t, "map["):
			want = "a mapping"
		case strings.Contains(t, "Profile") || strings.Contains(t, "Config"):
			want = "a mapping"
		case t == "bool":
			want = "true or false"
		case strings.HasPrefix(t, "[]"):
			want = "a list"
		}
		msg = fmt.Sprintf("%swant %s, got %s", m[1], want, got)
		if m[3] != "" {
			msg += " " + m[3]
		}
	}
	return msg + more
}

var wrongShape = regexp.MustCompile("^(\\d+: )?cannot unmarshal !!(\\w+) ?(`[^`]*`)? into (\\S+)$")

var unknownField = regexp.MustCompile(`^(\d+: )?field (\S+) not found in type commands\.(\w+)$`)

// configKeys are the YAML keys of a config struct, in field order.
func configKeys(v any) []string {
	var keys []string
	t := reflect.TypeOf(v)
	for i := range t.NumField() {
		if k, _, _ := strings.Cut(t.Field(i).Tag.Get("yaml"), ","); k != "" && k != "-" {
			keys = append(keys, k)
		}
	}
	return keys
}

// Resolve picks the profile: --profile, B2BADMIN_PROFILE, default_profile.
func (c *Config) Resolve(name string) (*Profile, error) {
	if name == "" {
		name = c.DefaultProfile
	}
	if name == "" {
		return nil, nil
	}
	p, ok := c.Profiles[name]
	if !ok || p == nil {
		var names []string
		for n := range c.Profiles {
			names = append(names, n)
		}
		return nil, usageError(fmt.Sprintf("unknown profile %q in %s (known: %s)", name, c.path, strings.Join(names, ", ")))
	}
	// A copy: batch lines resolve the profile while another line reads it.
	cp := *p
	p = &cp
	p.Name = name
	if p.LockTimeout != "" {
		d, err := time.ParseDuration(strings.TrimSpace(p.LockTimeout))
		if err != nil || d < 0 {
			return nil, usageError(fmt.Sprintf("%s: profile %s: invalid lock_timeout %q: want a duration such as 30s (0 = wait for ever)", c.path, name, p.LockTimeout))
		}
		if d > client.MaxLockTimeout {
			// As --lock-timeout: PostgreSQL would refuse the connection.
			return nil, usageError(fmt.Sprintf("%s: profile %s: invalid lock_timeout %q: at most %s (PostgreSQL's limit), or 0 to wait for ever", c.path, name, p.LockTimeout, client.MaxLockTimeout))
		}
		p.lockTimeout = &d
	}
	return p, nil
}

// exposedPasswords is the warning for a config file that holds a password
// and that other users may read, as libpq warns about (and ignores) a
// .pgpass with group or world access; "" when there is nothing to say.
func (c *Config) exposedPasswords() string {
	if c.mode&0o077 == 0 {
		return ""
	}
	for _, p := range c.Profiles {
		if p != nil && (client.HasPassword(p.DSN) || client.HasPassword(p.ReadDSN)) {
			return fmt.Sprintf("%s holds a password and is readable by other users (mode %04o): chmod 600 %s", c.path, c.mode, c.path)
		}
	}
	return ""
}
