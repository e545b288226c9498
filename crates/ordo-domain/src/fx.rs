//! Foreign exchange: rates by date, amounts valued in the business's base currency, and the
//! realised exchange difference when a foreign balance is settled at another rate than the
//! one it was booked at.
//!
//! A rate says how many units of the base currency one unit of the foreign currency is worth
//! (`USD 7.1`: one dollar is 7.10 yuan when the base is CNY).

use crate::money::Currency;
use crate::pricing::spread;
use crate::validation::FieldError;
use rust_decimal::Decimal;

/// Rates are stored as integers of 10⁻⁸.
pub const RATE_SCALE: u32 = 8;
const MAX_RATE: i64 = 1_000_000;

/// Parses a rate such as `"7.1234"`: positive, at most eight decimals.
pub fn parse_rate(field: &str, raw: &str) -> Result<Decimal, FieldError> {
    let text = raw.trim();
    let rate: Decimal = text
        .parse()
        .ok()
        .filter(|_| !text.is_empty() && text.chars().all(|c| c.is_ascii_digit() || c == '.'))
        .ok_or_else(|| FieldError::new(field, format!("must be a positive decimal such as \"7.1234\", got {raw:?}")))?;
    if rate <= Decimal::ZERO {
        return Err(FieldError::new(field, "must be above zero"));
    }
    if rate.scale() > RATE_SCALE {
        return Err(FieldError::new(field, format!("must have at most {RATE_SCALE} decimal places")));
    }
    if rate > Decimal::from(MAX_RATE) {
        return Err(FieldError::new(field, format!("must not exceed {MAX_RATE}")));
    }
    Ok(rate.normalize())
}

pub fn rate_to_e8(rate: Decimal) -> i64 {
    i64::try_from((rate * Decimal::from(100_000_000)).trunc()).unwrap_or(i64::MAX)
}

pub fn rate_from_e8(stored: i64) -> Decimal {
    Decimal::new(stored, RATE_SCALE).normalize()
}

/// An amount in `from` priced in `to`, both rates against the base currency (1 for the base
/// itself), rounded once to `to`'s minor units.
pub fn cross(amount: Decimal, from_rate: Decimal, to_rate: Decimal, to: Currency) -> Decimal {
    to.round(amount * from_rate / to_rate)
}

/// What a monetary balance (a receivable, a payable, a customer's credit) held before the
/// entry: in its own currency and in base, both signed with debits positive.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Carried {
    pub balance: Decimal,
    pub base: Decimal,
}

/// One posting of a foreign-currency entry to value; `carried` indexes the balance it
/// belongs to, for postings to a monetary account.
#[derive(Debug, Clone, Copy)]
pub struct ForeignPosting {
    pub debit: Decimal,
    pub credit: Decimal,
    pub carried: Option<usize>,
}

/// The entry valued in base: per posting (base debit, base credit), and the exchange
/// difference that balances it, as a base debit (a loss) when positive, a credit (a gain)
/// when negative.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Valued {
    pub lines: Vec<(Decimal, Decimal)>,
    pub difference: Decimal,
}

