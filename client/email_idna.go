package client

import (
	"strings"
	"unicode/utf8"

	"golang.org/x/text/cases"
	"golang.org/x/text/unicode/bidi"
	"golang.org/x/text/unicode/norm"
)

// idnaToASCII is Python's domain.encode("idna") (IDNA 2003, RFC 3490),
// which Django's punycode() calls: labels split at any of the four full
// stops, each one nameprepped and punycoded, 1 to 63 characters.
func idnaToASCII(domain string) (string, bool) {
	if isASCII(domain) {
		labels := strings.Split(domain, ".")
		for _, l := range labels[:len(labels)-1] {
			if len(l) == 0 || len(l) > 63 {
				return "", false
			}
		}
		return domain, len(labels[len(labels)-1]) < 64
	}
	labels := splitDots(domain)
	trailing := ""
	if n := len(labels); n > 0 && labels[n-1] == "" {
		trailing, labels = ".", labels[:n-1]
	}
	out := make([]string, 0, len(labels))
	for _, l := range labels {
		a, ok := labelToASCII(l)
		if !ok {
			return "", false
		}
		out = append(out, a)
	}
	return strings.Join(out, ".") + trailing, true
}

func splitDots(s string) []string {
	var out []string
	start := 0
	for i, r := range s {
		if r == '.' || r == '\u3002' || r == '\uff0e' || r == '\uff61' {
			out = append(out, s[start:i])
			start = i + utf8.RuneLen(r)
		}
	}
	return append(out, s[start:])
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// labelToASCII is ToASCII of RFC 3490 with UseSTD3ASCIIRules off, as
// Python's encodings.idna implements it.
func labelToASCII(l string) (string, bool) {
	if !isASCII(l) {
		p, ok := nameprep(l)
		if !ok {
			return "", false
		}
		l = p
		if !isASCII(l) {
			if strings.HasPrefix(strings.ToLower(l), "xn--") {
				return "", false
			}
			l = "xn--" + punycode(l)
		}
	}
	return l, len(l) > 0 && len(l) < 64
}

// nameprep is RFC 3491: drop the characters mapped to nothing (B.1), case
// fold (B.2) and NFKC-normalise, then refuse the prohibited characters
// (C.1.2-C.9) and labels breaking the bidi rule (D.1/D.2).
func nameprep(l string) (string, bool) {
	l = strings.Map(func(r rune) rune {
		switch {
		case r == 0xad || r == 0x34f || r == 0x1806 || (r >= 0x180b && r <= 0x180d) || (r >= 0x200b && r <= 0x200d) ||
			r == 0x2060 || (r >= 0xfe00 && r <= 0xfe0f) || r == 0xfeff:
			return -1
		}
		return r
	}, l)
	l = norm.NFKC.String(cases.Fold().String(l))
	randAL, hasL := false, false
	rs := []rune(l)
	for _, r := range rs {
		if nameprepProhibited(r) {
			return "", false
		}
		switch p, _ := bidi.LookupRune(r); p.Class() {
		case bidi.R, bidi.AL:
			randAL = true
		case bidi.L:
			hasL = true
		}
	}
	if randAL {
		first, _ := bidi.LookupRune(rs[0])
		last, _ := bidi.LookupRune(rs[len(rs)-1])
		isRAL := func(c bidi.Class) bool { return c == bidi.R || c == bidi.AL }
		if hasL || !isRAL(first.Class()) || !isRAL(last.Class()) {
			return "", false
		}
	}
	return l, true
}

// nameprepProhibited: RFC 3454 tables C.1.2, C.2.2, C.3 to C.9.
func nameprepProhibited(r rune) bool {
	switch {
	case r == 0xa0 || r == 0x1680 || (r >= 0x2000 && r <= 0x200b) || r == 0x202f || r == 0x205f || r == 0x3000: // C.1.2
		return true
	case (r >= 0x80 && r <= 0x9f) || r == 0x6dd || r == 0x70f || r == 0x180e || r == 0x200c || r == 0x200d ||
		r == 0x2028 || r == 0x2029 || (r >= 0x2060 && r <= 0x2063) || (r >= 0x206a && r <= 0x206f) || r == 0xfeff ||
		(r >= 0xfff9 && r <= 0xfffc) || (r >= 0x1d173 && r <= 0x1d17a): // C.2.2
		return true
	case (r >= 0xe000 && r <= 0xf8ff) || (r >= 0xf0000 && r <= 0xffffd) || (r >= 0x100000 && r <= 0x10fffd): // C.3
		return true
	case (r >= 0xfdd0 && r <= 0xfdef) || r&0xfffe == 0xfffe: // C.4
		return true
	case r >= 0xd800 && r <= 0xdfff: // C.5
		return true
	case r >= 0xfff9 && r <= 0xfffd: // C.6
		return true
	case r >= 0x2ff0 && r <= 0x2ffb: // C.7
		return true
	case r == 0x340 || r == 0x341 || r == 0x200e || r == 0x200f || (r >= 0x202a && r <= 0x202e) || (r >= 0x206a && r <= 0x206f): // C.8
		return true
	case r == 0xe0001 || (r >= 0xe0020 && r <= 0xe007f): // C.9
		return true
	}
	return false
}

// punycode is RFC 3492's encoder (Python's "punycode" codec): the basic
// code points, a "-" when there were any, then the others as deltas.
func punycode(s string) string {
	const (
		base, tmin, tmax, skew, damp = 36, 1, 26, 38, 700
		initialBias, initialN        = 72, 128
	)
	adapt := func(delta, points int, first bool) int {
		if first {
			delta /= damp
		} else {
			delta /= 2
		}
		delta += delta / points
		k := 0
		for delta > ((base-tmin)*tmax)/2 {
			delta /= base - tmin
			k += base
		}
		return k + (base-tmin+1)*delta/(delta+skew)
	}
	digit := func(d int) byte {
		if d < 26 {
			return byte('a' + d)
		}
		return byte('0' + d - 26)
	}
	rs := []rune(s)
	var out []byte
	for _, r := range rs {
		if r < 0x80 {
			out = append(out, byte(r))
		}
	}
	b := len(out)
	h := b
	if b > 0 {
		out = append(out, '-')
	}
	n, delta, bias := initialN, 0, initialBias
	for h < len(rs) {
		m := int(^uint(0) >> 1)
		for _, r := range rs {
			if int(r) >= n && int(r) < m {
				m = int(r)
			}
		}
		delta += (m - n) * (h + 1)
		n = m
		for _, r := range rs {
			if int(r) < n {
				delta++
			}
			if int(r) == n {
				q := delta
				for k := base; ; k += base {
					t := k - bias
					if t < tmin {
						t = tmin
					} else if t > tmax {
						t = tmax
					}
					if q < t {
						break
					}
					out = append(out, digit(t+(q-t)%(base-t)))
					q = (q - t) / (base - t)
				}
				out = append(out, digit(q))
				bias = adapt(delta, h+1, h == b)
				delta = 0
				h++
			}
		}
		delta++
		n++
	}
	return string(out)
}
