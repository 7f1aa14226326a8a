package client

import (
	"context"
	"math/big"
	"regexp"
	"strings"

	"github.com/jackc/pgx/v5"
)

// CommissionOperations are the operation kinds a personal plan can price.
var CommissionOperations = []string{"deposit", "withdrawal", "transfer", "exchange", "payout"}

// PlanInput is a requested plan change. Nil fields keep the existing value
// (and are required when the plan is new); ClearMin/ClearMax remove a bound.
type PlanInput struct {
	Operation string
	Currency  string
	Percent   *string
	FixedFee  *string
	MinFee    *string
	MaxFee    *string
	ClearMin  bool
	ClearMax  bool
}

var (
	currencyRe = regexp.MustCompile(`^[A-Z][A-Z0-9]{1,15}$`)
	percentRe  = regexp.MustCompile(`^[0-9]{1,3}(\.[0-9]{1,4})?$`)  // numeric(7,4)
	feeRe      = regexp.MustCompile(`^[0-9]{1,16}(\.[0-9]{1,8})?$`) // numeric(24,8)
)

// ValidatePlanInput checks the request before any SQL (all failures are
// Refused: exit 4) and normalises the operation and currency.
func ValidatePlanInput(in *PlanInput) error {
	in.Operation = strings.ToLower(strings.TrimSpace(in.Operation))
	ok := false
	for _, op := range CommissionOperations {
		ok = ok || op == in.Operation
	}
	if !ok {
		return Refused("unknown operation %q (want one of %s)", in.Operation, strings.Join(CommissionOperations, ", "))
	}
	in.Currency = strings.ToUpper(strings.TrimSpace(in.Currency))
	if !currencyRe.MatchString(in.Currency) {
		return Refused("invalid currency code %q (want 2-16 letters or digits starting with a letter, e.g. USDT)", in.Currency)
	}
	if in.Percent != nil {
		if err := checkDecimal("--percent", *in.Percent, percentRe, "a number from 0 to 100 with at most 4 decimals"); err != nil {
			return err
		}
		if decimal(*in.Percent).Cmp(big.NewRat(100, 1)) > 0 {
			return Refused("invalid --percent %s: must be between 0 and 100", *in.Percent)
		}
	}
	for _, f := range []struct {
		name string
		v    *string
	}{{"--fixed", in.FixedFee}, {"--min", in.MinFee}, {"--max", in.MaxFee}} {
		if f.v != nil {
			if err := checkDecimal(f.name, *f.v, feeRe, "a number ≥ 0 with at most 8 decimals"); err != nil {
				return err
			}
		}
	}
	if in.MinFee != nil && in.ClearMin || in.MaxFee != nil && in.ClearMax {
		return Refused("a bound cannot be both set and cleared")
	}
	if in.MinFee != nil && in.MaxFee != nil && decimal(*in.MinFee).Cmp(decimal(*in.MaxFee)) > 0 {
		return Refused("invalid fees: --min %s is greater than --max %s", *in.MinFee, *in.MaxFee)
	}
	return nil
}

func checkDecimal(name, v string, re *regexp.Regexp, want string) error {
	if strings.HasPrefix(strings.TrimSpace(v), "-") {
		return Refused("invalid %s %s: must not be negative", name, v)
	}
	if !re.MatchString(v) {
		return Refused("invalid %s %q: want %s", name, v, want)
	}
	return nil
}

func decimal(s string) *big.Rat {
	r, ok := new(big.Rat).SetString(s)
	if !ok {
		return new(big.Rat)
	}
	return r
}

// planValues is a personal plan as a change records it.
type planValues struct {
	Operation string  `json:"operation"`
	Currency  string  `json:"currency"`
	Percent   string  `json:"percent"`
	FixedFee  string  `json:"fixed_fee"`
	MinFee    *string `json:"min_fee"`
	MaxFee    *string `json:"max_fee"`
}

// canonDecimal writes a validated decimal as PostgreSQL prints a
// numeric(_, scale): no leading zeros, exactly scale decimals. The change
// list is computed before the write, so it must match what is stored.
func canonDecimal(s string, scale int) string {
	whole, frac, _ := strings.Cut(strings.TrimSpace(s), ".")
	whole = strings.TrimLeft(whole, "0")
	if whole == "" {
		whole = "0"
	}
	return whole + "." + (frac + strings.Repeat("0", scale))[:scale]
}

func canonFee(p *string) *string {
	if p == nil {
		return nil
	}
	v := canonDecimal(*p, 8)
	return &v
}

