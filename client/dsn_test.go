package client

import (
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

func TestRedactDSN(t *testing.T) {
	cases := map[string]string{
		"postgres://alice:hunter2@db:5432/x":          "postgres://alice:xxxxx@db:5432/x",
		"postgresql://alice:p%40ss@db/x?sslmode=none": "postgresql://alice:xxxxx@db/x?sslmode=none",
		"host=db password=hunter2 user=alice":         "host=db password=xxxxx user=alice",
		"host=db password='hun ter2' user=alice":      "host=db password=xxxxx user=alice",
		"postgres://alice@db/x":                       "postgres://alice@db/x",
	}
	for in, want := range cases {
		if got := RedactDSN(in); got != want {
			t.Errorf("RedactDSN(%q) = %q, want %q", in, got, want)
		}
	}
}

func FuzzScrubNeverLeaks(f *testing.F) {
	f.Add("postgres://u:secret@h/db", "secret")
	f.Add("password=secret host=x", "secret")
	f.Add("error near secret%21", "secret!")
	f.Fuzz(func(t *testing.T, msg, secret string) {
		if len(secret) < 4 || strings.Contains("xxxxx", secret) {
			return
		}
		if strings.Contains(Scrub(msg, secret), secret) {
			t.Fatalf("Scrub(%q, %q) still contains the secret", msg, secret)
		}
	})
}

func TestScrubMalformedDSNs(t *testing.T) {
	cases := []struct{ dsn, msg string }{
		// Unterminated quote: the whole rest of the value is the password.
		{"host=h password='Super Secret1", "cannot parse host=h password='Super Secret1"},
		// A raw @ in a URL password: drivers split at the wrong place.
		{"postgres://rv2:Ab@TopSecretTail@127.0.0.1:5/db", "cannot connect to rv2@TopSecretTail@127.0.0.1:5"},
	}
	for _, c := range cases {
		got := Scrub(c.msg, RawPassword(c.dsn))
		for _, leak := range []string{"Secret1", "TopSecretTail"} {
			if strings.Contains(got, leak) {
				t.Errorf("Scrub(%q) = %q leaks %q", c.msg, got, leak)
			}
		}
		if strings.Contains(RedactDSN(c.dsn), "Secret") {
			t.Errorf("RedactDSN(%q) = %q", c.dsn, RedactDSN(c.dsn))
		}
	}
}
