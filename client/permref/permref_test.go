package permref

import (
	"errors"
	"strings"
	"testing"

	"github.com/b2badmin/b2badmin/client/catalog"
)

func ids(ps []catalog.Permission) []string {
	var out []string
	for _, p := range ps {
		out = append(out, p.ID())
	}
	return out
}

func TestIdentifiersUniqueIgnoringCase(t *testing.T) {
	if len(byID) != len(catalog.Permissions()) || len(byLower) != len(catalog.Permissions()) {
		t.Fatalf("identifiers or labels collide when case is ignored: %d ids, %d labels", len(byID), len(byLower))
	}
}

func TestResolveForms(t *testing.T) {
	cases := []struct {
		words []string
		want  string
	}{
		{[]string{"api.charge_wallet"}, "api.charge_wallet"},
		{[]string{"API.Charge_Wallet"}, "api.charge_wallet"},
		{[]string{"api | wallet | Can charge wallet"}, "api.charge_wallet"},
		{[]string{"autopayout | Can add auto payout"}, "api.add_autopayout"},
		{[]string{"otp_totp.view_*"}, "otp_totp.view_totpdevice"},
		{[]string{"api.charge_wallet", "api | wallet | Can charge wallet"}, "api.charge_wallet"},
		{[]string{"auth.*"}, "auth.add_group,auth.change_group,auth.delete_group,auth.view_group,auth.add_permission,auth.change_permission,auth.delete_permission,auth.view_permission"},
	}
	for _, c := range cases {
		got, err := Resolve(c.words)
		if err != nil {
			t.Errorf("Resolve(%q): %v", c.words, err)
			continue
		}
		if g := strings.Join(ids(got), ","); g != c.want {
			t.Errorf("Resolve(%q) = %s, want %s", c.words, g, c.want)
		}
	}
}

func TestGlobCountsAgreeWithCatalog(t *testing.T) {
	got, err := Resolve([]string{"kyc.*"})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, p := range catalog.Permissions() {
		if p.AppLabel == "kyc" {
			n++
		}
	}
	if len(got) != n || n == 0 {
		t.Fatalf("kyc.* gave %d, catalog has %d kyc permissions", len(got), n)
	}
}

func TestResolveErrors(t *testing.T) {
	cases := map[string]string{
		"api.charge_walet":       "did you mean api.charge_wallet",
		"nope.*":                 "matches no permission",
		"api.[":                  "invalid permission pattern",
		"":                       "empty permission",
		"zzzzzzzzzzzzzzzzzzzzzz": "unknown permission",
	}
	for w, want := range cases {
		_, err := Resolve([]string{w})
		var pe *Error
		if !errors.As(err, &pe) || !strings.Contains(err.Error(), want) {
			t.Errorf("Resolve(%q) error %v, want one containing %q", w, err, want)
		}
	}
	// Every bad word is named at once.
	_, err := Resolve([]string{"x.y", "api.view_wallet", "nope.*"})
	if err == nil || !strings.Contains(err.Error(), `"x.y"`) || !strings.Contains(err.Error(), `"nope.*"`) {
		t.Fatalf("want both bad words named, got %v", err)
	}
}

func TestSuggestTopThree(t *testing.T) {
	s := Suggest("api.view_walet", 3)
	if len(s) == 0 || len(s) > 3 || s[0] != "api.view_wallet" {
		t.Fatalf("Suggest = %v", s)
	}
}

func FuzzResolve(f *testing.F) {
	for _, s := range []string{"api.charge_wallet", "api.view_*", "[", "api | wallet | Can charge wallet", "\xff", "*?*[!a-]"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, w string) {
		ps, err := Resolve([]string{w})
		if err == nil && len(ps) == 0 {
			t.Fatalf("Resolve(%q): no error and no permission", w)
		}
		if err != nil {
			var pe *Error
			if !errors.As(err, &pe) {
				t.Fatalf("Resolve(%q): error of type %T", w, err)
			}
		}
	})
}

func TestComplete(t *testing.T) {
	got := Complete("OTP_TOTP.view")
	if len(got) != 1 || got[0] != "otp_totp.view_totpdevice" {
		t.Fatalf("Complete = %v", got)
	}
	if n := len(Complete("")); n != len(catalog.Permissions()) {
		t.Fatalf("Complete(\"\") = %d entries", n)
	}
}
