package seed

import (
	"math"
	"math/big"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgtype"
)

var (
	colsWallet         = []string{"id", "owner_id", "name", "currency", "kind", "address", "created_at"}
	colsTransfer       = []string{"id", "company_id", "user_id", "amount_usd", "currency", "created_at"}
	colsCommission     = []string{"id", "operation", "currency", "percent", "fixed_fee", "min_fee", "max_fee", "created_at", "updated_at"}
	colsUserCommission = []string{"id", "user_id", "commission_id", "created_at"}
)

const (
	base58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
	bech32 = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"
	hexLow = "0123456789abcdef"
)

// cryptoCoins are the on-chain currencies, each with an address in its
// chain's format (well-formed; checksums are not computed).
var cryptoCoins = []struct {
	currency string
	weight   int
	address  func(r *urand) string
}{
	{"BTC", 5, func(r *urand) string {
		if r.chance(0.6) {
			return "bc1q" + randString(r, bech32, 38)
		}
		return "3" + randString(r, base58, 33)
	}},
	{"ETH", 4, evmAddress},
	{"USDT-ERC20", 4, evmAddress},
	{"USDT-TRC20", 6, tronAddress},
	{"USDC", 2, evmAddress},
	{"TRX", 1, tronAddress},
	{"LTC", 2, func(r *urand) string { return "ltc1q" + randString(r, bech32, 38) }},
	{"BNB", 1, evmAddress},
	{"XRP", 1, func(r *urand) string { return "r" + randString(r, base58, 33) }},
	{"DOGE", 1, func(r *urand) string { return "D" + randString(r, base58, 33) }},
	{"BCH", 1, func(r *urand) string { return "bitcoincash:q" + randString(r, bech32, 41) }},
	{"SOL", 1, func(r *urand) string { return randString(r, base58, 44) }},
}

func evmAddress(r *urand) string  { return "0x" + randString(r, hexLow, 40) }
func tronAddress(r *urand) string { return "T" + randString(r, base58, 33) }

func pickCoin(r *urand) int {
	total := 0
	for _, c := range cryptoCoins {
		total += c.weight
	}
	x := r.IntN(total)
	for i, c := range cryptoCoins {
		if x -= c.weight; x < 0 {
			return i
		}
	}
	return 0
}

var (
	fiatCurrencies    = []string{"EUR", "EUR", "USD", "USD", "GBP", "CHF"}
	virtualCurrencies = []string{"USD", "EUR", "USDT", "BTC"}
)

// iban builds a well-formed IBAN (with correct check digits) of the user's
// country, or a British one for countries without IBANs.
func iban(r *urand, c *country) string {
	code, bban := c.code, ""
	if c.ibanLen == 0 || c.code == "GB" {
		code, bban = "GB", pick(r, []string{"NWBK", "BARC", "LOYD", "HBUK", "MIDL"})+randString(r, "0123456789", 14)
	} else {
		bban = randString(r, "0123456789", c.ibanLen)
	}
	mod := 0
	for _, ch := range bban + code + "00" {
		v := int(ch - '0')
		if ch >= 'A' {
			v = int(ch-'A') + 10
		}
		if v >= 10 {
			mod = (mod*100 + v) % 97
		} else {
			mod = (mod*10 + v) % 97
		}
	}
	check := 98 - mod
	return code + string(rune('0'+check/10)) + string(rune('0'+check%10)) + bban
}

// walletSource writes wallets: enterprise clients hold crypto wallets with
// on-chain addresses; merchants virtual, crypto or fiat ones. Owners hold
// most wallets (staff are invited to them).
func (s *seeder) walletSource() *genSource {
	r := newURand()
	now := s.now.Unix()
	return newGen(s.n, func(id int, g *genSource) {
		u := &s.users[id-1]
		r.at(s.seed, saltWallet, id)
		n := 0
		switch {
		case u.has(fOwner):
			n = 1 + r.IntN(3) + r.IntN(3)
		case u.company != 0 && r.chance(0.15), u.company == 0 && r.chance(0.2):
			n = 1
		}
		legal := u.role == roleLegalOwner || u.role == roleLegalStaff
		for range n {
			kind, currency, address := "crypto", "", ""
			if !u.has(fEnterprise) {
				switch x := r.Float64(); {
				case x < 0.35:
					kind = "virtual"
				case x < 0.55 || (legal && x < 0.7):
					kind = "fiat"
				}
			}
			switch kind {
			case "crypto":
				c := cryptoCoins[pickCoin(r)]
				currency, address = c.currency, c.address(r)
			case "fiat":
				currency, address = pick(r, fiatCurrencies), iban(r, &countries[u.country])
			default:
				currency = pick(r, virtualCurrencies)
			}
			name := strings.SplitN(currency, "-", 2)[0] + " " + pick(r, walletPurpose)
			g.add(g.nextID(), int64(id), name, currency, kind, address, ts(between(r, u.joined, now)))
		}
	})
}

