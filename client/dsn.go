package client

import (
	"net/url"
	"os"
	"regexp"
	"strings"
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
	urlPassword = regexp.MustCompile(`(?i)(postgres(?:ql)?://[^:/@\s]*:)([^@\s]*)(@)`)
	kvPassword  = regexp.MustCompile(`(?i)(password\s*=\s*)('(?:[^'\\]|\\.)*'|[^\s]*)`)
)

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
