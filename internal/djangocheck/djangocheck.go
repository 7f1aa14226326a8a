// Package djangocheck verifies passwords the way Django's
// PBKDF2PasswordHasher does, with PBKDF2-HMAC-SHA256 written here from
// crypto/hmac alone, so that tests of the tool's hashing (which uses the
// standard library's crypto/pbkdf2) cannot share a bug with it.
package djangocheck

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"strconv"
	"strings"
)

// Password reports whether encoded (pbkdf2_sha256$<iter>$<salt>$<b64>)
// is password's hash; an encoded value of another shape is an error.
func Password(password, encoded string) (bool, error) {
	p := strings.Split(encoded, "$")
	if len(p) != 4 || p[0] != "pbkdf2_sha256" {
		return false, fmt.Errorf("not a Django pbkdf2_sha256 hash: %q", encoded)
	}
	iter, err := strconv.Atoi(p[1])
	if err != nil || iter < 1 {
		return false, fmt.Errorf("bad iteration count in %q", encoded)
	}
	want := base64.StdEncoding.EncodeToString(pbkdf2Block([]byte(password), []byte(p[2]), iter))
	return hmac.Equal([]byte(want), []byte(p[3])), nil
}

// pbkdf2Block is RFC 8018 PBKDF2 with HMAC-SHA256 for one 32-byte block,
// all Django needs.
func pbkdf2Block(password, salt []byte, iter int) []byte {
	mac := hmac.New(sha256.New, password)
	mac.Write(salt)
	mac.Write(binary.BigEndian.AppendUint32(nil, 1))
	u := mac.Sum(nil)
	out := append([]byte(nil), u...)
	for i := 1; i < iter; i++ {
		mac.Reset()
		mac.Write(u)
		u = mac.Sum(u[:0])
		for j := range out {
			out[j] ^= u[j]
		}
	}
	return out
}
