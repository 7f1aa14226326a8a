// Package totp implements RFC 6238 time-based one-time passwords the way
// django-otp's TOTPDevice does (HMAC-SHA1, key stored as hex, step, t0,
// digits, tolerance, drift, last_t), so that a device b2badmin creates
// works with any authenticator app and with the Django side alike.
package totp

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha1"
	"crypto/subtle"
	"encoding/base32"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"strings"
	"time"
)

// KeySize is django-otp's default_key length: 20 random bytes (160 bits,
// the HMAC-SHA1 block-size recommendation of RFC 4226).
const KeySize = 20

// Device holds the fields of otp_totp_totpdevice that verification needs.
type Device struct {
	KeyHex    string
	Step      int64 // seconds, 30
	T0        int64 // Unix time of step 0, 0
	Digits    int   // 6
	Tolerance int64 // steps accepted either side of now, 1
	Drift     int64 // steps the device's clock is known to be off, 0
	LastT     int64 // last accepted step, -1 when none; replays are refused
}

// NewKeyHex returns a fresh random key in django-otp's storage form
// (lower-case hex of KeySize bytes).
func NewKeyHex() (string, error) {
	b := make([]byte, KeySize)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("totp: random key: %w", err)
	}
	return hex.EncodeToString(b), nil
}

// HOTP is RFC 4226's value for counter with digits digits.
func HOTP(key []byte, counter uint64, digits int) string {
	var msg [8]byte
	binary.BigEndian.PutUint64(msg[:], counter)
	m := hmac.New(sha1.New, key)
	m.Write(msg[:])
	sum := m.Sum(nil)
	off := sum[len(sum)-1] & 0x0f
	bin := binary.BigEndian.Uint32(sum[off:off+4]) & 0x7fffffff
	mod := uint32(1)
	for i := 0; i < digits; i++ {
		mod *= 10
	}
	return fmt.Sprintf("%0*d", digits, bin%mod)
}

// T is the device's time step at now (django-otp's TOTP.t(), drift included).
func (d Device) T(now time.Time) int64 {
	step := d.Step
	if step <= 0 {
		step = 30
	}
	return floorDiv(now.Unix()-d.T0, step) + d.Drift
}

// CodeAt is the code the device shows at time step t.
func (d Device) CodeAt(t int64) (string, error) {
	key, err := hex.DecodeString(d.KeyHex)
	if err != nil {
		return "", fmt.Errorf("totp: key is not hex: %w", err)
	}
	if t < 0 {
		return "", fmt.Errorf("totp: negative time step %d", t)
	}
	return HOTP(key, uint64(t), d.digits()), nil
}

// Verify reports whether code is valid at now within the tolerance, and the
// matching step (which a caller that records use stores as last_t). Steps
// at or before LastT are refused, as django-otp does, so a code is single-use.
func (d Device) Verify(code string, now time.Time) (bool, int64) {
	code = strings.TrimSpace(code)
	if len(code) != d.digits() {
		return false, 0
	}
	t := d.T(now)
	for off := -d.Tolerance; off <= d.Tolerance; off++ {
		s := t + off
		if s < 0 || s <= d.LastT {
			continue
		}
		want, err := d.CodeAt(s)
		if err != nil {
			return false, 0
		}
		if subtle.ConstantTimeCompare([]byte(want), []byte(code)) == 1 {
			return true, s
		}
	}
	return false, 0
}

func (d Device) digits() int {
	if d.Digits <= 0 {
		return 6
	}
	return d.Digits
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if (a%b != 0) && ((a < 0) != (b < 0)) {
		q--
	}
	return q
}

// Base32Secret is the key as authenticator apps take it: RFC 4648 base32
// of the key bytes, upper case, without padding (what django-otp emits).
func Base32Secret(keyHex string) (string, error) {
	key, err := hex.DecodeString(keyHex)
	if err != nil {
		return "", fmt.Errorf("totp: key is not hex: %w", err)
	}
	return base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(key), nil
}

// ProvisioningURI is django-otp's TOTPDevice.config_url for a device with
// step 30 and 6 digits:
//
//	otpauth://totp/<quote(issuer:username)>?secret=…&algorithm=SHA1&digits=6&period=30&issuer=<quote(issuer)>
//
// quote is Python's urllib.parse.quote: the label keeps '/', the query
// values (urlencode with quote_via=quote) escape it.
func ProvisioningURI(d Device, issuer, username string) (string, error) {
	secret, err := Base32Secret(d.KeyHex)
	if err != nil {
		return "", err
	}
	step := d.Step
	if step <= 0 {
		step = 30
	}
	label := username
	if issuer != "" {
		issuer = strings.ReplaceAll(issuer, ":", "")
		label = issuer + ":" + username
	}
	var b strings.Builder
	b.WriteString("otpauth://totp/")
	b.WriteString(pyQuote(label, "/"))
	b.WriteString("?secret=")
	b.WriteString(pyQuote(secret, ""))
	b.WriteString("&algorithm=SHA1")
	fmt.Fprintf(&b, "&digits=%d&period=%d", d.digits(), step)
	if issuer != "" {
		b.WriteString("&issuer=")
		b.WriteString(pyQuote(issuer, ""))
	}
	return b.String(), nil
}

// pyQuote is urllib.parse.quote(s, safe): letters, digits, "_.-~" and the
// safe characters stay, every other UTF-8 byte becomes %XX (upper case).
func pyQuote(s, safe string) string {
	const hexdig = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'A' && c <= 'Z', c >= 'a' && c <= 'z', c >= '0' && c <= '9',
			c == '_', c == '.', c == '-', c == '~',
			c < 0x80 && strings.IndexByte(safe, c) >= 0:
			b.WriteByte(c)
		default:
			b.WriteByte('%')
			b.WriteByte(hexdig[c>>4])
			b.WriteByte(hexdig[c&15])
		}
	}
	return b.String()
}
