package client

import (
	"net/url"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"
)

func TestResolveDSNOrder(t *testing.T) {
	env := map[string]string{"B2BADMIN_DSN": "b", "DATABASE_URL": "d"}
	get := func(k string) string { return env[k] }
	if got := ResolveDSN("f", get); got != "f" {
		t.Errorf("flag: got %q", got)
	}
	if got := ResolveDSN("", get); got != "b" {
		t.Errorf("B2BADMIN_DSN: got %q", got)
	}
	delete(env, "B2BADMIN_DSN")
	if got := ResolveDSN("", get); got != "d" {
		t.Errorf("DATABASE_URL: got %q", got)
	}
	delete(env, "DATABASE_URL")
	if got := ResolveDSN("", get); got != "" {
		t.Errorf("PG* fallback should be empty, got %q", got)
	}
}

// Redaction masks the password where the parsed string has it, and only
// there: the rest stays readable, whatever the password looks like.
func TestRedactDSNByPosition(t *testing.T) {
	cases := map[string]string{
		"postgres://alice:hunter2@db:5432/x":                          "postgres://alice:xxxxx@db:5432/x",
		"postgresql://alice:p%40ss@db/x?sslmode=disable":              "postgresql://alice:xxxxx@db/x?sslmode=disable",
		"postgres://u:e@127.0.0.1:1/x":                                "postgres://u:xxxxx@127.0.0.1:1/x",
		"postgres://e:e@host.example/e?password=e&application_name=e": "postgres://e:xxxxx@host.example/e?password=xxxxx&application_name=e",
		"postgres://alice@db/x":                                       "postgres://alice@db/x",
		"host=db password=hunter2 user=alice":                         "host=db password=xxxxx user=alice",
		"host=db password='hun ter2' user=alice":                      "host=db password=xxxxx user=alice",
		"host=db password = 'it\\'s' user=e":                          "host=db password = xxxxx user=e",
		"host=e sslpassword=e":                                        "host=e sslpassword=xxxxx",
		"user=e host=e":                                               "user=e host=e",
		"":                                                            "",
	}
	for in, want := range cases {
		if got := RedactDSN(in); got != want {
			t.Errorf("RedactDSN(%q) = %q, want %q", in, got, want)
		}
	}
}

// A string that does not parse is never echoed: the message says what is
// wrong with it. On main an unterminated quote left the password's tail.
func TestRedactDSNNeverEchoesAnUnparseableString(t *testing.T) {
	for in, want := range map[string]string{
		"host=h password='Sekr1t PassTail":     "the quoted value of password has no closing quote",
		"host=h Sekr1tPassTail":                "setting 2 is not keyword=value",
		"postgres://u:Sekr1t/PassTail@h:5432/": "not a valid URL",
		// pgconn ends the password at the first '@' (host "PassTail@h"),
		// net/url at the last: neither reading may reach a message.
		"postgres://u:Sekr1t@PassTail@h:5432/": "percent-encode @",
		"postgres://u:Sekr1t%zzPassTail@h/db":  "not a valid URL",
		"host=h password=Sekr1t\x00PassTail":   "NUL",
	} {
		got := RedactDSN(in)
		if !strings.Contains(got, want) || strings.Contains(got, "Sekr1t") || strings.Contains(got, "PassTail") {
			t.Errorf("RedactDSN(%q) = %q, want a description with %q and none of the string", in, got, want)
		}
	}
}

// Scrub masks a connection string a message quotes, by the same parse, and
// leaves everything else as it is: nothing is replaced by its text.
func TestScrubDoesNotGarble(t *testing.T) {
	for in, want := range map[string]string{
		"cannot connect to u@127.0.0.1:1: connection refused (is the server running?)": "cannot connect to u@127.0.0.1:1: connection refused (is the server running?)",
		"parse \"postgres://u:e@h:x/db\": invalid port":                                "parse \"postgres://u:xxxxx@h:x/db\": invalid port",
		"dial postgres://u:secret@h/db failed":                                         "dial postgres://u:xxxxx@h/db failed",
		"bad setting password='a b c in 'host=x'":                                      "bad setting password=xxxxxhost=x'",
	} {
		if got := Scrub(in); got != want {
			t.Errorf("Scrub(%q) = %q, want %q", in, got, want)
		}
	}
}

