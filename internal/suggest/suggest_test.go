package suggest

import (
	"reflect"
	"testing"
)

func TestClosest(t *testing.T) {
	verbs := []string{"list", "show", "update", "set-password", "activate", "deactivate", "set-group", "add-group", "remove-group", "set-role", "sessions", "tokens"}
	cases := map[string][]string{
		"deactive":   {"deactivate"},
		"activat":    {"activate"},
		"revok":      nil,
		"lsit":       {"list"},
		"shwo":       {"show"},
		"set-grop":   {"set-group"},
		"frobnicate": nil,
		"":           nil,
	}
	for w, want := range cases {
		if got := Closest(w, verbs, 3); !reflect.DeepEqual(got, want) {
			t.Errorf("Closest(%q) = %q, want %q", w, got, want)
		}
	}
	if got := Closest("revok", []string{"list", "show", "grant", "revoke", "audit"}, 3); !reflect.DeepEqual(got, []string{"revoke"}) {
		t.Errorf("revok: %q", got)
	}
	if got := Closest("usres", []string{"db", "users", "groups"}, 3); !reflect.DeepEqual(got, []string{"users"}) {
		t.Errorf("usres: %q", got)
	}
	if got := Closest("Mrchant owner", []string{"Merchant owner", "Merchant staff", "Legal merchant owner"}, 3); got[0] != "Merchant owner" {
		t.Errorf("group: %q", got)
	}
}

func TestDistance(t *testing.T) {
	for _, c := range []struct {
		a, b string
		d    int
	}{{"", "", 0}, {"a", "", 1}, {"usres", "users", 1}, {"kitten", "sitting", 3}, {"ü", "u", 1}} {
		if got := Distance(c.a, c.b); got != c.d {
			t.Errorf("Distance(%q, %q) = %d, want %d", c.a, c.b, got, c.d)
		}
	}
}
