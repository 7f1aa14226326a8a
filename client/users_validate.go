package client

import (
	"net/netip"
	"strings"
	"unicode/utf8"

	"github.com/b2badmin/b2badmin/client/catalog"
)

// NormalizePhone validates an E.164 number: "+", then 8 to 15 digits, the
// first not 0. Spaces, dots, dashes and parentheses are dropped first, so
// "+44 (20) 7946-0958" is accepted as "+442079460958". "" clears the phone.
func NormalizePhone(s string) (string, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return "", nil
	}
	var b strings.Builder
	for _, r := range s {
		switch r {
		case ' ', '.', '-', '(', ')':
			continue
		}
		b.WriteRune(r)
	}
	n := b.String()
	ok := len(n) >= 9 && len(n) <= 16 && n[0] == '+' && n[1] != '0'
	for i := 1; ok && i < len(n); i++ {
		ok = n[i] >= '0' && n[i] <= '9'
	}
	if !ok {
		return "", Refused("invalid phone %q: want E.164, + then 8 to 15 digits (e.g. +442079460958)", clip(s))
	}
	return n, nil
}

// NormalizeIPWhiteList validates a comma-separated list of IPv4/IPv6
// addresses and CIDR prefixes and returns it in canonical form:
//   - addresses in net/netip's canonical text (IPv6 compressed and
//     lower-case, IPv4-mapped IPv6 unmapped to IPv4);
//   - a prefix is masked to its network (10.1.2.3/8 → 10.0.0.0/8): a white
//     list entry means the whole network anyway, and storing the network
//     says so plainly;
//   - duplicates dropped, order kept, joined with "," (no spaces).
//
// Zones (fe80::1%eth0) are refused: they mean nothing off the host.
// An empty or blank string clears the list.
func NormalizeIPWhiteList(s string) (string, error) {
	if strings.TrimSpace(s) == "" {
		return "", nil
	}
	if !utf8.ValidString(s) {
		return "", Refused("invalid IP white list: not valid UTF-8")
	}
	var out []string
	seen := map[string]bool{}
	for i, part := range strings.Split(s, ",") {
		e := strings.TrimSpace(part)
		if e == "" {
			return "", Refused("invalid IP white list: entry %d is empty", i+1)
		}
		var canon string
		if strings.Contains(e, "/") {
			p, err := netip.ParsePrefix(e)
			if err != nil || p.Addr().Zone() != "" {
				return "", Refused("invalid IP white list entry %q: want an IPv4/IPv6 address or CIDR (e.g. 10.0.0.0/8)", clip(e))
			}
			if p.Addr().Is4In6() && p.Bits() >= 96 {
				p = netip.PrefixFrom(p.Addr().Unmap(), p.Bits()-96)
			}
			canon = p.Masked().String()
		} else {
			a, err := netip.ParseAddr(e)
			if err != nil || a.Zone() != "" {
				return "", Refused("invalid IP white list entry %q: want an IPv4/IPv6 address or CIDR (e.g. 10.0.0.0/8)", clip(e))
			}
			canon = a.Unmap().String()
		}
		if !seen[canon] {
			seen[canon] = true
			out = append(out, canon)
		}
	}
	return strings.Join(out, ","), nil
}

// NormalizeLanguage checks a language code against the supported list.
func NormalizeLanguage(flag, s string) (string, error) {
	code := strings.ToLower(strings.TrimSpace(s))
	if !catalog.ValidLanguage(code) {
		return "", Refused("invalid %s %q: supported are %s", flag, clip(s), strings.Join(catalog.Languages, ", "))
	}
	return code, nil
}

// NormalizeName checks a first or last name: valid UTF-8, at most 150
// characters (the column's size), no control or bidirectional-override
// characters (CheckText: one definition for every free-text value; a name
// holding U+202E displays as something else). "" is allowed.
func NormalizeName(flag, s string) (string, error) {
	s = strings.TrimSpace(s)
	if err := CheckText(flag, s, 150); err != nil {
		return "", err
	}
	return s, nil
}

// clip keeps error messages one readable line however long the input.
func clip(s string) string {
	s = strings.ToValidUTF8(s, "?")
	if utf8.RuneCountInString(s) > 80 {
		return string([]rune(s)[:77]) + "..."
	}
	return s
}
