package client

import (
	"strings"
	"testing"

	"github.com/b2badmin/b2badmin/internal/djangocheck"
)

// Django's own PBKDF2PasswordHasher vectors (DJANGO.md), reproduced exactly.
func TestHashPasswordDjangoVectors(t *testing.T) {
	for _, v := range []struct {
		iter int
		salt string
		want string
	}{
		{1_000_000, "seasalt", "pbkdf2_sha256$1000000$seasalt$r1uLUxoxpP2Ued/qxvmje7UH9PUJBkRrvf9gGPL7Cps="},
		{1_000_000, "seasalt2", "pbkdf2_sha256$1000000$seasalt2$egbhFghgsJVDo5Tpg/k9ZnfbySKQ1UQnBYXhR97a7sk="},
		{870_000, "seasalt", "pbkdf2_sha256$870000$seasalt$wJSpLMQRQz0Dhj/pFpbyjMj71B2gUYp6HJS5AU+32Ac="},
		{1_200_000, "seasalt", "pbkdf2_sha256$1200000$seasalt$6sTlFi4QohxXLuZigqDIUNX8xG9NxrTmV8+flFQdBqE="},
	} {
		got, err := HashPassword("lètmein", v.iter, v.salt)
		if err != nil {
			t.Fatal(err)
		}
		if got != v.want {
			t.Errorf("HashPassword(lètmein, %d, %s) = %s, want %s", v.iter, v.salt, got, v.want)
		}
	}
}

// djangoCheck verifies an encoded password as Django's
// PBKDF2PasswordHasher.verify does, independently of HashPassword.
func djangoCheck(t *testing.T, password, encoded string) bool {
	t.Helper()
	ok, err := djangocheck.Password(password, encoded)
	if err != nil {
		t.Fatal(err)
	}
	return ok
}

func TestIndependentPBKDF2MatchesDjangoVector(t *testing.T) {
	// Guards the checker itself: it must reproduce a Django vector too.
	if !djangoCheck(t, "lètmein", "pbkdf2_sha256$870000$seasalt$wJSpLMQRQz0Dhj/pFpbyjMj71B2gUYp6HJS5AU+32Ac=") {
		t.Fatal("independent PBKDF2 does not reproduce Django's vector")
	}
}

func TestToolHashVerifiesIndependently(t *testing.T) {
	salt := NewSalt()
	enc, err := HashPassword("correct horse battery", 20_000, salt)
	if err != nil {
		t.Fatal(err)
	}
	if !djangoCheck(t, "correct horse battery", enc) {
		t.Fatalf("independent check rejects %s", enc)
	}
	if djangoCheck(t, "correct horse batterx", enc) {
		t.Fatal("independent check accepts a wrong password")
	}
	if p := strings.Split(enc, "$"); len(p[3]) != 44 {
		t.Fatalf("hash part %q: want 44 base64 characters", p[3])
	}
}

func TestSaltAndUnusable(t *testing.T) {
	isAlnum := func(s string) bool {
		for _, r := range s {
			if !strings.ContainsRune(saltAlphabet, r) {
				return false
			}
		}
		return true
	}
	seen := map[string]bool{}
	for i := 0; i < 200; i++ {
		s := NewSalt()
		if len(s) != 22 || !isAlnum(s) || seen[s] {
			t.Fatalf("bad or repeated salt %q", s)
		}
		seen[s] = true
		u := UnusablePassword()
		if len(u) != 41 || u[0] != '!' || !isAlnum(u[1:]) {
			t.Fatalf("bad unusable password %q", u)
		}
	}
}

func TestPasswordPolicy(t *testing.T) {
	for pw, ok := range map[string]bool{"": false, "short": false, "1234567": false, "12345678": true, "lètmein!": true, "\xff\xfe12345678": false, strings.Repeat("a", 4097): false} {
		if err := CheckPasswordPolicy(pw); (err == nil) != ok {
			t.Errorf("CheckPasswordPolicy(%q) = %v, want ok=%v", pw, err, ok)
		} else if err != nil && !IsRefused(err) {
			t.Errorf("CheckPasswordPolicy(%q): %v is not a refusal", pw, err)
		}
	}
}