// No password, of any shape, survives RedactDSN in either form.
func FuzzRedactDSN(f *testing.F) {
	for _, s := range []string{"e", "hunter2", "a b", "p@ss/w:rd?#", "it's", `back\slash`, "xxxxx", "ünï"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, pw string) {
		if len(pw) < 3 || strings.ContainsRune(pw, 0) {
			return
		}
		kvQuoted := "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(pw) + "'"
		for _, tmpl := range [][2]string{
			{"postgres://user:", "@db.example:5432/app?sslmode=disable"},
			{"postgres://user@db.example/app?password=", "&sslmode=disable"},
			{"host=db.example user=app password=", " dbname=app"},
		} {
			secret := url.QueryEscape(pw)
			if strings.HasPrefix(tmpl[0], "host=") {
				secret = kvQuoted
			}
			dsn := tmpl[0] + secret + tmpl[1]
			got := RedactDSN(dsn)
			// ("xx " is "xxxxx dbname": the mask beside the text after it.)
			if strings.Contains(tmpl[0]+tmpl[1]+mask+"(invalid connection string: ", pw) || strings.Contains(mask+tmpl[1], pw) {
				continue // the password is also ordinary text of the string
			}
			if strings.Contains(got, pw) || strings.Contains(got, secret) {
				t.Fatalf("RedactDSN(%q) = %q shows the password", dsn, got)
			}
		}
	})
}

// Whatever URL pgx accepts, the password pgx reads out of it is what
// RedactDSN masks, and no message-bound part pgx reads (user, host,
// database) holds a piece of a password the way our reading has it: the
// two readings of one string never differ where a message would print.
func FuzzRedactMatchesPgx(f *testing.F) {
	for _, s := range []string{
		"postgres://u:hun@ter2@127.0.0.1:1/b", "postgres://db?password=Sekr1t%20Tail@127.0.0.1:1", "postgres://u:p%40ss@h/x",
		"postgres://u:Sekr1t/Tail@h:5432/", "postgres://u:pw@[::1]:1,[::1]:2/x", "postgres://u:p^w{x}@h/x", "postgres://h/db?password=p@ss",
		"postgresql://%2Fvar%2Frun/db?sslpassword=abc&password=def", "postgres://u:@h/x", "postgres://:pw@h/x",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, dsn string) {
		if !strings.HasPrefix(dsn, "postgres://") && !strings.HasPrefix(dsn, "postgresql://") {
			return
		}
		cfg, err := pgconn.ParseConfig(dsn)
		if err != nil {
			return
		}
		got := RedactDSN(dsn)
		if strings.HasPrefix(got, "(invalid connection string") {
			return // refused: nothing of it is printed
		}
		spans, _ := secretSpans(dsn)
		// The text outside our secrets, raw and decoded: a password that
		// is also ordinary text there (a user named as it) shows anyway.
		var outside []string
		last := 0
		for _, sp := range spans {
			outside = append(outside, dsn[last:sp[0]])
			last = sp[1]
		}
		outside = append(outside, dsn[last:])
		plain := strings.Join(outside, "\x00")
		if dec, err := url.PathUnescape(plain); err == nil {
			plain += "\x00" + dec
		}
		if pw := cfg.Password; len(pw) >= 3 && strings.Trim(pw, "x") != "" && strings.Contains(got, pw) && !strings.Contains(plain, pw) {
			t.Fatalf("RedactDSN(%q) = %q shows pgx's password %q", dsn, got, pw)
		}
		// Our secrets and pgx's agree: its password is one of ours (what
		// we mask beyond it, repeated or differently spelt keys, is safe),
		// and none of ours is in what it prints, the user or the host: a
		// reading that ends the password elsewhere prints the rest there.
		ours := map[string]bool{}
		for _, sp := range spans {
			secret, err := url.PathUnescape(dsn[sp[0]:sp[1]])
			before := dsn[:sp[0]]
			query := strings.HasSuffix(before, "=")
			if err != nil || query && !strings.HasSuffix(before, "?password=") && !strings.HasSuffix(before, "&password=") {
				continue // sslpassword, or a key pgx spells otherwise (we mask PASSWORD= too: safe)
			}
			secret = strings.TrimSpace(secret) // pgx trims a value's spaces; the mask covers them
			ours[secret] = true
			// No piece of it (3 bytes and more, not ordinary text of the
			// string) is in what pgx reads as the user, host or database.
			for k := 0; k+3 <= len(secret); k++ {
				piece := secret[k : k+3]
				if strings.Contains(plain, piece) {
					continue
				}
				for _, part := range []string{cfg.User, cfg.Host, cfg.Database} {
					if strings.Contains(part, piece) {
						t.Fatalf("%q: we mask %q, pgx reads user %q, host %q, database %q (password %q)", dsn, secret, cfg.User, cfg.Host, cfg.Database, cfg.Password)
					}
				}
			}
		}
		if pw := strings.TrimSpace(cfg.Password); len(pw) >= 3 && !ours[pw] && !strings.Contains(plain, pw) {
			t.Fatalf("%q: pgx reads the password %q, which we do not mask (%q)", dsn, cfg.Password, got)
		}
	})
}
