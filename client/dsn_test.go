package client

import (
	"net/url"
	"strings"
	"testing"
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
		"parse \"postgres://u:e@h:x/db\": invalid port":                                "parse \"(connection string)\": invalid port",
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
			if strings.Contains(tmpl[0]+tmpl[1]+mask+"(invalid connection string: ", pw) {
				continue // the password is also ordinary text of the string
			}
			if strings.Contains(got, pw) || strings.Contains(got, secret) {
				t.Fatalf("RedactDSN(%q) = %q shows the password", dsn, got)
			}
		}
	})
}
