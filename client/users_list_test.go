package client

import (
	"strings"
	"testing"
	"time"
)

// sqlShape builds the list SQL for a filter whose text fields all hold s.
func sqlShape(s string, sortKey string, after *Cursor) (string, []any) {
	f := UserFilter{Email: s, FirstName: s, LastName: s, Company: s, Groups: []string{s}, Type: s}
	srt, err := ParseUserSort(sortKey)
	if err != nil {
		srt = UserSort{Key: "id"}
	}
	return buildUserList(UserQuery{Filter: f, Sort: srt, After: after, Limit: 50})
}

// Whatever a user types, the SQL text is the same: values only ever
// travel as parameters.
func FuzzUserListSQLIsParameterised(f *testing.F) {
	for _, s := range []string{"x", "'; DROP TABLE rbac_user; --", `%_\`, "$1", "\x00", "ü"} {
		f.Add(s, "email")
	}
	f.Add("a", "-company")
	f.Add("a", "id); DELETE FROM rbac_user; --")
	f.Fuzz(func(t *testing.T, s, sortKey string) {
		if s == "" {
			return
		}
		ref, _ := sqlShape("x", sortKey, &Cursor{Value: "v", ID: 1})
		got, args := sqlShape(s, sortKey, &Cursor{Value: s, ID: 1})
		if got != ref {
			t.Fatalf("SQL text depends on the input %q:\n%s", s, got)
		}
		if len(args) == 0 {
			t.Fatal("no parameters")
		}
	})
}

func TestContainsEscapesLikeMetacharacters(t *testing.T) {
	for in, want := range map[string]string{"abc": "%abc%", "50%": `%50\%%`, "a_b": `%a\_b%`, `c:\x`: `%c:\\x%`} {
		if got := contains(in); got != want {
			t.Errorf("contains(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestParseUserSort(t *testing.T) {
	for in, want := range map[string]UserSort{"id": {Key: "id"}, "-date_joined": {Key: "date_joined", Desc: true},
		"Registered": {Key: "date_joined"}, " -EMAIL ": {Key: "email", Desc: true}} {
		if got, err := ParseUserSort(in); err != nil || got != want {
			t.Errorf("%q: %+v %v", in, got, err)
		}
	}
	for _, bad := range []string{"", "-", "password", "id desc", "u.id", "--id"} {
		if _, err := ParseUserSort(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestCursorRoundTripAndValidation(t *testing.T) {
	s := UserSort{Key: "date_joined", Desc: true}
	c := Cursor{Key: s.Key, Desc: true, Value: "2024-05-01 12:00:00+00", ID: 42}
	got, err := ParseCursor(c.String(), s)
	if err != nil || got != c {
		t.Fatalf("round trip: %+v %v", got, err)
	}
	if _, err := ParseCursor(c.String(), UserSort{Key: "date_joined"}); err == nil || !strings.Contains(err.Error(), "--sort") {
		t.Errorf("cursor of another direction accepted: %v", err)
	}
	for _, bad := range []Cursor{
		{Key: "password", Value: "x", ID: 1},
		{Key: "id", Value: "12a", ID: 1},
		{Key: "id", Value: "1", ID: 0},
		{Key: "is_active", Value: "maybe", ID: 3},
		{Key: "date_joined", Value: "yesterday", ID: 3},
		{Key: "last_name", Value: "Ng\x00", ID: 3},                   // text the server cannot hold
		{Key: "date_joined", Value: "0000-01-01 00:00:00+00", ID: 3}, // no year 0 in PostgreSQL
		{Key: "date_joined", Value: "2024-01-01 00:00:00+20", ID: 3}, // an offset PostgreSQL refuses
		{Key: "date_joined", Value: "2024-01-01 00:00:00+00:60", ID: 3},
	} {
		if _, err := ParseCursor(bad.String(), UserSort{Key: bad.Key}); err == nil {
			t.Errorf("bad cursor %+v accepted", bad)
		}
	}
	for _, text := range []string{"", "!!!", "e30", "bnVsbA"} {
		if _, err := ParseCursor(text, UserSort{Key: "id"}); err == nil {
			t.Errorf("%q accepted", text)
		}
	}
}

func FuzzParseCursor(f *testing.F) {
	f.Add(Cursor{Key: "id", Value: "5", ID: 5}.String())
	f.Add("eyJrIjoiaWQiLCJ2IjoiNSIsImkiOjV9")
	f.Add("")
	f.Fuzz(func(t *testing.T, text string) {
		c, err := ParseCursor(text, UserSort{Key: "id"})
		if err != nil {
			return
		}
		if again, err := ParseCursor(c.String(), UserSort{Key: "id"}); err != nil || again != c {
			t.Fatalf("accepted cursor does not round-trip: %+v %v", again, err)
		}
	})
}

func TestMonthOf(t *testing.T) {
	this := MonthOf(time.Date(2024, 3, 31, 23, 0, 0, 0, time.FixedZone("X", -5*3600)))
	// 2024-03-31 23:00 at UTC-5 is April 1st in UTC.
	if !this.From.Equal(time.Date(2024, 4, 1, 0, 0, 0, 0, time.UTC)) || !this.To.Equal(time.Date(2024, 5, 1, 0, 0, 0, 0, time.UTC)) ||
		!this.Previous().From.Equal(time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("month %v, previous %v", this, this.Previous())
	}
	if last := MonthOf(time.Date(2024, 1, 15, 0, 0, 0, 0, time.UTC)).Previous(); !last.From.Equal(time.Date(2023, 12, 1, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("January's last month: %v", last)
	}
}

func TestMaskToken(t *testing.T) {
	for in, want := range map[string]string{"abcdefgh1234": "••••1234", "abcdef1234": "••••", "405762": "••••", "123": "••••", "": "••••", "ünï-çødé-ünï-çødé": "••••çødé", "ünï-çødé": "••••"} {
		if got := MaskToken(in); got != want {
			t.Errorf("MaskToken(%q) = %q, want %q", in, got, want)
		}
	}
}
