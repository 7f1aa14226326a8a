// Package suggest finds the names a mistyped word was probably meant to be:
// one definition of "did you mean" for subcommands, flags and group names,
// so that every typo is answered the same way.
package suggest

import (
	"sort"
	"strings"
	"unicode/utf8"
)

// Closest returns up to n candidates close enough to word to be a
// plausible typo, closest first: an edit distance (case ignored) of at
// most 2, or of a third of the word's length for long words; or a
// candidate that starts with the word (an abbreviation). Ties keep the
// candidates' order.
func Closest(word string, candidates []string, n int) []string {
	w := strings.ToLower(strings.TrimSpace(word))
	if w == "" || !utf8.ValidString(w) || len(w) > 200 {
		return nil
	}
	limit := max(2, utf8.RuneCountInString(w)/3)
	type cand struct {
		name string
		d    int
	}
	var cs []cand
	seen := map[string]bool{}
	for _, c := range candidates {
		lc := strings.ToLower(c)
		if seen[lc] || lc == "" {
			continue
		}
		seen[lc] = true
		d := Distance(w, lc)
		if strings.HasPrefix(lc, w) && len(w) >= 3 {
			d = min(d, 1)
		}
		if d <= limit {
			cs = append(cs, cand{c, d})
		}
	}
	sort.SliceStable(cs, func(i, j int) bool { return cs[i].d < cs[j].d })
	var out []string
	for i := 0; i < len(cs) && i < n; i++ {
		out = append(out, cs[i].name)
	}
	return out
}

// Phrase is " (did you mean X?)" for the closest candidates, quoted by
// quote, or "" when none is close.
func Phrase(word string, candidates []string, quote func(string) string) string {
	s := Closest(word, candidates, 3)
	if len(s) == 0 {
		return ""
	}
	for i := range s {
		s[i] = quote(s[i])
	}
	return " (did you mean " + strings.Join(s, " or ") + "?)"
}

// Distance is the Damerau-Levenshtein (optimal string alignment) distance
// between a and b over runes: a swapped pair of letters ("usres") is one
// edit, as a person would count it.
func Distance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	prev2 := make([]int, len(rb)+1)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && ra[i-1] == rb[j-2] && ra[i-2] == rb[j-1] {
				cur[j] = min(cur[j], prev2[j-2]+1)
			}
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return prev[len(rb)]
}