/// Values an entry at `rate`. A posting that settles a carried balance takes that balance's
/// own base value for the part it settles (all of it when it clears the balance, so nothing
/// is left over in base); everything else is converted at `rate`, each side once and spread
/// to the cent, so an entry at one rate balances in base exactly. What still differs is the
/// realised exchange difference.
pub fn value(postings: &[ForeignPosting], carried: &mut [Carried], rate: Decimal, base: Currency) -> Valued {
    // (settled base, part at today's rate) per posting.
    let mut parts: Vec<(Decimal, Decimal)> = Vec::with_capacity(postings.len());
    for p in postings {
        let (amount, sign) = if p.debit.is_zero() { (p.credit, -Decimal::ONE) } else { (p.debit, Decimal::ONE) };
        let Some(c) = p.carried.and_then(|i| carried.get_mut(i)) else {
            parts.push((Decimal::ZERO, amount));
            continue;
        };
        // Only a posting against the balance's sign settles it; one with it adds to it.
        if c.balance.is_zero() || c.balance.is_sign_negative() == sign.is_sign_negative() {
            let base_added = base.round(amount * rate);
            c.balance += sign * amount;
            c.base += sign * base_added;
            parts.push((Decimal::ZERO, amount));
            continue;
        }
        let settled = amount.min(c.balance.abs());
        let base_settled = if settled == c.balance.abs() {
            c.base.abs()
        } else {
            base.round(c.base.abs() * settled / c.balance.abs())
        };
        c.balance += sign * settled;
        c.base += sign * base_settled;
        let rest = amount - settled;
        if !rest.is_zero() {
            c.balance += sign * rest;
            c.base += sign * base.round(rest * rate);
        }
        parts.push((base_settled, rest));
    }
    let side = |debit: bool| -> Vec<Decimal> {
        postings
            .iter()
            .zip(&parts)
            .map(|(p, (_, rest))| if p.debit.is_zero() != debit { *rest } else { Decimal::ZERO })
            .collect()
    };
    let (debit_weights, credit_weights) = (side(true), side(false));
    let converted = |weights: &[Decimal]| {
        let total: Decimal = weights.iter().sum();
        spread(base, base.round(total * rate), weights)
    };
    let (debits, credits) = (converted(&debit_weights), converted(&credit_weights));
    let lines: Vec<(Decimal, Decimal)> = postings
        .iter()
        .zip(&parts)
        .enumerate()
        .map(|(i, (p, (settled, _)))| {
            if p.debit.is_zero() { (Decimal::ZERO, settled + credits[i]) } else { (settled + debits[i], Decimal::ZERO) }
        })
        .collect();
    let debit: Decimal = lines.iter().map(|l| l.0).sum();
    let credit: Decimal = lines.iter().map(|l| l.1).sum();
    Valued { lines, difference: credit - debit }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(text: &str) -> Decimal {
        text.parse().expect("a decimal")
    }

    fn debit(amount: Decimal, carried: Option<usize>) -> ForeignPosting {
        ForeignPosting { debit: amount, credit: Decimal::ZERO, carried }
    }
    fn credit(amount: Decimal, carried: Option<usize>) -> ForeignPosting {
        ForeignPosting { debit: Decimal::ZERO, credit: amount, carried }
    }

    #[test]
    fn rates_are_positive_decimals_with_at_most_eight_places() {
        assert_eq!(parse_rate("rate", " 7.1234 ").unwrap(), d("7.1234"));
        assert_eq!(rate_from_e8(rate_to_e8(d("0.13812345"))), d("0.13812345"));
        for bad in ["", "0", "-7", "7,1", "abc", "1.123456789", "2000000"] {
            assert!(parse_rate("rate", bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_price_crosses_currencies_through_the_base() {
        // 71 yuan in dollars at 7.10, and 10 dollars in euros at 7.10 and 7.70.
        assert_eq!(cross(d("71.00"), Decimal::ONE, d("7.10"), Currency::USD), d("10.00"));
        assert_eq!(cross(d("10.00"), d("7.10"), d("7.70"), Currency::parse("EUR").unwrap()), d("9.22"));
    }

    #[test]
    fn an_entry_at_one_rate_balances_in_base_to_the_cent() {
        // An invoice of 100.01 = 88.51 + 11.50 tax: each side is converted once and spread.
        let lines = [debit(d("100.01"), None), credit(d("88.51"), None), credit(d("11.50"), None)];
        let valued = value(&lines, &mut [], d("7.1234"), Currency::CNY);
        assert_eq!(valued.difference, Decimal::ZERO);
        assert_eq!(valued.lines[0], (d("712.41"), Decimal::ZERO));
        assert_eq!(valued.lines[1].1 + valued.lines[2].1, d("712.41"));
    }

    #[test]
    fn settling_a_receivable_at_a_higher_rate_realises_a_gain() {
        // 11.30 dollars booked at 7.10 (80.23 yuan), paid when the dollar is 7.20.
        let mut receivable = [Carried { balance: d("11.30"), base: d("80.23") }];
        let payment = [debit(d("11.30"), None), credit(d("11.30"), Some(0))];
        let valued = value(&payment, &mut receivable, d("7.20"), Currency::CNY);
        assert_eq!(valued.lines, vec![(d("81.36"), Decimal::ZERO), (Decimal::ZERO, d("80.23"))]);
        assert_eq!(valued.difference, d("-1.13"), "a gain is a credit");
        assert_eq!(receivable[0], Carried { balance: Decimal::ZERO, base: Decimal::ZERO });
    }

    #[test]
    fn part_payments_take_their_share_and_the_last_clears_the_base_exactly() {
        // 3 dollars booked at 7.00 = 21.00; paid 1 at a time at 6.90: a 0.10 loss each time.
        let mut receivable = [Carried { balance: d("3"), base: d("21.00") }];
        let mut losses = Decimal::ZERO;
        for _ in 0..3 {
            let payment = [debit(d("1"), None), credit(d("1"), Some(0))];
            let valued = value(&payment, &mut receivable, d("6.90"), Currency::CNY);
            losses += valued.difference;
        }
        assert_eq!(losses, d("0.30"));
        assert_eq!(receivable[0], Carried { balance: Decimal::ZERO, base: Decimal::ZERO });
    }

    #[test]
    fn an_overpayment_settles_the_balance_and_books_the_rest_at_todays_rate() {
        // 10 owed at 7.00; 15 paid at 7.10: 10 settles (gain 1.00), 5 becomes a credit.
        let mut receivable = [Carried { balance: d("10"), base: d("70.00") }];
        let payment = [debit(d("15"), None), credit(d("15"), Some(0))];
        let valued = value(&payment, &mut receivable, d("7.10"), Currency::CNY);
        assert_eq!(valued.lines, vec![(d("106.50"), Decimal::ZERO), (Decimal::ZERO, d("105.50"))]);
        assert_eq!(valued.difference, d("-1.00"));
        assert_eq!(receivable[0], Carried { balance: d("-5"), base: d("-35.50") });
    }

    #[test]
    fn a_posting_that_adds_to_a_balance_is_valued_at_todays_rate() {
        let mut receivable = [Carried { balance: d("10"), base: d("70.00") }];
        let invoice = [debit(d("5"), Some(0)), credit(d("5"), None)];
        let valued = value(&invoice, &mut receivable, d("7.50"), Currency::CNY);
        assert_eq!(valued.difference, Decimal::ZERO);
        assert_eq!(receivable[0], Carried { balance: d("15"), base: d("107.50") });
    }
}
