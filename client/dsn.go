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

// urlSecretSpans reads a URL as pgconn does (libpq's rules, not net/url's):
// the user information ends at the first '@' before any '/', its password
// after its first ':'; then the host list (IPv6 hosts in brackets), the
// path up to '?', and the query, whose password= and sslpassword= values
// are secrets. Two readings a person could mean are refused (urlHint),
// since either would print a piece of the password: an '@' left after the
// user information before the path (pgconn takes it into the host:
// postgres://u:hun@ter2@db/x), and user information holding '?' or '#' (a
// password= that pgconn reads as the user name: postgres://db?password=x@h).
func urlSecretSpans(dsn string) ([][2]int, error) {
	// pgconn percent-decodes every part and refuses a bad escape.
	for i := 0; i < len(dsn); i++ {
		if dsn[i] == '%' && (i+2 >= len(dsn) || !isHex(dsn[i+1]) || !isHex(dsn[i+2])) {
			return nil, errors.New(urlHint)
		}
	}
	start := strings.Index(dsn, "://") + 3
	p := dsn[start:]
	var spans [][2]int
	if i := strings.IndexAny(p, "@/"); i >= 0 && p[i] == '@' {
		if strings.ContainsAny(p[:i], "?#") {
			return nil, errors.New(urlHint)
		}
		if colon := strings.IndexByte(p[:i], ':'); colon >= 0 && colon+1 < i {
			spans = append(spans, [2]int{start + colon + 1, start + i})
		}
		start += i + 1
		p = p[i+1:]
	}
	// The query begins at the first '?' (in the host list or the path).
	q := strings.IndexByte(p, '?')
	if q < 0 {
		q = len(p)
	}
	if strings.IndexByte(p[:q], '@') >= 0 {
		return nil, errors.New(urlHint)
	}
	if q == len(p) {
		return spans, nil
	}
	pos := start + q + 1
	for _, piece := range strings.Split(p[q+1:], "&") {
		k, _, hasValue := strings.Cut(piece, "=")
		key, err := url.PathUnescape(k)
		if err == nil && hasValue && secretKeys[strings.ToLower(key)] {
			spans = append(spans, [2]int{pos + len(k) + 1, pos + len(piece)})
		}
		pos += len(piece) + 1
	}
	return spans, nil
}

func isHex(c byte) bool { return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F' }

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
