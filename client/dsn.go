package client

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
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

// A connection string holds a password, and no message may show it. The
// password is found by position in the parsed string (a URL's userinfo
// password and password= query values, a keyword/value string's
// password= value), the way pgconn reads it, and only that span is
// masked. Searching messages for the password's text instead garbled
// them (a one-letter password masked every "e") and showed where it
// occurs; a string that does not parse is never echoed at all: the
// message names what is wrong with it.

// secretKeys are the settings whose values are secrets.
var secretKeys = map[string]bool{"password": true, "sslpassword": true}

const mask = "xxxxx"

// RedactDSN is dsn with its passwords masked, or, when it does not parse,
// a description of what is wrong with it that quotes none of it.
func RedactDSN(dsn string) string {
	spans, err := secretSpans(dsn)
	if err != nil {
		return "(invalid connection string: " + err.Error() + ")"
	}
	return maskSpans(dsn, spans)
}

func maskSpans(s string, spans [][2]int) string {
	var b strings.Builder
	last := 0
	for _, sp := range spans {
		b.WriteString(s[last:sp[0]])
		b.WriteString(mask)
		last = sp[1]
	}
	b.WriteString(s[last:])
	return b.String()
}

// HasPassword reports whether dsn sets a password (and parses).
func HasPassword(dsn string) bool {
	spans, err := secretSpans(dsn)
	return err == nil && len(spans) > 0
}

// secretSpans parses dsn as pgconn does and returns the byte ranges of its
// secret values, in order. Its errors never quote the string.
func secretSpans(dsn string) ([][2]int, error) {
	if strings.IndexByte(dsn, 0) >= 0 {
		return nil, errors.New("it holds a NUL byte")
	}
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		return urlSecretSpans(dsn)
	}
	return kvSecretSpans(dsn)
}

const urlHint = "not a valid URL (percent-encode @ : / ? # % in the user name and password, e.g. %40 for @)"

// urlSecretSpans: the userinfo password (after the first ':' of what
// precedes the authority's last '@') and password= query values, where
// net/url (which pgconn uses) puts them.
func urlSecretSpans(dsn string) ([][2]int, error) {
	if _, err := url.Parse(dsn); err != nil {
		return nil, errors.New(urlHint)
	}
	rest := dsn
	if i := strings.IndexByte(rest, '#'); i >= 0 {
		rest = rest[:i]
	}
	query := ""
	qStart := -1
	if i := strings.IndexByte(rest, '?'); i >= 0 {
		query, qStart, rest = rest[i+1:], i+1, rest[:i]
	}
	var spans [][2]int
	start := strings.Index(rest, "://") + 3
	authority := rest[start:]
	if i := strings.IndexByte(authority, '/'); i >= 0 {
		authority = authority[:i]
	}
	// pgconn ends the password at the first '@' and net/url at the last:
	// read either way, a second '@' puts part of a password where a
	// message would print it (the host).
	if strings.Count(authority, "@") > 1 {
		return nil, errors.New(urlHint)
	}
	if at := strings.LastIndexByte(authority, '@'); at >= 0 {
		if colon := strings.IndexByte(authority[:at], ':'); colon >= 0 {
			spans = append(spans, [2]int{start + colon + 1, start + at})
		}
	}
	pos := qStart
	for _, piece := range strings.Split(query, "&") {
		k, _, hasValue := strings.Cut(piece, "=")
		key, err := url.QueryUnescape(k)
		if err == nil && hasValue && secretKeys[strings.ToLower(key)] {
			spans = append(spans, [2]int{pos + len(k) + 1, pos + len(piece)})
		}
		pos += len(piece) + 1
	}
	return spans, nil
}

