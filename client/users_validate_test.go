package client

import (
	"net/netip"
	"strings"
	"testing"
)

func TestNormalizeEmail(t *testing.T) {
	good := map[string]string{
		"alice@example.com":       "alice@example.com",
		" Bob.Smith@Example.COM ": "Bob.Smith@example.com",
		"a+tag@sub.example.org":   "a+tag@sub.example.org",
		// Django accepts these (its allowlist, address literals, IDN domains).
		"alice@localhost": "alice@localhost",
		"x@[127.0.0.1]":   "x@[127.0.0.1]",
		"zoe@Bücher.DE":   "zoe@bücher.de",
	}
	for in, want := range good {
		got, err := NormalizeEmail(in)
		if err != nil || got != want {
			t.Errorf("NormalizeEmail(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, in := range []string{"", "alice", "alice@", "@example.com", "Alice <alice@example.com>",
		"alice@example.com, bob@example.com", "a b@example.com", "alice@.com", "alice@example.", "\xffa@example.com",
		strings.Repeat("a", 250) + "@example.com", "user@-example.com", "üser@example.com", "user@exam_ple.com", "user@example.c",
		"user@" + strings.Repeat("a", 64) + ".com", "bob@ex\u202eample.com"} {
		if got, err := NormalizeEmail(in); err == nil || !IsRefused(err) {
			t.Errorf("NormalizeEmail(%q) = %q, %v; want a refusal", in, got, err)
		}
	}
}

func TestNormalizePhone(t *testing.T) {
	good := map[string]string{
		"+442079460958":      "+442079460958",
		"+44 (20) 7946-0958": "+442079460958",
		"+1.415.555.2671":    "+14155552671",
		"":                   "",
		"+12345678":          "+12345678",
		"+123456789012345":   "+123456789012345",
	}
	for in, want := range good {
		got, err := NormalizePhone(in)
		if err != nil || got != want {
			t.Errorf("NormalizePhone(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, in := range []string{"442079460958", "+1234567", "+1234567890123456", "+0442079460958", "+44 20 79x6 0958", "++442079460958", "+44/2079460958", "+"} {
		if got, err := NormalizePhone(in); err == nil || !IsRefused(err) {
			t.Errorf("NormalizePhone(%q) = %q, %v; want a refusal", in, got, err)
		}
	}
}

func TestNormalizeIPWhiteList(t *testing.T) {
	good := map[string]string{
		"":                                      "",
		"  ":                                    "",
		"10.0.0.1":                              "10.0.0.1",
		"10.1.2.3/8, 192.168.1.10":              "10.0.0.0/8,192.168.1.10",
		"2001:DB8:0:0:0:0:0:1,2001:db8::1":      "2001:db8::1",
		"::ffff:1.2.3.4, ::ffff:10.0.0.0/104":   "1.2.3.4,10.0.0.0/8",
		"2001:db8::ff/32,1.1.1.1/32,1.1.1.1/32": "2001:db8::/32,1.1.1.1/32",
		" 203.0.113.7 ,198.51.100.0/24 ":        "203.0.113.7,198.51.100.0/24",
	}
	for in, want := range good {
		got, err := NormalizeIPWhiteList(in)
		if err != nil || got != want {
			t.Errorf("NormalizeIPWhiteList(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, in := range []string{"10.0.0.256", "10.0.0.1/33", "1.2.3.4,", ",1.2.3.4", "example.com", "fe80::1%eth0", "1.2.3.4/-1",
		"010.0.0.1", "1.2.3.4; DROP TABLE rbac_user", "2001:db8::/129", "\xff"} {
		if got, err := NormalizeIPWhiteList(in); err == nil || !IsRefused(err) {
			t.Errorf("NormalizeIPWhiteList(%q) = %q, %v; want a refusal", in, got, err)
		}
	}
}

// FuzzNormalizeIPWhiteList: whatever the input, the result is refused or
// a canonical list that normalises to itself and parses entry by entry.
func FuzzNormalizeIPWhiteList(f *testing.F) {
	for _, s := range []string{"10.0.0.1", "10.1.2.3/8,2001:db8::1", "::ffff:1.2.3.4", "", "a,b", "fe80::1%eth0", "1.2.3.4/32,1.2.3.4/32"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		out, err := NormalizeIPWhiteList(in)
		if err != nil {
			if !IsRefused(err) || strings.Contains(err.Error(), "\n") {
				t.Fatalf("error %q is not a one-line refusal", err)
			}
			return
		}
		again, err := NormalizeIPWhiteList(out)
		if err != nil || again != out {
			t.Fatalf("not idempotent: %q -> %q -> %q, %v", in, out, again, err)
		}
		if out == "" {
			return
		}
		for _, e := range strings.Split(out, ",") {
			if strings.Contains(e, "/") {
				p, err := netip.ParsePrefix(e)
				if err != nil || p != p.Masked() {
					t.Fatalf("entry %q of %q is not a masked prefix", e, out)
				}
			} else if _, err := netip.ParseAddr(e); err != nil {
				t.Fatalf("entry %q of %q does not parse", e, out)
			}
		}
	})
}

func TestNormalizeLanguageAndName(t *testing.T) {
	if got, err := NormalizeLanguage("language", " DE "); err != nil || got != "de" {
		t.Errorf("NormalizeLanguage(DE) = %q, %v", got, err)
	}
	if _, err := NormalizeLanguage("language", "xx"); !IsRefused(err) {
		t.Errorf("NormalizeLanguage(xx) = %v, want refusal", err)
	}
	if _, err := NormalizeName("first name", "Ann\x00"); !IsRefused(err) {
		t.Errorf("control character accepted: %v", err)
	}
	if _, err := NormalizeName("first name", strings.Repeat("é", 151)); !IsRefused(err) {
		t.Errorf("151 characters accepted: %v", err)
	}
	if got, err := NormalizeName("first name", " Zoë "); err != nil || got != "Zoë" {
		t.Errorf("NormalizeName(Zoë) = %q, %v", got, err)
	}
}
