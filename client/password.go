package client

import (
	"context"
	"crypto/pbkdf2"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"strings"
	"unicode/utf8"
)

// Password policy and Django's hasher parameters (DJANGO.md).
const (
	// DefaultIterations is Django 5.2 LTS's PBKDF2 count; Django re-hashes
	// to its own default at the next login, so any count verifies.
	DefaultIterations = 1_000_000
	// MinDjangoIterations is the lowest default of a supported Django
	// (4.2 LTS): fewer is a weaker hash than any Django would store.
	MinDjangoIterations = 600_000
	MinPasswordLength   = 8
	// MaxPasswordLength is Django's MAXIMUM_PASSWORD_LENGTH.
	MaxPasswordLength = 4096
)

const saltAlphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"

// randomAlnum returns n characters from [a-zA-Z0-9] drawn from crypto/rand
// without modulo bias (bytes ≥ 248 = 4×62 are redrawn).
func randomAlnum(n int) string {
	out := make([]byte, 0, n)
	buf := make([]byte, n+16)
	for len(out) < n {
		if _, err := rand.Read(buf); err != nil {
			panic("crypto/rand: " + err.Error()) // cannot happen on Linux since Go 1.24
		}
		for _, b := range buf {
			if b < 248 && len(out) < n {
				out = append(out, saltAlphabet[b%62])
			}
		}
	}
	return string(out)
}

// NewSalt is a fresh Django-style salt: 22 characters of [a-zA-Z0-9] (~131 bits).
func NewSalt() string { return randomAlnum(22) }

// UnusablePassword is what Django's set_unusable_password stores: "!" and
// 40 random characters, which no password ever hashes to.
func UnusablePassword() string { return "!" + randomAlnum(40) }

// CheckPasswordPolicy refuses passwords Django would refuse or that are
// too short to be a password at all (exit 4).
func CheckPasswordPolicy(pw string) error {
	if !utf8.ValidString(pw) {
		return Refused("refused: the password is not valid UTF-8")
	}
	if n := utf8.RuneCountInString(pw); n < MinPasswordLength {
		return Refused("refused: the password is too short (%d characters; at least %d)", n, MinPasswordLength)
	}
	if len(pw) > MaxPasswordLength {
		return Refused("refused: the password is longer than %d bytes", MaxPasswordLength)
	}
	return nil
}

// HashPassword encodes password exactly as Django's PBKDF2PasswordHasher:
// pbkdf2_sha256$<iterations>$<salt>$<base64 of 32 bytes of PBKDF2-HMAC-SHA256>.
func HashPassword(password string, iterations int, salt string) (string, error) {
	if iterations < 1 {
		return "", Refused("refused: --iterations must be positive")
	}
	if salt == "" || strings.Contains(salt, "$") {
		return "", fmt.Errorf("invalid salt: empty or contains $")
	}
	key, err := pbkdf2.Key(sha256.New, password, []byte(salt), iterations, sha256.Size)
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("pbkdf2_sha256$%d$%s$%s", iterations, salt, base64.StdEncoding.EncodeToString(key)), nil
}

// SetPassword stores an already encoded password (HashPassword) for one
// user. The log records that the password changed and whether it is
// usable, never the hash. Django sessions need no deleting: each holds an
// HMAC of the old hash and is flushed on the next request (DJANGO.md).
func (c *Client) SetPassword(ctx context.Context, a Audit, ref, encoded string, o ChangeOptions) (ChangeResult, error) {
	return c.setPasswords(ctx, a, Targets{Refs: []string{ref}}, func() string { return encoded }, o)
}

// SetUnusablePasswords gives every target a fresh unusable password of its
// own (the bulk "nobody logs in with a password any more" of an offboarding).
func (c *Client) SetUnusablePasswords(ctx context.Context, a Audit, t Targets, o ChangeOptions) (ChangeResult, error) {
	return c.setPasswords(ctx, a, t, UnusablePassword, o)
}

func (c *Client) setPasswords(ctx context.Context, a Audit, t Targets, next func() string, o ChangeOptions) (ChangeResult, error) {
	return c.runChange(ctx, a, o, changeSpec{action: "users.set-password", targets: t, plan: func(p *planner) error {
		ids := make([]int64, len(p.users))
		encoded := make([]string, len(p.users))
		for i, u := range p.users {
			ids[i], encoded[i] = u.ID, next()
			if i > 0 && encoded[i] == encoded[0] {
				return Refused("refused: one password for several users")
			}
			p.change(u, map[string]any{"password": usableWord(u.Usable)},
				map[string]any{"password": "changed, " + usableWord(!strings.HasPrefix(encoded[i], "!"))})
		}
		p.loses("the previous password (no hash is ever logged)")
		const q = `UPDATE rbac_user u SET password = t.pw FROM unnest($1::bigint[], $2::text[]) AS t(id, pw) WHERE u.id = t.id`
		p.writes.exec(q, ids, encoded)
		return nil
	}})
}

func usableWord(usable bool) string {
	if usable {
		return "usable"
	}
	return "unusable"
}