// kvSecretSpans reads a keyword/value string as libpq and pgconn do:
// keyword, optional spaces, '=', then a value that is either a run of
// non-space characters (backslash escapes the next one) or a single-quoted
// string (backslash escapes inside it).
func kvSecretSpans(s string) ([][2]int, error) {
	var spans [][2]int
	isSpace := func(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f' }
	i, n := 0, 0
	for {
		for i < len(s) && isSpace(s[i]) {
			i++
		}
		if i == len(s) {
			return spans, nil
		}
		n++
		k := i
		for i < len(s) && s[i] != '=' && !isSpace(s[i]) {
			i++
		}
		key := s[k:i]
		for i < len(s) && isSpace(s[i]) {
			i++
		}
		if i == len(s) || s[i] != '=' || key == "" {
			return nil, fmt.Errorf("setting %d is not keyword=value", n)
		}
		name := "setting " + strconv.Itoa(n)
		if knownKeyword(key) {
			name = key
		}
		i++
		for i < len(s) && isSpace(s[i]) {
			i++
		}
		v := i
		if i < len(s) && s[i] == '\'' {
			i++
			for i < len(s) && s[i] != '\'' {
				if s[i] == '\\' {
					i++
				}
				i++
			}
			if i >= len(s) {
				return nil, fmt.Errorf("the quoted value of %s has no closing quote", name)
			}
			i++
		} else {
			for i < len(s) && !isSpace(s[i]) {
				if s[i] == '\\' {
					i++
				}
				i++
			}
			i = min(i, len(s))
		}
		if secretKeys[strings.ToLower(key)] {
			spans = append(spans, [2]int{v, i})
		}
	}
}

// knownKeyword: the libpq keywords a message may name.
func knownKeyword(k string) bool {
	switch strings.ToLower(k) {
	case "host", "hostaddr", "port", "dbname", "database", "user", "password", "passfile", "connect_timeout",
		"sslmode", "sslkey", "sslcert", "sslrootcert", "sslpassword", "sslsni", "application_name", "options",
		"target_session_attrs", "service", "servicefile", "channel_binding", "krbsrvname", "min_read_buffer_size",
		"default_query_exec_mode", "statement_cache_capacity", "description_cache_capacity", "pool_max_conns",
		"pool_min_conns", "pool_max_conn_lifetime", "pool_max_conn_idle_time", "pool_health_check_period":
		return true
	}
	return false
}

// describeParseError says what is wrong with a connection string pgx
// refused, quoting none of it: our own reading first, else pgconn's
// reason without the string it quotes and without the wrapped error
// (which can hold a piece of the string, a URL error holds all of it).
func describeParseError(dsn string, err error) string {
	if _, perr := secretSpans(dsn); perr != nil {
		return perr.Error()
	}
	var pe *pgconn.ParseConfigError
	if errors.As(err, &pe) {
		blank := *pe
		blank.ConnString = ""
		msg := strings.TrimPrefix(blank.Error(), "cannot parse ``: ")
		if i := strings.Index(msg, " ("); i >= 0 {
			msg = msg[:i]
		}
		return msg
	}
	return "not a valid connection string"
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

// Scrub masks connection strings that a message quotes (a driver's error
// can quote one): each URL or password= setting found in it is read as a
// connection string and its secret values masked by position; a URL that
// does not parse is replaced whole. Nothing is searched for by its text.
func Scrub(msg string) string {
	var b strings.Builder
	for len(msg) > 0 {
		i := nextDSNStart(msg)
		if i < 0 {
			b.WriteString(msg)
			break
		}
		b.WriteString(msg[:i])
		msg = msg[i:]
		if strings.HasPrefix(strings.ToLower(msg), "postgres") {
			end := strings.IndexAny(msg, " \t\n\r`'\"")
			if end < 0 {
				end = len(msg)
			}
			tok := msg[:end]
			if spans, err := urlSecretSpans(tok); err == nil {
				b.WriteString(maskSpans(tok, spans))
			} else {
				b.WriteString("(connection string)")
			}
			msg = msg[end:]
			continue
		}
		// password=VALUE: one keyword/value setting; an unterminated
		// quote runs to the end of the message.
		eq := strings.IndexByte(msg, '=')
		b.WriteString(msg[:eq+1])
		msg = msg[eq+1:]
		j := 0
		if strings.HasPrefix(msg, "'") {
			j = 1
			for j < len(msg) && msg[j] != '\'' {
				if msg[j] == '\\' {
					j++
				}
				j++
			}
			j = min(j+1, len(msg))
		} else {
			for j < len(msg) && !strings.ContainsRune(" \t\n\r`\"", rune(msg[j])) {
				j++
			}
		}
		b.WriteString(mask)
		msg = msg[j:]
	}
	return b.String()
}

// nextDSNStart finds the next "postgres://", "postgresql://" or
// "password=" (any case) in msg.
func nextDSNStart(msg string) int {
	low := strings.ToLower(msg)
	best := -1
	for _, p := range []string{"postgres://", "postgresql://", "password="} {
		if i := strings.Index(low, p); i >= 0 && (best < 0 || i < best) {
			best = i
		}
	}
	return best
}
