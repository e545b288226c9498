//! Stock rules: the kinds of movement that change a stock level.

crate::text_enum!(
    /// Why a stock level changed. Every change is one movement row, so any level can be
    /// rebuilt by adding up its movements.
    MovementKind {
        Adjustment = "adjustment",
        Reservation = "reservation",
        Release = "release",
        Receipt = "receipt",
        Shipment = "shipment",
        TransferOut = "transfer_out",
        TransferIn = "transfer_in",
        CountVariance = "count_variance",
        Return = "return",
    }
);

/// Stock quantities are whole units (see `money::Quantity`); a level may hold at most this.
pub const MAX_ON_HAND: i64 = 1_000_000_000;

crate::text_enum!(
    /// ABC class of a product by the value it sold: A the few that make most of it.
    AbcClass { A = "A", B = "B", C = "C" }
);

/// Classifies products by sales value, largest first: A until 80 % of the total value,
/// B until 95 %, C the rest (and everything that sold nothing).
pub fn abc_classes(values: &[(i64, rust_decimal::Decimal)]) -> Vec<(i64, AbcClass)> {
    use rust_decimal::Decimal;
    let mut sorted: Vec<(i64, Decimal)> = values.to_vec();
    sorted.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    let total: Decimal = sorted.iter().map(|(_, v)| (*v).max(Decimal::ZERO)).sum();
    let mut running = Decimal::ZERO;
    sorted
        .into_iter()
        .map(|(id, value)| {
            let class = if total.is_zero() || value <= Decimal::ZERO {
                AbcClass::C
            } else if running < total * Decimal::new(80, 2) {
                AbcClass::A
            } else if running < total * Decimal::new(95, 2) {
                AbcClass::B
            } else {
                AbcClass::C
            };
            running += value.max(Decimal::ZERO);
            (id, class)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal::Decimal;

    #[test]
    fn the_top_sellers_are_class_a_and_the_tail_class_c() {
        let values = [(1, 700), (2, 150), (3, 100), (4, 50), (5, 0)].map(|(id, v)| (id, Decimal::from(v)));
        let classes = abc_classes(&values);
        assert_eq!(classes, [(1, AbcClass::A), (2, AbcClass::A), (3, AbcClass::B), (4, AbcClass::C), (5, AbcClass::C)]);
    }
}

/// The moving-average unit cost after receiving `quantity` at `unit_cost` onto `on_hand`
/// units that cost `current` each (none yet: the receipt sets it). Rounded to 4 places,
/// the scale costs are stored in.
pub fn moving_average_cost(
    on_hand: i64,
    current: Option<rust_decimal::Decimal>,
    quantity: i64,
    unit_cost: rust_decimal::Decimal,
) -> rust_decimal::Decimal {
    use rust_decimal::Decimal;
    let on_hand = on_hand.max(0);
    match current {
        Some(current) if on_hand + quantity > 0 => ((Decimal::from(on_hand) * current
            + Decimal::from(quantity) * unit_cost)
            / Decimal::from(on_hand + quantity))
        .round_dp_with_strategy(4, rust_decimal::RoundingStrategy::MidpointAwayFromZero),
        _ => unit_cost,
    }
}

#[cfg(test)]
mod cost_tests {
    use super::*;
    use rust_decimal::Decimal;

    #[test]
    fn receipts_average_the_cost_by_quantity() {
        // 10 at 5.00 and 30 at 7.00 → 6.50
        assert_eq!(
            moving_average_cost(10, Some(Decimal::new(500, 2)), 30, Decimal::new(700, 2)),
            Decimal::new(65000, 4)
        );
        assert_eq!(moving_average_cost(0, None, 5, Decimal::new(300, 2)), Decimal::new(300, 2));
        // Nothing on hand: the new receipt is the cost.
        assert_eq!(moving_average_cost(0, Some(Decimal::new(900, 2)), 5, Decimal::new(300, 2)), Decimal::new(300, 2));
        // 2 at 1.00 and 1 at 2.00 → 4/3, rounded to four places.
        assert_eq!(moving_average_cost(2, Some(Decimal::ONE), 1, Decimal::from(2)), Decimal::new(13333, 4));
    }
}