// transferSource writes each trading company's transfers: a few per month
// over the last year, more in the current and last calendar months (the
// turnover the Commissions tab shows). "Current month" is the month of the
// reference moment, and its transfers lie between its first day and the
// reference; on the first day of a month there are none yet.
func (s *seeder) transferSource() *genSource {
	r := newURand()
	now := s.now.Unix()
	month := time.Date(s.now.Year(), s.now.Month(), 1, 0, 0, 0, 0, time.UTC)
	windows := [][2]int64{
		{month.Unix(), now},
		{month.AddDate(0, -1, 0).Unix(), month.Unix()},
		{month.AddDate(-1, 0, 0).Unix(), month.AddDate(0, -1, 0).Unix()},
	}
	return newGen(len(s.cos), func(cid int, g *genSource) {
		co := &s.cos[cid-1]
		owner := &s.users[co.owner-1]
		r.at(s.seed, saltTransfer, cid)
		if !owner.has(fActive) || !r.chance(0.7) {
			return
		}
		scale := 1.0
		if owner.has(fAPI) {
			scale = 2
		}
		size := r.NormFloat64()*1.5 + 6 // the company's typical transfer, log USD
		for w, counts := range []int{3, 3, 6} {
			lo, hi := max(windows[w][0], co.created), windows[w][1]
			if hi <= lo {
				continue
			}
			for range int(float64(r.IntN(counts+1)) * scale) {
				cents := max(int64(math.Min(math.Exp(size+r.NormFloat64()*0.8), 5e6)*100), 100)
				amount := pgtype.Numeric{Int: big.NewInt(cents), Exp: -2, Valid: true}
				currency := "USD"
				if co.enterprise || r.chance(0.5) {
					currency = cryptoCoins[pickCoin(r)].currency
				} else if r.chance(0.5) {
					currency = pick(r, fiatCurrencies)
				}
				var user any
				if r.chance(0.85) {
					user = int64(co.owner)
				}
				g.add(g.nextID(), int64(cid), user, amount, currency, ts(between(r, lo, hi)))
			}
		}
	})
}

// plans calls fn for each personal commission plan of user id; the two
// commission tables are two passes over the same stream, one plan each.
func (s *seeder) plans(r *urand, id int, fn func(op, currency string, percent, fixed float64, minFee, maxFee any, created, updated int64)) {
	u := &s.users[id-1]
	r.at(s.seed, saltCommission, id)
	p := 0.01
	if u.has(fOwner) {
		p = 0.08
	}
	if !r.chance(p) {
		return
	}
	now := s.now.Unix()
	for range 1 + r.IntN(3) {
		op := pick(r, []string{"deposit", "withdrawal", "payout", "exchange", "transfer"})
		currency := pick(r, []string{"USD", "EUR", "BTC", "ETH", "USDT-TRC20", "USDT-ERC20"})
		percent := pick(r, []float64{0.1, 0.25, 0.3, 0.4, 0.5, 0.75, 0.8, 1, 1.2, 1.5, 2, 2.5})
		fixed := pick(r, []float64{0, 0, 0, 0.5, 1, 2.5, 5})
		var minFee, maxFee any
		if r.chance(0.4) {
			minFee = pick(r, []float64{0.1, 0.5, 1, 2})
		}
		if r.chance(0.3) {
			maxFee = pick(r, []float64{50, 100, 250, 1000})
		}
		created := between(r, u.joined, now)
		updated := between(r, created, now)
		fn(op, currency, percent, fixed, minFee, maxFee, created, updated)
	}
}

func (s *seeder) commissionSource() *genSource {
	r := newURand()
	return newGen(s.n, func(id int, g *genSource) {
		s.plans(r, id, func(op, currency string, percent, fixed float64, minFee, maxFee any, created, updated int64) {
			g.add(g.nextID(), op, currency, percent, fixed, minFee, maxFee, ts(created), ts(updated))
		})
	})
}

func (s *seeder) userCommissionSource() *genSource {
	r := newURand()
	return newGen(s.n, func(id int, g *genSource) {
		s.plans(r, id, func(_, _ string, _, _ float64, _, _ any, created, _ int64) {
			n := g.nextID()
			g.add(n, int64(id), n, ts(created))
		})
	})
}
