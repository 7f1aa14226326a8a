package client

import (
	"net"
	"net/url"
	"os"
	"regexp"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"
)

// ResolveDSN picks the connection string in the documented order: the
// --dsn flag, then B2BADMIN_DSN, then DATABASE_URL. An empty result leaves
// pgx to read the libpq PG* variables (PGHOST, PGUSER, PGPASSWORD, …).
func ResolveDSN(flag string, getenv func(string) string) string {
	if getenv == nil {
		getenv = os.Getenv
	}
	for _, v := range []string{flag, getenv("B2BADMIN_DSN"), getenv("DATABASE_URL")} {
		if strings.TrimSpace(v) != "" {
			return v
		}
	}
	return ""
}

var (
	// The password runs to the LAST @ of the URL's authority: a password
	// with an unescaped @ must not leave its tail behind.
	urlPassword = regexp.MustCompile(`(?i)(postgres(?:ql)?://[^:/@\s]*:)([^\s/?]*)(@)`)
	// A quoted value may be unterminated in a broken DSN: hide to the end.
	kvPassword = regexp.MustCompile(`(?i)(password\s*=\s*)('(?:[^'\\]|\\.)*'?|[^\s]*)`)
)

// RawPassword is the password as written in a DSN, before any driver parses
// it, so that a malformed one can still be scrubbed from messages.
func RawPassword(dsn string) string {
	if m := urlPassword.FindStringSubmatch(dsn); m != nil {
		if p, err := url.PathUnescape(m[2]); err == nil {
			return p
		}
		return m[2]
	}
	if m := kvPassword.FindStringSubmatch(dsn); m != nil {
		return strings.Trim(m[2], "'")
	}
	return ""
}

// DescribeDSN names the database a connection string points at, as
// user@host:port/database, without its password: what a confirmation
// prompt and a run record show. An unparseable string is described as such.
func DescribeDSN(dsn string) string {
	cfg, err := pgconn.ParseConfig(dsn)
	if err != nil {
		return "(invalid connection string)"
	}
	host := cfg.Host
	if !strings.HasPrefix(host, "/") {
		host = net.JoinHostPort(host, strconv.Itoa(int(cfg.Port)))
	}
	return cfg.User + "@" + host + "/" + cfg.Database
}

// RedactDSN hides the password of a URL or key=value connection string.
func RedactDSN(dsn string) string {
	dsn = urlPassword.ReplaceAllString(dsn, "${1}xxxxx${3}")
	return kvPassword.ReplaceAllString(dsn, "${1}xxxxx")
}

// Scrub removes every known secret from a message: anything that looks like
// a DSN password, and the literal passwords given (in plain and URL-escaped
// form), since drivers sometimes quote the connection string back.
func Scrub(msg string, secrets ...string) string {
	msg = RedactDSN(msg)
	// Every @-separated piece of a password is a secret too: a URL whose
	// password holds a raw @ is split by drivers at the wrong place and its
	// tail shows up as part of the host.
	for _, s := range secrets {
		if strings.Contains(s, "@") {
			for _, piece := range strings.Split(s, "@") {
				if len(piece) >= 4 {
					secrets = append(secrets, piece)
				}
			}
		}
	}
	for _, s := range secrets {
		if len(s) < 1 {
			continue
		}
		msg = strings.ReplaceAll(msg, s, "xxxxx")
		if esc := url.QueryEscape(s); esc != s {
			msg = strings.ReplaceAll(msg, esc, "xxxxx")
		}
		if esc := url.PathEscape(s); esc != s {
			msg = strings.ReplaceAll(msg, esc, "xxxxx")
		}
	}
	return msg
}
