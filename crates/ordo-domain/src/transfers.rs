//! Transfers between warehouses: what each status allows, and what receiving leaves open.

crate::text_enum!(
    /// Draft → shipped (stock has left the source and is in transit) → partially received →
    /// received (anything never received is recorded as lost in transit).
    TransferStatus {
        Draft = "draft",
        Shipped = "shipped",
        PartiallyReceived = "partially_received",
        Received = "received",
        Cancelled = "cancelled",
    }
);

impl TransferStatus {
    pub fn may_ship(self) -> bool {
        self == TransferStatus::Draft
    }

    pub fn may_receive(self) -> bool {
        matches!(self, TransferStatus::Shipped | TransferStatus::PartiallyReceived)
    }

    pub fn may_cancel(self) -> bool {
        self == TransferStatus::Draft
    }
}

/// Where a transfer stands after a receipt: fully received, still open, or closed with the
/// outstanding units written off as lost.
pub fn after_receipt(outstanding: i64, close: bool) -> TransferStatus {
    if outstanding == 0 || close { TransferStatus::Received } else { TransferStatus::PartiallyReceived }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_shipped_transfer_is_received_and_closing_ends_it() {
        assert!(TransferStatus::Draft.may_ship() && !TransferStatus::Draft.may_receive());
        assert!(TransferStatus::Shipped.may_receive() && !TransferStatus::Received.may_receive());
        assert_eq!(after_receipt(0, false), TransferStatus::Received);
        assert_eq!(after_receipt(3, false), TransferStatus::PartiallyReceived);
        assert_eq!(after_receipt(3, true), TransferStatus::Received);
    }
}
