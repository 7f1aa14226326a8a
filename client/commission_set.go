package client

import (
	"context"
	"math/big"
	"regexp"
	"slices"
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
	DryRun    bool
}

// PlanChange is the outcome of SetCommissionPlan.
type PlanChange struct {
	UserID  int64           `json:"user_id"`
	Email   string          `json:"email"`
	Created bool            `json:"created"`
	Changed []string        `json:"changed"`
	Before  *CommissionPlan `json:"before"`
	After   CommissionPlan  `json:"after"`
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

// SetCommissionPlan creates or changes the user's personal plan for
// (operation, currency): a commissions_commission row linked by a
// commissions_usercommission row. The user row is locked so two admins
// cannot create duplicate plans. Logged as commissions.set with the
// changed fields only; a dry run does everything and rolls back.
func (c *Client) SetCommissionPlan(ctx context.Context, a Audit, u UserRef, in PlanInput) (PlanChange, error) {
	if err := ValidatePlanInput(&in); err != nil {
		return PlanChange{}, err
	}
	res := PlanChange{UserID: u.ID, Email: u.Email, Changed: []string{}}
	err := c.inTx(ctx, func(tx pgx.Tx) error {
		if err := tx.QueryRow(ctx, `SELECT email FROM rbac_user WHERE id = $1 FOR UPDATE`, u.ID).Scan(&res.Email); err != nil {
			if err == pgx.ErrNoRows {
				return NotFound("user %s", u.Ref)
			}
			return err
		}
		rows, err := tx.Query(ctx, selectPlans+` AND c.operation = $2 AND c.currency = $3 ORDER BY c.id LIMIT 1`, u.ID, in.Operation, in.Currency)
		if err != nil {
			return err
		}
		existing, err := collectPlans(rows)
		if err != nil {
			return err
		}
		var id int64
		if len(existing) == 0 {
			if in.Percent == nil || in.FixedFee == nil {
				return Refused("refused: %s has no %s %s plan yet: --percent and --fixed are required to create one", res.Email, in.Operation, in.Currency)
			}
			res.Created = true
			const ins = `
WITH c AS (
    INSERT INTO commissions_commission (operation, currency, percent, fixed_fee, min_fee, max_fee, created_at, updated_at)
    VALUES ($2, $3, $4::numeric, $5::numeric, $6::numeric, $7::numeric, now(), now()) RETURNING id)
INSERT INTO commissions_usercommission (user_id, commission_id, created_at)
SELECT $1, id, now() FROM c RETURNING commission_id`
			if err := tx.QueryRow(ctx, ins, u.ID, in.Operation, in.Currency, *in.Percent, *in.FixedFee, in.MinFee, in.MaxFee).Scan(&id); err != nil {
				return err
			}
		} else {
			old := existing[0]
			res.Before = &old
			id = old.ID
			minFee, maxFee := old.MinFee, old.MaxFee
			if in.MinFee != nil || in.ClearMin {
				minFee = in.MinFee
			}
			if in.MaxFee != nil || in.ClearMax {
				maxFee = in.MaxFee
			}
			if minFee != nil && maxFee != nil && decimal(*minFee).Cmp(decimal(*maxFee)) > 0 {
				return Refused("invalid fees: minimum %s would be greater than maximum %s", *minFee, *maxFee)
			}
			// updated_at moves only when a value really changes.
			const upd = `
UPDATE commissions_commission SET
    percent = coalesce($2::numeric, percent), fixed_fee = coalesce($3::numeric, fixed_fee),
    min_fee = $4::numeric, max_fee = $5::numeric,
    updated_at = CASE WHEN (percent, fixed_fee, min_fee, max_fee) IS NOT DISTINCT FROM
        (coalesce($2::numeric, percent), coalesce($3::numeric, fixed_fee), $4::numeric, $5::numeric)
        THEN updated_at ELSE now() END
WHERE id = $1`
			if _, err := tx.Exec(ctx, upd, id, in.Percent, in.FixedFee, minFee, maxFee); err != nil {
				return err
			}
		}
		rows, err = tx.Query(ctx, `SELECT c.id, c.operation, c.currency, c.percent::text, c.fixed_fee::text, c.min_fee::text,
    c.max_fee::text, c.created_at, c.updated_at FROM commissions_commission c WHERE c.id = $1`, id)
		if err != nil {
			return err
		}
		after, err := collectPlans(rows)
		if err != nil {
			return err
		}
		res.After = after[0]
		before, afterMap := planDiff(res.Before, res.After)
		for k := range afterMap {
			if k != "operation" && k != "currency" {
				res.Changed = append(res.Changed, k)
			}
		}
		slices.Sort(res.Changed)
		if len(afterMap) > 0 {
			afterMap["commission_id"] = res.After.ID
			ch := Change{UserID: u.ID, Email: res.Email, Before: before, After: afterMap}
			if err := writeOperationLog(ctx, tx, a, "commissions.set", []Change{ch}); err != nil {
				return err
			}
		}
		if in.DryRun {
			return errDryRun
		}
		return nil
	})
	if err == errDryRun {
		return res, nil
	}
	return res, err
}

// planDiff returns the fields that differ (all of them for a new plan),
// operation and currency always included so a log row names its plan.
func planDiff(before *CommissionPlan, after CommissionPlan) (map[string]any, map[string]any) {
	b, a := map[string]any{}, map[string]any{}
	field := func(k string, old, nw any, same bool) {
		if before == nil || !same {
			if before != nil {
				b[k] = old
			}
			a[k] = nw
		}
	}
	var old CommissionPlan
	if before != nil {
		old = *before
	}
	field("percent", old.Percent, after.Percent, old.Percent == after.Percent)
	field("fixed_fee", old.FixedFee, after.FixedFee, old.FixedFee == after.FixedFee)
	field("min_fee", old.MinFee, after.MinFee, eqPtr(old.MinFee, after.MinFee))
	field("max_fee", old.MaxFee, after.MaxFee, eqPtr(old.MaxFee, after.MaxFee))
	if len(a) > 0 {
		a["operation"], a["currency"] = after.Operation, after.Currency
		if before != nil {
			b["operation"], b["currency"] = old.Operation, old.Currency
		}
	}
	return b, a
}

func eqPtr(x, y *string) bool {
	if x == nil || y == nil {
		return x == nil && y == nil
	}
	return *x == *y
}
