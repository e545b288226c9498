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
