package client

import (
	"net/netip"
	"strings"
	"unicode/utf8"
)

// NormalizeEmail validates an address as Django's EmailValidator does and
// returns it as stored: the local part as given, the domain lower-cased
// (Django's normalize_email does the same). The back office validates
// with Django: an address it rejects (user@-example.com, üser@example.com,
// user@exam_ple.com, user@example.c, a 64-character label) must not be
// stored by the tool either. Django's domain rules changed in January
// 2025 (ticket 36014: Unicode labels checked by DomainNameValidator's
// patterns instead of an IDNA 2003 punycode retry); a domain is accepted
// only when both rule sets accept it, so the address is valid whichever
// release (4.2 LTS, 5.2 LTS, later) the back office runs.
//
// Beyond Django, the tool refuses what the column cannot hold (more than
// 254 characters, Django's own EmailField max_length) and control or
// bidirectional-override characters (CheckText), which Django's quoted
// local part and Unicode domain labels would let through.
func NormalizeEmail(s string) (string, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return "", Refused("invalid email: empty")
	}
	if !utf8.ValidString(s) {
		return "", Refused("invalid email: not valid UTF-8")
	}
	if err := CheckText("email", s, 254); err != nil {
		return "", err
	}
	if why := djangoEmailProblem(s); why != "" {
		return "", Refused("invalid email %q: %s", clip(s), why)
	}
	at := strings.LastIndex(s, "@")
	return s[:at] + "@" + pyLower(s[at+1:]), nil
}

// djangoEmailProblem is django.core.validators.EmailValidator.__call__:
// "" when Django accepts v, else what is wrong with it.
func djangoEmailProblem(v string) string {
	if v == "" || !strings.Contains(v, "@") {
		return "want local@domain"
	}
	if utf8.RuneCountInString(v) > 320 {
		return "longer than 320 characters"
	}
	at := strings.LastIndex(v, "@") // value.rsplit("@", 1)
	user, domain := v[:at], v[at+1:]
	if !djangoUserPart(user) {
		return "the part before @ must be dot-separated letters a-z, digits and !#$%&'*+/=?^_`{|}~- (or a quoted string)"
	}
	if !djangoDomain(domain) {
		return "the domain must be host name labels of letters, digits and inner hyphens (at most 63 characters each) and a top-level part of at least 2 letters"
	}
	return ""
}

// djangoDomain is EmailValidator's domain check: the allowlist
// (localhost), an address literal, or a host name that both Django's
// rule sets accept.
func djangoDomain(d string) bool {
	if d == "localhost" || djangoLiteral(d) {
		return true
	}
	// Django 4.2: the ASCII pattern, else the same on the IDNA form.
	old := djangoASCIIHost(d)
	if !old {
		ace, ok := idnaToASCII(d)
		old = ok && (djangoASCIIHost(ace) || djangoLiteral(ace))
	}
	return old && djangoUnicodeHost(d)
}

