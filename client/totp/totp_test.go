package totp

import (
	"encoding/base32"
	"encoding/hex"
	"strings"
	"testing"
	"time"
)

// The DJANGO.md vector: key 2a2bbba1…, HMAC-SHA1, step 30, 6 digits, steps 0…9.
func TestDjangoOTPVector(t *testing.T) {
	d := Device{KeyHex: "2a2bbba1092ffdd25a328ad1a0a5f5d61d7aacc4", Step: 30, Digits: 6, Tolerance: 1, LastT: -1}
	want := strings.Fields("179225 656163 839400 154567 346912 471576 045675 101397 491039 784503")
	for step, w := range want {
		got, err := d.CodeAt(int64(step))
		if err != nil {
			t.Fatal(err)
		}
		if got != w {
			t.Errorf("step %d: got %s, want %s", step, got, w)
		}
		// The same code through the time-based path: the middle of the step.
		at := time.Unix(int64(step)*30+15, 0)
		if ok, s := d.Verify(w, at); !ok || s != int64(step) {
			t.Errorf("Verify(%s at step %d) = %v, %d", w, step, ok, s)
		}
	}
}

// RFC 6238 appendix B, SHA-1, 8 digits, seed "12345678901234567890".
func TestRFC6238Vectors(t *testing.T) {
	d := Device{KeyHex: hex.EncodeToString([]byte("12345678901234567890")), Step: 30, Digits: 8}
	for _, c := range []struct {
		unix int64
		code string
	}{{59, "94287082"}, {1111111109, "07081804"}, {1111111111, "14050471"}, {1234567890, "89005924"}, {2000000000, "69279037"}, {20000000000, "65353130"}} {
		got, _ := d.CodeAt(d.T(time.Unix(c.unix, 0)))
		if got != c.code {
			t.Errorf("t=%d: got %s, want %s", c.unix, got, c.code)
		}
	}
}

func TestProvisioningURIDjangoExample(t *testing.T) {
	d := Device{KeyHex: "3132333435363738393031323334353637383930", Step: 30, Digits: 6}
	got, err := ProvisioningURI(d, "Acme Pay", "alice@example.com")
	if err != nil {
		t.Fatal(err)
	}
	want := "otpauth://totp/Acme%20Pay%3Aalice%40example.com?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&algorithm=SHA1&digits=6&period=30&issuer=Acme%20Pay"
	if got != want {
		t.Fatalf("URI\n got %s\nwant %s", got, want)
	}
}

func TestVerifyToleranceAndReplay(t *testing.T) {
	key, err := NewKeyHex()
	if err != nil {
		t.Fatal(err)
	}
	if len(key) != 40 {
		t.Fatalf("key %q is not 40 hex characters", key)
	}
	// A fixed key keeps the test deterministic (a random one could collide).
	d := Device{KeyHex: "2a2bbba1092ffdd25a328ad1a0a5f5d61d7aacc4", Step: 30, Digits: 6, Tolerance: 1, LastT: -1}
	now := time.Unix(1_800_000_000, 0)
	tNow := d.T(now)
	for off, accept := range map[int64]bool{-2: false, -1: true, 0: true, 1: true, 2: false, 1000: false} {
		code, _ := d.CodeAt(tNow + off)
		if ok, _ := d.Verify(code, now); ok != accept {
			t.Errorf("offset %d: accepted = %v, want %v", off, ok, accept)
		}
	}
	code, _ := d.CodeAt(tNow)
	d.LastT = tNow
	if ok, _ := d.Verify(code, now); ok {
		t.Error("a code of an already used step was accepted again")
	}
	if ok, _ := d.Verify("12345", now); ok {
		t.Error("a 5-digit code was accepted")
	}
}

func TestBase32SecretRoundTrip(t *testing.T) {
	key, _ := NewKeyHex()
	s, err := Base32Secret(key)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(s)
	if err != nil || hex.EncodeToString(raw) != key {
		t.Fatalf("secret %s decodes to %x, %v; want %s", s, raw, err, key)
	}
	if _, err := Base32Secret("zz"); err == nil {
		t.Error("non-hex key accepted")
	}
}

func TestPyQuote(t *testing.T) {
	for in, want := range map[string]string{"a b/c:d@e~f": "a%20b/c%3Ad%40e~f", "é": "%C3%A9"} {
		if got := pyQuote(in, "/"); got != want {
			t.Errorf("pyQuote(%q) = %q, want %q", in, got, want)
		}
	}
	if got := pyQuote("a/b", ""); got != "a%2Fb" {
		t.Errorf("pyQuote without safe = %q", got)
	}
}
