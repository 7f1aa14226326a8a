// Package permref turns the words a user types for permissions into
// catalog entries, offline: an identifier (api.charge_wallet), an exact
// seed label ("api | wallet | Can charge wallet") or a glob over identifiers
// (api.view_*, kyc.*). Commands, batch pre-checks, completion and the audit
// policy all resolve permissions here, so they agree on what a word means.
package permref

import (
	"fmt"
	"path"
	"sort"
	"strings"

	"github.com/b2badmin/b2badmin/client/catalog"
	"github.com/b2badmin/b2badmin/internal/suggest"
)

// Error is a permission word that names nothing. Callers map it to exit 4.
type Error struct{ Msg string }

func (e *Error) Error() string { return e.Msg }

func errorf(format string, args ...any) error { return &Error{Msg: fmt.Sprintf(format, args...)} }

// maxWord bounds one word, so a pasted blob fails clearly and the
// suggestion search stays cheap.
const maxWord = 512

var (
	byID    = map[string]int{} // lower-case identifier → catalog index
	byLabel = map[string]int{} // exact label → index
	byLower = map[string]int{} // lower-case label → index
)

func init() {
	for i, p := range catalog.Permissions() {
		byID[strings.ToLower(p.ID())] = i
		byLabel[p.Label] = i
		byLower[strings.ToLower(p.Label)] = i
	}
}

// IsGlob reports whether word uses glob syntax (* ? [). No identifier or
// seed label contains these characters, so the reading is never ambiguous.
func IsGlob(word string) bool { return strings.ContainsAny(word, "*?[") }

// Glob matching follows Go's path.Match over the whole identifier: `*` is
// any run of characters (identifiers contain no `/`, so it crosses the dot:
// `api*` matches every api permission), `?` one character, `[a-c]` a class.
// Matching ignores case, as identifier lookup does.

// ValidGlob checks a glob's syntax.
func ValidGlob(glob string) error {
	if len(glob) > maxWord {
		return errorf("permission pattern longer than %d characters", maxWord)
	}
	if _, err := path.Match(strings.ToLower(glob), ""); err != nil {
		return errorf("invalid permission pattern %q: %v", glob, err)
	}
	return nil
}

// MatchGlob reports whether glob matches the identifier id. A malformed glob matches nothing.
func MatchGlob(glob, id string) bool {
	ok, err := path.Match(strings.ToLower(glob), strings.ToLower(id))
	return ok && err == nil
}

// Glob returns the catalog indexes a glob matches, in catalog order; a
// malformed glob or one matching nothing is an error.
func Glob(glob string) ([]int, error) {
	if err := ValidGlob(glob); err != nil {
		return nil, err
	}
	var out []int
	for i, p := range catalog.Permissions() {
		if MatchGlob(glob, p.ID()) {
			out = append(out, i)
		}
	}
	if len(out) == 0 {
		return nil, errorf("permission pattern %q matches no permission (see: b2badmin perms list)", glob)
	}
	return out, nil
}

// Lookup resolves one non-glob word: an identifier (any case) or a seed
// label (exact, then any case). An unknown word is an error suggesting the
// closest identifiers.
func Lookup(word string) (int, error) {
	w := strings.TrimSpace(word)
	if w == "" {
		return 0, errorf("empty permission")
	}
	if len(w) > maxWord {
		return 0, errorf("permission longer than %d characters", maxWord)
	}
	if i, ok := byID[strings.ToLower(w)]; ok {
		return i, nil
	}
	if i, ok := byLabel[w]; ok {
		return i, nil
	}
	if i, ok := byLower[strings.ToLower(w)]; ok {
		return i, nil
	}
	msg := fmt.Sprintf("unknown permission %q", w)
	if s := Suggest(w, 3); len(s) > 0 {
		msg += " (did you mean " + strings.Join(s, ", ") + "?)"
	}
	return 0, &Error{Msg: msg}
}

// Resolve turns permission words into catalog entries, without duplicates,
// in the order first named. Every bad word is reported, in one error.
func Resolve(words []string) ([]catalog.Permission, error) {
	if len(words) == 0 {
		return nil, errorf("no permission given")
	}
	all := catalog.Permissions()
	seen := map[int]bool{}
	var out []catalog.Permission
	var bad []string
	add := func(i int) {
		if !seen[i] {
			seen[i] = true
			out = append(out, all[i])
		}
	}
	for _, w := range words {
		if IsGlob(w) {
			idx, err := Glob(strings.TrimSpace(w))
			if err != nil {
				bad = append(bad, err.Error())
				continue
			}
			for _, i := range idx {
				add(i)
			}
			continue
		}
		i, err := Lookup(w)
		if err != nil {
			bad = append(bad, err.Error())
			continue
		}
		add(i)
	}
	if len(bad) > 0 {
		return nil, &Error{Msg: strings.Join(bad, "; ")}
	}
	return out, nil
}

// Suggest returns up to n identifiers closest to word (Levenshtein distance
// over lower-case identifiers, or over labels when word looks like one),
// only those close enough to be a plausible typo.
func Suggest(word string, n int) []string {
	w := strings.ToLower(strings.TrimSpace(word))
	if w == "" || len(w) > maxWord {
		return nil
	}
	useLabel := strings.Contains(w, "|")
	type cand struct {
		id string
		d  int
	}
	var cs []cand
	for _, p := range catalog.Permissions() {
		target := strings.ToLower(p.ID())
		if useLabel {
			target = strings.ToLower(p.Label)
		}
		d := suggest.Distance(w, target)
		// A substring hit (e.g. "charge_wallet") is as good as a near typo.
		if strings.Contains(target, w) {
			d = min(d, 1+(len(target)-len(w))/8)
		}
		if d <= max(3, len(w)/3) {
			cs = append(cs, cand{p.ID(), d})
		}
	}
	sort.SliceStable(cs, func(i, j int) bool {
		if cs[i].d != cs[j].d {
			return cs[i].d < cs[j].d
		}
		return cs[i].id < cs[j].id
	})
	var out []string
	for i := 0; i < len(cs) && i < n; i++ {
		out = append(out, cs[i].id)
	}
	return out
}

// Index returns the catalog index of an identifier (any case).
func Index(id string) (int, bool) {
	i, ok := byID[strings.ToLower(id)]
	return i, ok
}

// Complete returns the identifiers starting with prefix (any case), in
// catalog order, for shell completion of PERM arguments.
func Complete(prefix string) []string {
	p := strings.ToLower(prefix)
	var out []string
	for _, c := range catalog.Permissions() {
		if strings.HasPrefix(strings.ToLower(c.ID()), p) {
			out = append(out, c.ID())
		}
	}
	return out
}