// SetCommissionPlans creates or changes each target's personal plan for
// (operation, currency): a commissions_commission row linked by a
// commissions_usercommission row. The users are locked, so two admins
// cannot create duplicate plans. A new plan needs both percent and fixed
// fee; a changed plan keeps the values not given. Users whose plan already
// has the values are reported unchanged.
func (c *Client) SetCommissionPlans(ctx context.Context, a Audit, t Targets, in PlanInput, o ChangeOptions) (ChangeResult, error) {
	if err := ValidatePlanInput(&in); err != nil {
		return ChangeResult{}, err
	}
	type existing struct {
		id int64
		v  planValues
	}
	plans := map[int64]existing{}
	readPlans := followUp{
		sql: func(ids string, arg func(any) string) string {
			return `
SELECT DISTINCT ON (uc.user_id) uc.user_id, c.id, c.percent::text, c.fixed_fee::text, c.min_fee::text, c.max_fee::text
FROM commissions_usercommission uc JOIN commissions_commission c ON c.id = uc.commission_id
WHERE uc.user_id IN (` + ids + `) AND c.operation = ` + arg(in.Operation) + ` AND c.currency = ` + arg(in.Currency) + `
ORDER BY uc.user_id, c.id`
		},
		read: func(rows pgx.Rows) error {
			var uid int64
			var e existing
			_, err := pgx.ForEachRow(rows, []any{&uid, &e.id, &e.v.Percent, &e.v.FixedFee, &e.v.MinFee, &e.v.MaxFee}, func() error {
				e.v.Operation, e.v.Currency = in.Operation, in.Currency
				cp := e
				cp.v.MinFee, cp.v.MaxFee = clonePtr(e.v.MinFee), clonePtr(e.v.MaxFee)
				plans[uid] = cp
				return nil
			})
			return err
		},
	}
	return c.runChange(ctx, a, o, changeSpec{action: "commissions.set", targets: t, reads: []followUp{readPlans},
		plan: func(p *planner) error {
			var upd struct {
				ids            []int64
				percent, fixed []string
				minFee, maxFee []*string
			}
			var created []lockedUser
			var createdPlans []planValues
			for _, u := range p.users {
				old, has := plans[u.ID]
				if !has && (in.Percent == nil || in.FixedFee == nil) {
					return Refused("refused: %s has no %s %s plan yet: --percent and --fixed are required to create one", u.Email, in.Operation, in.Currency)
				}
				nv := old.v
				nv.Operation, nv.Currency = in.Operation, in.Currency
				if in.Percent != nil {
					nv.Percent = canonDecimal(*in.Percent, 4)
				}
				if in.FixedFee != nil {
					nv.FixedFee = canonDecimal(*in.FixedFee, 8)
				}
				if in.MinFee != nil || in.ClearMin {
					nv.MinFee = canonFee(in.MinFee)
				}
				if in.MaxFee != nil || in.ClearMax {
					nv.MaxFee = canonFee(in.MaxFee)
				}
				if nv.MinFee != nil && nv.MaxFee != nil && decimal(*nv.MinFee).Cmp(decimal(*nv.MaxFee)) > 0 {
					return Refused("refused: %s: minimum fee %s would be greater than maximum %s", u.Email, *nv.MinFee, *nv.MaxFee)
				}
				if has && samePlan(old.v, nv) {
					p.same(u)
					continue
				}
				var before any
				if has {
					before = old.v
				}
				ch := p.change(u, map[string]any{"commission_plan": before}, map[string]any{"commission_plan": nv})
				if has {
					ch.Detail["commission_id"] = old.id
					upd.ids = append(upd.ids, old.id)
					upd.percent, upd.fixed = append(upd.percent, nv.Percent), append(upd.fixed, nv.FixedFee)
					upd.minFee, upd.maxFee = append(upd.minFee, nv.MinFee), append(upd.maxFee, nv.MaxFee)
				} else {
					created, createdPlans = append(created, u), append(createdPlans, nv)
				}
			}
			if len(upd.ids) > 0 {
				const update = `
UPDATE commissions_commission c SET percent = t.p::numeric, fixed_fee = t.f::numeric,
    min_fee = t.mi::numeric, max_fee = t.ma::numeric, updated_at = now()
FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $5::text[]) AS t(id, p, f, mi, ma)
WHERE c.id = t.id`
				p.writes.exec(update, upd.ids, upd.percent, upd.fixed, upd.minFee, upd.maxFee)
			}
			if len(created) == 0 {
				return nil
			}
			// A new plan's id goes to the log's detail (an undo deletes it),
			// so the plans are created before the log rows are queued.
			p.effect(func(ctx context.Context, tx DBTX) error {
				const insert = `
WITH c AS (
    INSERT INTO commissions_commission (operation, currency, percent, fixed_fee, min_fee, max_fee, created_at, updated_at)
    VALUES ($2, $3, $4::numeric, $5::numeric, $6::numeric, $7::numeric, now(), now()) RETURNING id)
INSERT INTO commissions_usercommission (user_id, commission_id, created_at)
SELECT $1, id, now() FROM c RETURNING commission_id`
				b := &pgx.Batch{}
				for i, u := range created {
					v := createdPlans[i]
					b.Queue(insert, u.ID, v.Operation, v.Currency, v.Percent, v.FixedFee, v.MinFee, v.MaxFee)
				}
				br := tx.SendBatch(ctx, b)
				defer br.Close()
				for _, u := range created {
					var id int64
					if err := br.QueryRow().Scan(&id); err != nil {
						return err
					}
					p.changeOf(u.ID).Detail["commission_id"] = id
				}
				return br.Close()
			})
			return nil
		}})
}

func samePlan(a, b planValues) bool {
	return a.Percent == b.Percent && a.FixedFee == b.FixedFee && eqPtr(a.MinFee, b.MinFee) && eqPtr(a.MaxFee, b.MaxFee)
}

func eqPtr(x, y *string) bool {
	if x == nil || y == nil {
		return x == nil && y == nil
	}
	return *x == *y
}