// djangoLetter is [A-Z] under Python's re.IGNORECASE on a str pattern:
// the 52 ASCII letters and four more that case-fold onto them (İ, ı, ſ
// and the Kelvin sign K), as Python's documentation of re says.
func djangoLetter(r rune) bool {
	return (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z') || r == 0x130 || r == 0x131 || r == 0x17f || r == 0x212a
}

func djangoDigit(r rune) bool { return r >= '0' && r <= '9' }

// djangoUserPart is EmailValidator.user_regex: a dot-atom
// ^[-!#$%&'*+/=?^_`{}|~0-9A-Z]+(\.[-!#$%&'*+/=?^_`{}|~0-9A-Z]+)*\Z or a
// quoted string ^"([\001-\010\013\014\016-\037!#-\[\]-\177]|\\[\001-\011\013\014\016-\177])*"\Z.
func djangoUserPart(u string) bool {
	if len(u) >= 2 && u[0] == '"' && u[len(u)-1] == '"' && quotedOK(u[1:len(u)-1]) {
		return true
	}
	if u == "" {
		return false
	}
	for _, atom := range strings.Split(u, ".") {
		if atom == "" {
			return false
		}
		for _, r := range atom {
			if !djangoLetter(r) && !djangoDigit(r) && !strings.ContainsRune("-!#$%&'*+/=?^_`{}|~", r) {
				return false
			}
		}
	}
	return true
}

// quotedOK is the inside of the quoted-string alternative.
func quotedOK(s string) bool {
	qtext := func(r rune) bool {
		return (r >= 0x01 && r <= 0x08) || r == 0x0b || r == 0x0c || (r >= 0x0e && r <= 0x1f) || r == '!' ||
			(r >= '#' && r <= '[') || (r >= ']' && r <= 0x7f) || djangoLetter(r)
	}
	pair := func(r rune) bool {
		return (r >= 0x01 && r <= 0x09) || r == 0x0b || r == 0x0c || (r >= 0x0e && r <= 0x7f) || djangoLetter(r)
	}
	rs := []rune(s)
	for i := 0; i < len(rs); i++ {
		switch {
		case rs[i] == '\\' && i+1 < len(rs) && pair(rs[i+1]):
			i++
		case rs[i] != '\\' && qtext(rs[i]):
		default:
			// A backslash (0x5c) is in neither qtext range: only a quoted
			// pair may hold one.
			return false
		}
	}
	return true
}

// djangoLiteral is literal_regex \[([A-F0-9:.]+)\]\Z (case ignored)
// holding an IPv4 or IPv6 address (validate_ipv46_address).
func djangoLiteral(d string) bool {
	if !strings.HasPrefix(d, "[") || !strings.HasSuffix(d, "]") {
		return false
	}
	ip := d[1 : len(d)-1]
	if ip == "" || strings.Trim(ip, "0123456789abcdefABCDEF:.") != "" {
		return false
	}
	a, err := netip.ParseAddr(ip)
	return err == nil && a.Zone() == ""
}

// djangoASCIIHost is Django 4.2's domain_regex
// ((?:[A-Z0-9](?:[A-Z0-9-]{0,61}[A-Z0-9])?\.)+)(?:[A-Z0-9-]{2,63}(?<!-))\Z
// (case ignored): labels of letters and digits with inner hyphens, then a
// top-level part of 2 to 63 letters, digits or hyphens not ending in one.
func djangoASCIIHost(d string) bool {
	alnum := func(r rune) bool { return djangoLetter(r) || djangoDigit(r) }
	labels := strings.Split(d, ".")
	if len(labels) < 2 {
		return false
	}
	for _, l := range labels[:len(labels)-1] {
		if !hostLabel(l, alnum) {
			return false
		}
	}
	tld := []rune(labels[len(labels)-1])
	if len(tld) < 2 || len(tld) > 63 || tld[len(tld)-1] == '-' {
		return false
	}
	for _, r := range tld {
		if !alnum(r) && r != '-' {
			return false
		}
	}
	return true
}

// djangoUnicodeHost is the newer domain_regex, built from
// DomainNameValidator's hostname_re, domain_re and tld_no_fqdn_re, where
// a "letter" is a-z or anything in U+00A1-U+FFFF: labels of 1 to 63 such
// letters, digits and inner hyphens, then a top-level part of 2 to 63
// letters and inner hyphens (no digits), or xn-- and 1 to 59 letters or
// digits.
func djangoUnicodeHost(d string) bool {
	letter := func(r rune) bool { return djangoLetter(r) || (r >= 0xa1 && r <= 0xffff) }
	labels := strings.Split(d, ".")
	if len(labels) < 2 {
		return false
	}
	for _, l := range labels[:len(labels)-1] {
		if !hostLabel(l, func(r rune) bool { return letter(r) || djangoDigit(r) }) {
			return false
		}
	}
	tld := labels[len(labels)-1]
	if len(tld) > 4 && strings.EqualFold(tld[:4], "xn--") {
		rest := tld[4:]
		ok := utf8.RuneCountInString(rest) <= 59
		for _, r := range rest {
			ok = ok && (djangoLetter(r) || djangoDigit(r))
		}
		if ok {
			return true
		}
	}
	rs := []rune(tld)
	if len(rs) < 2 || len(rs) > 63 || rs[0] == '-' || rs[len(rs)-1] == '-' {
		return false
	}
	for _, r := range rs {
		if !letter(r) && r != '-' {
			return false
		}
	}
	return true
}

// hostLabel: 1 to 63 characters of ok and hyphens, not starting or
// ending with a hyphen.
func hostLabel(l string, ok func(rune) bool) bool {
	rs := []rune(l)
	if len(rs) == 0 || len(rs) > 63 || rs[0] == '-' || rs[len(rs)-1] == '-' {
		return false
	}
	for _, r := range rs {
		if !ok(r) && r != '-' {
			return false
		}
	}
	return true
}

// pyLower is Python's str.lower, which differs from Go's on one letter a
// domain may hold: İ (U+0130) becomes i + combining dot above.
func pyLower(s string) string {
	return strings.ToLower(strings.ReplaceAll(s, "\u0130", "i\u0307"))
}
