//! Versioned schema migrations, one portable list for every engine. Each step runs in its
//! own transaction and is recorded in `schema_migrations`. The only per-engine token is
//! `{id}`, the auto-generated primary key. Integers are BIGINT (amounts scaled by 10^4,
//! times in microseconds since the epoch, UTC); indexed text is VARCHAR so MySQL can index it.

use super::{DbError, Dialect, Tx};

pub struct Migration {
    pub version: i64,
    pub name: &'static str,
    pub statements: &'static [&'static str],
}

pub const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        name: "order core",
        statements: &[
            "CREATE TABLE products (
            id {id},
            sku VARCHAR(64) NOT NULL,
            name VARCHAR(200) NOT NULL,
            description TEXT,
            unit VARCHAR(16) NOT NULL,
            price_e4 BIGINT NOT NULL,
            currency VARCHAR(3) NOT NULL,
            tax_rate_e4 BIGINT NOT NULL,
            weight_g BIGINT,
            active BIGINT NOT NULL,
            version BIGINT NOT NULL,
            created_at BIGINT NOT NULL,
            updated_at BIGINT NOT NULL,
            CONSTRAINT products_sku_key UNIQUE (sku)
        )",
            "CREATE TABLE price_lists (
            id {id},
            code VARCHAR(32) NOT NULL,
            name VARCHAR(200) NOT NULL,
            currency VARCHAR(3) NOT NULL,
            customer_group VARCHAR(32),
            created_at BIGINT NOT NULL,
            CONSTRAINT price_lists_code_key UNIQUE (code)
        )",
            "CREATE TABLE price_list_items (
            price_list_id BIGINT NOT NULL REFERENCES price_lists (id),
            product_id BIGINT NOT NULL REFERENCES products (id),
            price_e4 BIGINT NOT NULL,
            PRIMARY KEY (price_list_id, product_id)
        )",
            "CREATE TABLE warehouses (
            id {id},
            code VARCHAR(32) NOT NULL,
            name VARCHAR(200) NOT NULL,
            region VARCHAR(100),
            address TEXT,
            created_at BIGINT NOT NULL,
            CONSTRAINT warehouses_code_key UNIQUE (code)
        )",
            "CREATE TABLE customers (
            id {id},
            code VARCHAR(32) NOT NULL,
            name VARCHAR(200) NOT NULL,
            customer_group VARCHAR(32) NOT NULL,
            region VARCHAR(100),
            email VARCHAR(200),
            phone VARCHAR(40),
            contact_name VARCHAR(100),
            shipping_address TEXT,
            billing_address TEXT,
            payment_terms VARCHAR(16) NOT NULL,
            credit_limit_e4 BIGINT,
            currency VARCHAR(3),
            price_list_id BIGINT REFERENCES price_lists (id),
            version BIGINT NOT NULL,
            created_at BIGINT NOT NULL,
            updated_at BIGINT NOT NULL,
            CONSTRAINT customers_code_key UNIQUE (code)
        )",
            "CREATE TABLE stock_levels (
            product_id BIGINT NOT NULL REFERENCES products (id),
            warehouse_id BIGINT NOT NULL REFERENCES warehouses (id),
            on_hand BIGINT NOT NULL,
            reserved BIGINT NOT NULL,
            updated_at BIGINT NOT NULL,
            PRIMARY KEY (product_id, warehouse_id),
            CONSTRAINT stock_never_negative CHECK (reserved >= 0 AND on_hand >= reserved)
        )",
            "CREATE TABLE stock_movements (
            id {id},
            product_id BIGINT NOT NULL,
            warehouse_id BIGINT NOT NULL,
            kind VARCHAR(16) NOT NULL,
            on_hand_delta BIGINT NOT NULL,
            reserved_delta BIGINT NOT NULL,
            reason VARCHAR(500),
            reference VARCHAR(100),
            actor VARCHAR(200) NOT NULL,
            at BIGINT NOT NULL
        )",
            "CREATE INDEX stock_movements_item ON stock_movements (product_id, warehouse_id, id)",
            "CREATE TABLE counters (
            name VARCHAR(64) NOT NULL PRIMARY KEY,
            value BIGINT NOT NULL
        )",
            "CREATE TABLE orders (
            id {id},
            number VARCHAR(32) NOT NULL,
            customer_id BIGINT NOT NULL REFERENCES customers (id),
            channel VARCHAR(16) NOT NULL,
            external_ref VARCHAR(100),
            currency VARCHAR(3) NOT NULL,
            status VARCHAR(24) NOT NULL,
            payment_status VARCHAR(24) NOT NULL,
            fulfillment_status VARCHAR(24) NOT NULL,
            subtotal_e4 BIGINT NOT NULL,
            tax_total_e4 BIGINT NOT NULL,
            total_e4 BIGINT NOT NULL,
            payment_terms VARCHAR(16) NOT NULL,
            shipping_address TEXT,
            billing_address TEXT,
            notes TEXT,
            requested_delivery_date VARCHAR(10),
            created_by VARCHAR(200) NOT NULL,
            version BIGINT NOT NULL,
            created_at BIGINT NOT NULL,
            updated_at BIGINT NOT NULL,
            CONSTRAINT orders_number_key UNIQUE (number),
            CONSTRAINT orders_channel_external_ref_key UNIQUE (channel, external_ref)
        )",
            "CREATE INDEX orders_customer ON orders (customer_id, id)",
            "CREATE INDEX orders_status ON orders (status, id)",
            "CREATE INDEX orders_created ON orders (created_at)",
            "CREATE TABLE order_lines (
            id {id},
            order_id BIGINT NOT NULL REFERENCES orders (id),
            line_no BIGINT NOT NULL,
            product_id BIGINT NOT NULL REFERENCES products (id),
            sku VARCHAR(64) NOT NULL,
            name VARCHAR(200) NOT NULL,
            quantity BIGINT NOT NULL,
            unit_price_e4 BIGINT NOT NULL,
            discount_percent_e4 BIGINT NOT NULL,
            tax_rate_e4 BIGINT NOT NULL,
            line_total_e4 BIGINT NOT NULL,
            tax_e4 BIGINT NOT NULL,
            warehouse_id BIGINT NOT NULL REFERENCES warehouses (id)
        )",
            "CREATE INDEX order_lines_order ON order_lines (order_id, line_no)",
            "CREATE TABLE order_events (
            id {id},
            order_id BIGINT NOT NULL REFERENCES orders (id),
            at BIGINT NOT NULL,
            actor VARCHAR(200) NOT NULL,
            action VARCHAR(40) NOT NULL,
            details TEXT NOT NULL
        )",
            "CREATE INDEX order_events_order ON order_events (order_id, id)",
            "CREATE TABLE api_tokens (
            id {id},
            name VARCHAR(100) NOT NULL,
            role VARCHAR(32) NOT NULL,
            token_hash VARCHAR(64) NOT NULL,
            created_at BIGINT NOT NULL,
            revoked_at BIGINT,
            CONSTRAINT api_tokens_hash_key UNIQUE (token_hash)
        )",
            "CREATE TABLE idempotency_keys (
            scope_key VARCHAR(300) NOT NULL PRIMARY KEY,
            request_hash VARCHAR(64) NOT NULL,
            status_code BIGINT NOT NULL,
            response TEXT NOT NULL,
            created_at BIGINT NOT NULL
        )",
        ],
    },
    Migration {
        version: 2,
        name: "users, sessions and the audit log",
        statements: &[
            "CREATE TABLE users (
            id {id},
            email VARCHAR(200) NOT NULL,
            name VARCHAR(200) NOT NULL,
            roles VARCHAR(200) NOT NULL,
            password_hash VARCHAR(200) NOT NULL,
            must_change_password BIGINT NOT NULL,
            locale VARCHAR(10) NOT NULL,
            failed_sign_ins BIGINT NOT NULL,
            locked_until BIGINT,
            disabled BIGINT NOT NULL,
            created_at BIGINT NOT NULL,
            updated_at BIGINT NOT NULL,
            CONSTRAINT users_email_key UNIQUE (email)
        )",
            "CREATE TABLE sessions (
            token_hash VARCHAR(64) NOT NULL PRIMARY KEY,
            user_id BIGINT NOT NULL REFERENCES users (id),
            created_at BIGINT NOT NULL,
            expires_at BIGINT NOT NULL
        )",
            "CREATE TABLE audit_log (
            id {id},
            at BIGINT NOT NULL,
            actor VARCHAR(200) NOT NULL,
            source VARCHAR(16) NOT NULL,
            ip VARCHAR(64),
            area VARCHAR(32) NOT NULL,
            action VARCHAR(60) NOT NULL,
            target VARCHAR(200),
            summary TEXT NOT NULL
        )",
            "CREATE INDEX audit_log_at ON audit_log (at)",
            "CREATE INDEX audit_log_actor ON audit_log (actor, id)",
        ],
    },
    Migration {
        version: 3,
        name: "two-factor sign-in",
        statements: &[
            "ALTER TABLE users ADD COLUMN totp_secret VARCHAR(64)",
            "ALTER TABLE users ADD COLUMN totp_pending VARCHAR(64)",
            "ALTER TABLE users ADD COLUMN totp_last_step BIGINT",
            "ALTER TABLE sessions ADD COLUMN second_factor_pending BIGINT NOT NULL DEFAULT 0",
            "CREATE TABLE recovery_codes (
                user_id BIGINT NOT NULL REFERENCES users (id),
                code_hash VARCHAR(64) NOT NULL,
                used_at BIGINT,
                PRIMARY KEY (user_id, code_hash)
            )",
        ],
    },
    Migration {
        version: 4,
        name: "order list indexes",
        // Lists show the newest orders first: with (filter, created_at) the newest matching
        // orders are read in index order and the scan stops after one page.
        statements: &[
            "DROP INDEX orders_status",
            "DROP INDEX orders_customer",
            "CREATE INDEX orders_status ON orders (status, created_at)",
            "CREATE INDEX orders_customer ON orders (customer_id, created_at)",
            "CREATE INDEX orders_channel ON orders (channel, created_at)",
            "CREATE INDEX orders_payment_status ON orders (payment_status, created_at)",
            "CREATE INDEX orders_fulfillment_status ON orders (fulfillment_status, created_at)",
        ],
    },
    Migration {
        version: 5,
        name: "order processing: rules, approvals, holds, settings, jobs",
        statements: &[
            "ALTER TABLE orders ADD COLUMN tags TEXT",
            "ALTER TABLE products ADD COLUMN tags TEXT",
            // Moving-average cost (×10^4, in the product's currency), kept by receipts.
            "ALTER TABLE products ADD COLUMN cost_e4 BIGINT",
            "ALTER TABLE orders ADD COLUMN department VARCHAR(50)",
            "ALTER TABLE orders ADD COLUMN priority BIGINT NOT NULL DEFAULT 0",
            // Sorted "sku×quantity" of the lines, hashed: finds suspected duplicates.
            "ALTER TABLE orders ADD COLUMN fingerprint VARCHAR(64)",
            "ALTER TABLE orders ADD COLUMN split_from BIGINT",
            "ALTER TABLE orders ADD COLUMN merged_into BIGINT",
            "ALTER TABLE orders ADD COLUMN approval_round BIGINT NOT NULL DEFAULT 0",
            // 0 while an order waits for approval without holding stock (a setting).
            "ALTER TABLE orders ADD COLUMN stock_reserved BIGINT NOT NULL DEFAULT 1",
            "CREATE INDEX orders_fingerprint ON orders (customer_id, fingerprint, created_at)",
            "CREATE INDEX orders_department ON orders (department, status)",
            "CREATE TABLE rules (
                id {id},
                name VARCHAR(100) NOT NULL,
                condition_text TEXT NOT NULL,
                actions TEXT NOT NULL,
                priority BIGINT NOT NULL,
                enabled BIGINT NOT NULL,
                version BIGINT NOT NULL,
                created_by VARCHAR(200) NOT NULL,
                created_at BIGINT NOT NULL,
                updated_by VARCHAR(200) NOT NULL,
                updated_at BIGINT NOT NULL,
                deleted_at BIGINT
            )",
            "CREATE TABLE rule_revisions (
                id {id},
                rule_id BIGINT NOT NULL REFERENCES rules (id),
                version BIGINT NOT NULL,
                change_kind VARCHAR(16) NOT NULL,
                name VARCHAR(100) NOT NULL,
                condition_text TEXT NOT NULL,
                actions TEXT NOT NULL,
                priority BIGINT NOT NULL,
                enabled BIGINT NOT NULL,
                changed_by VARCHAR(200) NOT NULL,
                changed_at BIGINT NOT NULL
            )",
            "CREATE INDEX rule_revisions_rule ON rule_revisions (rule_id, version)",
            "CREATE TABLE approval_steps (
                id {id},
                order_id BIGINT NOT NULL REFERENCES orders (id),
                round BIGINT NOT NULL,
                step BIGINT NOT NULL,
                role VARCHAR(16) NOT NULL,
                status VARCHAR(16) NOT NULL,
                rule_id BIGINT,
                requested_at BIGINT NOT NULL,
                escalated_at BIGINT,
                escalated_to VARCHAR(16),
                decided_at BIGINT,
                decided_by VARCHAR(200),
                comment TEXT
            )",
            "CREATE INDEX approval_steps_order ON approval_steps (order_id, round, step)",
            "CREATE INDEX approval_steps_status ON approval_steps (status, requested_at)",
            "CREATE TABLE order_holds (
                id {id},
                order_id BIGINT NOT NULL REFERENCES orders (id),
                code VARCHAR(32) NOT NULL,
                message TEXT NOT NULL,
                created_by VARCHAR(200) NOT NULL,
                created_at BIGINT NOT NULL,
                released_at BIGINT,
                released_by VARCHAR(200),
                release_reason TEXT
            )",
            "CREATE INDEX order_holds_order ON order_holds (order_id, released_at)",
            "CREATE TABLE settings (
                name VARCHAR(64) NOT NULL PRIMARY KEY,
                value TEXT NOT NULL,
                updated_by VARCHAR(200) NOT NULL,
                updated_at BIGINT NOT NULL
            )",
            "CREATE TABLE job_leases (
                name VARCHAR(64) NOT NULL PRIMARY KEY,
                holder VARCHAR(100) NOT NULL,
                expires_at BIGINT NOT NULL
            )",
        ],
    },
    Migration {
        version: 6,
        name: "inventory and supply: transfers, stock counts, suppliers, purchase orders",
        statements: &[
            "CREATE TABLE transfers (
                id {id},
                number VARCHAR(32) NOT NULL,
                from_warehouse_id BIGINT NOT NULL REFERENCES warehouses (id),
                to_warehouse_id BIGINT NOT NULL REFERENCES warehouses (id),
                status VARCHAR(24) NOT NULL,
                note TEXT,
                version BIGINT NOT NULL,
                created_by VARCHAR(200) NOT NULL,
                created_at BIGINT NOT NULL,
                shipped_at BIGINT,
                received_at BIGINT,
                CONSTRAINT transfers_number_key UNIQUE (number)
            )",
            "CREATE INDEX transfers_status ON transfers (status, id)",
            "CREATE TABLE transfer_lines (
                transfer_id BIGINT NOT NULL REFERENCES transfers (id),
                line_no BIGINT NOT NULL,
                product_id BIGINT NOT NULL REFERENCES products (id),
                quantity BIGINT NOT NULL,
                received BIGINT NOT NULL,
                lost BIGINT NOT NULL,
                PRIMARY KEY (transfer_id, line_no)
            )",
            "CREATE INDEX transfer_lines_product ON transfer_lines (product_id)",
            "CREATE TABLE stock_counts (
                id {id},
                number VARCHAR(32) NOT NULL,
                warehouse_id BIGINT NOT NULL REFERENCES warehouses (id),
                scope VARCHAR(200) NOT NULL,
                status VARCHAR(16) NOT NULL,
                version BIGINT NOT NULL,
                created_by VARCHAR(200) NOT NULL,
                created_at BIGINT NOT NULL,
                posted_by VARCHAR(200),
                posted_at BIGINT,
                CONSTRAINT stock_counts_number_key UNIQUE (number)
            )",
            "CREATE TABLE stock_count_lines (
                count_id BIGINT NOT NULL REFERENCES stock_counts (id),
                product_id BIGINT NOT NULL REFERENCES products (id),
                expected BIGINT NOT NULL,
                counted BIGINT,
                counted_by VARCHAR(200),
                counted_at BIGINT,
                PRIMARY KEY (count_id, product_id)
            )",
            "CREATE TABLE suppliers (
                id {id},
                code VARCHAR(32) NOT NULL,
                name VARCHAR(200) NOT NULL,
                contact_name VARCHAR(100),
                email VARCHAR(200),
                phone VARCHAR(50),
                lead_time_days BIGINT NOT NULL,
                currency VARCHAR(3) NOT NULL,
                version BIGINT NOT NULL,
                created_at BIGINT NOT NULL,
                CONSTRAINT suppliers_code_key UNIQUE (code)
            )",
            "CREATE TABLE purchase_orders (
                id {id},
                number VARCHAR(32) NOT NULL,
                supplier_id BIGINT NOT NULL REFERENCES suppliers (id),
                warehouse_id BIGINT NOT NULL REFERENCES warehouses (id),
                status VARCHAR(24) NOT NULL,
                currency VARCHAR(3) NOT NULL,
                expected_date VARCHAR(10) NOT NULL,
                total_e4 BIGINT NOT NULL,
                version BIGINT NOT NULL,
                created_by VARCHAR(200) NOT NULL,
                created_at BIGINT NOT NULL,
                sent_at BIGINT,
                received_at BIGINT,
                CONSTRAINT purchase_orders_number_key UNIQUE (number)
            )",
            "CREATE INDEX purchase_orders_status ON purchase_orders (status, expected_date)",
            "CREATE TABLE purchase_order_lines (
                purchase_order_id BIGINT NOT NULL REFERENCES purchase_orders (id),
                line_no BIGINT NOT NULL,
                product_id BIGINT NOT NULL REFERENCES products (id),
                quantity BIGINT NOT NULL,
                received BIGINT NOT NULL,
                unit_cost_e4 BIGINT NOT NULL,
                PRIMARY KEY (purchase_order_id, line_no)
            )",
            "CREATE INDEX purchase_order_lines_product ON purchase_order_lines (product_id)",
            "CREATE TABLE replenishment (
                product_id BIGINT NOT NULL REFERENCES products (id),
                warehouse_id BIGINT NOT NULL REFERENCES warehouses (id),
                reorder_point BIGINT NOT NULL,
                safety_stock BIGINT NOT NULL,
                lead_time_days BIGINT NOT NULL,
                min_order_quantity BIGINT NOT NULL,
                supplier_id BIGINT REFERENCES suppliers (id),
                updated_at BIGINT NOT NULL,
                PRIMARY KEY (product_id, warehouse_id)
            )",
            // Units of a line waiting for supply, and when they are promised.
            "ALTER TABLE order_lines ADD COLUMN backordered BIGINT NOT NULL DEFAULT 0",
            "ALTER TABLE order_lines ADD COLUMN promise_date VARCHAR(10)",
            "ALTER TABLE products ADD COLUMN backorderable BIGINT NOT NULL DEFAULT 0",
            "ALTER TABLE customers ADD COLUMN accepts_backorders BIGINT NOT NULL DEFAULT 1",
            // Set while a level is below its reorder point and its low-stock event was sent.
            "ALTER TABLE replenishment ADD COLUMN low_since BIGINT",
            // Domain events, written in the transaction of the change that caused them: the
            // feed consumers poll, and the outbox deliveries will be made from.
            "CREATE TABLE events (
                id {id},
                type VARCHAR(64) NOT NULL,
                aggregate VARCHAR(32) NOT NULL,
                aggregate_id BIGINT NOT NULL,
                data TEXT NOT NULL,
                created_at BIGINT NOT NULL
            )",
            "CREATE INDEX events_type ON events (type, id)",
            // Lines waiting for supply, by product: a partial index, so the lines of ordinary
            // orders (nearly all) cost nothing to index. Sales history for forecasts is read
            // through recent orders instead (orders by created_at, then their lines).
            "CREATE INDEX order_lines_backordered ON order_lines (product_id) WHERE backordered > 0",
        ],
    },
    Migration {
        version: 7,
        name: "payments, ledger and invoices",
        statements: &[
            // An order's money, kept beside its status so lists and checks need no sums.
            "ALTER TABLE orders ADD COLUMN paid_e4 BIGINT NOT NULL DEFAULT 0",
            "ALTER TABLE orders ADD COLUMN on_account_e4 BIGINT NOT NULL DEFAULT 0",
            "ALTER TABLE orders ADD COLUMN authorized_e4 BIGINT NOT NULL DEFAULT 0",
            "ALTER TABLE orders ADD COLUMN refunded_e4 BIGINT NOT NULL DEFAULT 0",
            // Credit notes and write-offs.
            "ALTER TABLE orders ADD COLUMN credited_e4 BIGINT NOT NULL DEFAULT 0",
            "ALTER TABLE orders ADD COLUMN invoiced_e4 BIGINT NOT NULL DEFAULT 0",
            "ALTER TABLE orders ADD COLUMN payment_method VARCHAR(32)",
            "ALTER TABLE order_lines ADD COLUMN invoiced BIGINT NOT NULL DEFAULT 0",
            "CREATE INDEX orders_payment_method ON orders (payment_method, payment_status, created_at)",
            "CREATE TABLE payments (
                id {id},
                order_id BIGINT NOT NULL REFERENCES orders (id),
                customer_id BIGINT NOT NULL REFERENCES customers (id),
                method VARCHAR(32) NOT NULL,
                kind VARCHAR(16) NOT NULL,
                currency VARCHAR(3) NOT NULL,
                amount_e4 BIGINT NOT NULL,
                applied_e4 BIGINT NOT NULL,
                refunded_e4 BIGINT NOT NULL,
                status VARCHAR(16) NOT NULL,
                reference VARCHAR(200),
                provider VARCHAR(32),
                provider_ref VARCHAR(100),
                failure_reason VARCHAR(500),
                created_by VARCHAR(200) NOT NULL,
                created_at BIGINT NOT NULL,
                updated_at BIGINT NOT NULL,
                CONSTRAINT payments_provider_ref_key UNIQUE (provider, provider_ref)
            )",
            "CREATE INDEX payments_order ON payments (order_id, id)",
            "CREATE TABLE refunds (
                id {id},
                payment_id BIGINT NOT NULL REFERENCES payments (id),
                order_id BIGINT NOT NULL REFERENCES orders (id),
                amount_e4 BIGINT NOT NULL,
                reason VARCHAR(500) NOT NULL,
                to_store_credit BIGINT NOT NULL,
                status VARCHAR(24) NOT NULL,
                credit_note_id BIGINT,
                provider_ref VARCHAR(100),
                requested_by VARCHAR(200) NOT NULL,
                requested_at BIGINT NOT NULL,
                decided_by VARCHAR(200),
                decided_at BIGINT
            )",
            "CREATE INDEX refunds_order ON refunds (order_id, id)",
            "CREATE INDEX refunds_status ON refunds (status, id)",
            // Provider callbacks seen, so a replayed one changes nothing.
            "CREATE TABLE provider_events (
                provider VARCHAR(32) NOT NULL,
                event_id VARCHAR(100) NOT NULL,
                received_at BIGINT NOT NULL,
                PRIMARY KEY (provider, event_id)
            )",
            "CREATE TABLE ledger_entries (
                id {id},
                at BIGINT NOT NULL,
                kind VARCHAR(32) NOT NULL,
                source VARCHAR(64) NOT NULL,
                memo VARCHAR(500) NOT NULL,
                currency VARCHAR(3) NOT NULL,
                customer_id BIGINT,
                order_id BIGINT,
                actor VARCHAR(200) NOT NULL
            )",
            "CREATE INDEX ledger_entries_order ON ledger_entries (order_id)",
            "CREATE TABLE ledger_lines (
                id {id},
                entry_id BIGINT NOT NULL REFERENCES ledger_entries (id),
                account VARCHAR(8) NOT NULL,
                currency VARCHAR(3) NOT NULL,
                customer_id BIGINT,
                order_id BIGINT,
                debit_e4 BIGINT NOT NULL,
                credit_e4 BIGINT NOT NULL,
                at BIGINT NOT NULL
            )",
            "CREATE INDEX ledger_lines_account ON ledger_lines (currency, account, at)",
            "CREATE INDEX ledger_lines_customer ON ledger_lines (customer_id, account, at)",
            // Invoices, credit notes and write-offs: one gap-free number series per kind and year.
            "CREATE TABLE invoices (
                id {id},
                number VARCHAR(32) NOT NULL,
                kind VARCHAR(16) NOT NULL,
                order_id BIGINT NOT NULL REFERENCES orders (id),
                customer_id BIGINT NOT NULL REFERENCES customers (id),
                currency VARCHAR(3) NOT NULL,
                subtotal_e4 BIGINT NOT NULL,
                tax_e4 BIGINT NOT NULL,
                total_e4 BIGINT NOT NULL,
                issued_at BIGINT NOT NULL,
                due_date VARCHAR(10) NOT NULL,
                corrects_id BIGINT REFERENCES invoices (id),
                reason VARCHAR(500),
                bill_to TEXT NOT NULL,
                created_by VARCHAR(200) NOT NULL,
                CONSTRAINT invoices_number_key UNIQUE (number)
            )",
            "CREATE INDEX invoices_order ON invoices (order_id, id)",
            "CREATE INDEX invoices_customer ON invoices (customer_id, issued_at)",
            "CREATE TABLE invoice_lines (
                invoice_id BIGINT NOT NULL REFERENCES invoices (id),
                line_no BIGINT NOT NULL,
                sku VARCHAR(64) NOT NULL,
                name VARCHAR(200) NOT NULL,
                quantity BIGINT NOT NULL,
                unit_price_e4 BIGINT NOT NULL,
                discount_percent_e4 BIGINT NOT NULL,
                tax_rate_e4 BIGINT NOT NULL,
                line_total_e4 BIGINT NOT NULL,
                tax_e4 BIGINT NOT NULL,
                PRIMARY KEY (invoice_id, line_no)
            )",
            "CREATE TABLE bank_statements (
                id {id},
                name VARCHAR(200) NOT NULL,
                currency VARCHAR(3) NOT NULL,
                uploaded_by VARCHAR(200) NOT NULL,
                uploaded_at BIGINT NOT NULL
            )",
            "CREATE TABLE bank_statement_lines (
                statement_id BIGINT NOT NULL REFERENCES bank_statements (id),
                line_no BIGINT NOT NULL,
                booked_on VARCHAR(10) NOT NULL,
                amount_e4 BIGINT NOT NULL,
                reference VARCHAR(500) NOT NULL,
                counterparty VARCHAR(200) NOT NULL,
                status VARCHAR(16) NOT NULL,
                invoice_id BIGINT REFERENCES invoices (id),
                payment_id BIGINT REFERENCES payments (id),
                note VARCHAR(500),
                candidates TEXT,
                PRIMARY KEY (statement_id, line_no)
            )",
        ],
    },
    Migration {
        version: 8,
        name: "fulfillment: sourcing, picking, shipments, carriers, tracking",
        statements: &[
            "ALTER TABLE warehouses ADD COLUMN priority BIGINT NOT NULL DEFAULT 0",
            "ALTER TABLE warehouses ADD COLUMN handling_fee_e4 BIGINT NOT NULL DEFAULT 0",
            // A store or warehouse where customers may collect (自提).
            "ALTER TABLE warehouses ADD COLUMN pickup BIGINT NOT NULL DEFAULT 0",
            "ALTER TABLE stock_levels ADD COLUMN bin VARCHAR(32)",
            "ALTER TABLE order_lines ADD COLUMN picked BIGINT NOT NULL DEFAULT 0",
            "ALTER TABLE order_lines ADD COLUMN shipped BIGINT NOT NULL DEFAULT 0",
            // `CARRIER` or `CARRIER/SERVICE` asked for by the order or a rule; `pickup` to collect.
            "ALTER TABLE orders ADD COLUMN shipping_service VARCHAR(65)",
            "ALTER TABLE orders ADD COLUMN split_reason VARCHAR(1000)",
            "ALTER TABLE orders ADD COLUMN delivered_at BIGINT",
            "CREATE INDEX orders_delivered ON orders (status, delivered_at)",
            "CREATE TABLE carriers (
                id {id},
                code VARCHAR(32) NOT NULL,
                name VARCHAR(200) NOT NULL,
                tracking_url_template VARCHAR(500),
                max_weight_kg_e4 BIGINT,
                regions TEXT,
                refuses_tags TEXT,
                volumetric_divisor BIGINT,
                surcharges TEXT,
                active BIGINT NOT NULL,
                version BIGINT NOT NULL,
                created_at BIGINT NOT NULL,
                updated_at BIGINT NOT NULL,
                CONSTRAINT carriers_code_key UNIQUE (code)
            )",
            "CREATE TABLE carrier_services (
                carrier_id BIGINT NOT NULL REFERENCES carriers (id),
                code VARCHAR(32) NOT NULL,
                name VARCHAR(200) NOT NULL,
                transit_days BIGINT NOT NULL,
                PRIMARY KEY (carrier_id, code)
            )",
            "CREATE TABLE carrier_rates (
                id {id},
                carrier_id BIGINT NOT NULL REFERENCES carriers (id),
                service VARCHAR(32) NOT NULL,
                region VARCHAR(100) NOT NULL,
                from_region VARCHAR(100),
                max_weight_kg_e4 BIGINT NOT NULL,
                price_e4 BIGINT NOT NULL,
                currency VARCHAR(3) NOT NULL
            )",
            "CREATE INDEX carrier_rates_carrier ON carrier_rates (carrier_id, service)",
            "CREATE TABLE pick_lists (
                id {id},
                number VARCHAR(32) NOT NULL,
                warehouse_id BIGINT NOT NULL REFERENCES warehouses (id),
                status VARCHAR(16) NOT NULL,
                created_by VARCHAR(200) NOT NULL,
                created_at BIGINT NOT NULL,
                confirmed_by VARCHAR(200),
                confirmed_at BIGINT,
                CONSTRAINT pick_lists_number_key UNIQUE (number)
            )",
            "CREATE TABLE pick_list_lines (
                id {id},
                pick_list_id BIGINT NOT NULL REFERENCES pick_lists (id),
                order_id BIGINT NOT NULL REFERENCES orders (id),
                line_no BIGINT NOT NULL,
                product_id BIGINT NOT NULL REFERENCES products (id),
                sku VARCHAR(64) NOT NULL,
                bin VARCHAR(32),
                quantity BIGINT NOT NULL,
                picked BIGINT,
                handling VARCHAR(16)
            )",
            "CREATE INDEX pick_list_lines_list ON pick_list_lines (pick_list_id, id)",
            "CREATE INDEX pick_list_lines_order ON pick_list_lines (order_id, picked)",
            "CREATE TABLE shipments (
                id {id},
                number VARCHAR(32) NOT NULL,
                order_id BIGINT NOT NULL REFERENCES orders (id),
                warehouse_id BIGINT NOT NULL REFERENCES warehouses (id),
                carrier VARCHAR(32) NOT NULL,
                service VARCHAR(32) NOT NULL,
                tracking_number VARCHAR(64),
                status VARCHAR(24) NOT NULL,
                cost_e4 BIGINT NOT NULL,
                currency VARCHAR(3) NOT NULL,
                weight_kg_e4 BIGINT NOT NULL,
                pickup_code VARCHAR(16),
                estimated_delivery VARCHAR(10),
                promised_date VARCHAR(10),
                claim_status VARCHAR(16),
                shipped_at BIGINT NOT NULL,
                delivered_at BIGINT,
                created_by VARCHAR(200) NOT NULL,
                version BIGINT NOT NULL,
                updated_at BIGINT NOT NULL,
                CONSTRAINT shipments_number_key UNIQUE (number)
            )",
            "CREATE INDEX shipments_order ON shipments (order_id, id)",
            "CREATE INDEX shipments_tracking ON shipments (tracking_number)",
            "CREATE INDEX shipments_status ON shipments (status, estimated_delivery)",
            "CREATE TABLE shipment_lines (
                shipment_id BIGINT NOT NULL REFERENCES shipments (id),
                package_no BIGINT NOT NULL,
                line_no BIGINT NOT NULL,
                product_id BIGINT NOT NULL REFERENCES products (id),
                sku VARCHAR(64) NOT NULL,
                quantity BIGINT NOT NULL,
                PRIMARY KEY (shipment_id, package_no, line_no)
            )",
            "CREATE TABLE shipment_packages (
                shipment_id BIGINT NOT NULL REFERENCES shipments (id),
                package_no BIGINT NOT NULL,
                weight_kg_e4 BIGINT NOT NULL,
                length_cm BIGINT,
                width_cm BIGINT,
                height_cm BIGINT,
                PRIMARY KEY (shipment_id, package_no)
            )",
            "CREATE TABLE tracking_events (
                id {id},
                shipment_id BIGINT NOT NULL REFERENCES shipments (id),
                status VARCHAR(24) NOT NULL,
                raw_status VARCHAR(64) NOT NULL,
                at BIGINT NOT NULL,
                location VARCHAR(200),
                detail VARCHAR(500),
                source VARCHAR(16) NOT NULL,
                actor VARCHAR(200) NOT NULL,
                recorded_at BIGINT NOT NULL,
                CONSTRAINT tracking_events_once UNIQUE (shipment_id, status, at)
            )",
            "CREATE INDEX tracking_events_shipment ON tracking_events (shipment_id, at)",
            "CREATE TABLE claims (
                id {id},
                number VARCHAR(32) NOT NULL,
                shipment_id BIGINT NOT NULL REFERENCES shipments (id),
                order_id BIGINT NOT NULL REFERENCES orders (id),
                carrier VARCHAR(32) NOT NULL,
                kind VARCHAR(16) NOT NULL,
                status VARCHAR(16) NOT NULL,
                detail VARCHAR(500),
                resolution VARCHAR(500),
                created_at BIGINT NOT NULL,
                updated_at BIGINT NOT NULL,
                CONSTRAINT claims_number_key UNIQUE (number)
            )",
            "CREATE INDEX claims_status ON claims (status, id)",
            "CREATE INDEX claims_order ON claims (order_id)",
        ],
    },
    Migration {
        version: 9,
        name: "after-sales: returns, exchanges, tickets, feedback, damaged stock, categories",
        statements: &[
            "ALTER TABLE products ADD COLUMN category VARCHAR(100)",
            // Returned units kept apart: counted, never sold.
            "ALTER TABLE stock_levels ADD COLUMN damaged BIGINT NOT NULL DEFAULT 0",
            "ALTER TABLE stock_movements ADD COLUMN damaged_delta BIGINT NOT NULL DEFAULT 0",
            "ALTER TABLE claims ADD COLUMN remedy VARCHAR(16)",
            "ALTER TABLE claims ADD COLUMN remedy_order_id BIGINT",
            "ALTER TABLE claims ADD COLUMN claimed_e4 BIGINT",
            "CREATE TABLE returns (
                id {id},
                number VARCHAR(32) NOT NULL,
                order_id BIGINT NOT NULL REFERENCES orders (id),
                customer_id BIGINT NOT NULL REFERENCES customers (id),
                kind VARCHAR(16) NOT NULL,
                status VARCHAR(16) NOT NULL,
                decision_reason VARCHAR(2000),
                notes VARCHAR(1000),
                instructions VARCHAR(1000),
                return_shipping VARCHAR(16) NOT NULL,
                currency VARCHAR(3) NOT NULL,
                value_e4 BIGINT NOT NULL,
                fee_e4 BIGINT NOT NULL,
                refund_e4 BIGINT NOT NULL,
                refunded_e4 BIGINT NOT NULL,
                refund_ids VARCHAR(2000),
                replacement_json VARCHAR(20000),
                replacement_order_id BIGINT REFERENCES orders (id),
                advance_replacement BIGINT NOT NULL,
                settled BIGINT NOT NULL,
                created_by VARCHAR(200) NOT NULL,
                created_at BIGINT NOT NULL,
                decided_by VARCHAR(200),
                decided_at BIGINT,
                received_at BIGINT,
                refunded_at BIGINT,
                updated_at BIGINT NOT NULL,
                version BIGINT NOT NULL,
                CONSTRAINT returns_number_key UNIQUE (number)
            )",
            "CREATE INDEX returns_order ON returns (order_id)",
            "CREATE INDEX returns_customer ON returns (customer_id, id)",
            "CREATE INDEX returns_status ON returns (status, id)",
            "CREATE INDEX returns_created ON returns (created_at)",
            "CREATE TABLE return_lines (
                return_id BIGINT NOT NULL REFERENCES returns (id),
                line_no BIGINT NOT NULL,
                sku VARCHAR(64) NOT NULL,
                name VARCHAR(200) NOT NULL,
                quantity BIGINT NOT NULL,
                reason VARCHAR(32) NOT NULL,
                opened BIGINT NOT NULL,
                policy VARCHAR(100) NOT NULL,
                value_e4 BIGINT NOT NULL,
                fee_percent_e4 BIGINT NOT NULL,
                received BIGINT NOT NULL,
                disposition VARCHAR(24),
                note VARCHAR(500),
                PRIMARY KEY (return_id, line_no)
            )",
            "CREATE TABLE tickets (
                id {id},
                number VARCHAR(32) NOT NULL,
                customer_id BIGINT NOT NULL REFERENCES customers (id),
                order_id BIGINT REFERENCES orders (id),
                return_id BIGINT REFERENCES returns (id),
                subject VARCHAR(200) NOT NULL,
                category VARCHAR(16) NOT NULL,
                priority VARCHAR(16) NOT NULL,
                status VARCHAR(24) NOT NULL,
                source VARCHAR(32) NOT NULL,
                assignee VARCHAR(200),
                due_at BIGINT NOT NULL,
                first_reply_at BIGINT,
                resolved_at BIGINT,
                created_by VARCHAR(200) NOT NULL,
                created_at BIGINT NOT NULL,
                updated_at BIGINT NOT NULL,
                version BIGINT NOT NULL,
                CONSTRAINT tickets_number_key UNIQUE (number)
            )",
            "CREATE INDEX tickets_status ON tickets (status, due_at)",
            "CREATE INDEX tickets_customer ON tickets (customer_id)",
            "CREATE INDEX tickets_order ON tickets (order_id)",
            "CREATE INDEX tickets_created ON tickets (created_at)",
            "CREATE TABLE ticket_messages (
                id {id},
                ticket_id BIGINT NOT NULL REFERENCES tickets (id),
                kind VARCHAR(16) NOT NULL,
                body VARCHAR(4000) NOT NULL,
                author VARCHAR(200) NOT NULL,
                at BIGINT NOT NULL
            )",
            "CREATE INDEX ticket_messages_ticket ON ticket_messages (ticket_id, id)",
            "CREATE TABLE feedback (
                order_id BIGINT NOT NULL PRIMARY KEY REFERENCES orders (id),
                customer_id BIGINT NOT NULL REFERENCES customers (id),
                rating BIGINT NOT NULL,
                comment VARCHAR(2000),
                ticket_id BIGINT,
                created_by VARCHAR(200) NOT NULL,
                created_at BIGINT NOT NULL
            )",
            "CREATE INDEX feedback_customer ON feedback (customer_id)",
            "CREATE TABLE customer_notes (
                id {id},
                customer_id BIGINT NOT NULL REFERENCES customers (id),
                body VARCHAR(2000) NOT NULL,
                author VARCHAR(200) NOT NULL,
                at BIGINT NOT NULL
            )",
            "CREATE INDEX customer_notes_customer ON customer_notes (customer_id, id)",
        ],
    },
    Migration {
        version: 10,
        name: "integrations: outbox, webhooks, deliveries, notifications, mail templates, external ids",
        statements: &[
            // Events not yet fanned out to their subscribers: the outbox.
            "ALTER TABLE events ADD COLUMN dispatched BIGINT NOT NULL DEFAULT 0",
            "CREATE INDEX events_undispatched ON events (id) WHERE dispatched = 0",
            "CREATE INDEX events_aggregate ON events (aggregate, aggregate_id, id)",
            "CREATE TABLE webhooks (
                id {id},
                url VARCHAR(500) NOT NULL,
                events TEXT NOT NULL,
                secret VARCHAR(200) NOT NULL,
                description VARCHAR(200),
                active BIGINT NOT NULL,
                consecutive_failures BIGINT NOT NULL,
                disabled_reason TEXT,
                version BIGINT NOT NULL,
                created_by VARCHAR(200) NOT NULL,
                created_at BIGINT NOT NULL,
                updated_at BIGINT NOT NULL
            )",
            // One row per (event, destination): a webhook call, an e-mail or a bus message.
            "CREATE TABLE deliveries (
                id {id},
                channel VARCHAR(16) NOT NULL,
                target_id BIGINT NOT NULL,
                event_id BIGINT NOT NULL REFERENCES events (id),
                event_type VARCHAR(64) NOT NULL,
                aggregate VARCHAR(64) NOT NULL,
                recipient VARCHAR(500),
                subject TEXT,
                body TEXT,
                status VARCHAR(16) NOT NULL,
                attempts BIGINT NOT NULL,
                next_attempt_at BIGINT NOT NULL,
                claimed_by VARCHAR(64),
                claimed_until BIGINT,
                last_status BIGINT,
                last_error TEXT,
                delivered_at BIGINT,
                created_at BIGINT NOT NULL
            )",
            "CREATE INDEX deliveries_due ON deliveries (next_attempt_at, id) WHERE status = 'pending'",
            "CREATE INDEX deliveries_stream ON deliveries (channel, target_id, aggregate, id) WHERE status = 'pending'",
            "CREATE INDEX deliveries_target ON deliveries (channel, target_id, id)",
            "CREATE INDEX deliveries_claim ON deliveries (claimed_by) WHERE status = 'pending'",
            "CREATE INDEX deliveries_failed ON deliveries (id) WHERE status = 'failed'",
            "CREATE INDEX deliveries_done ON deliveries (delivered_at) WHERE status = 'delivered'",
            "CREATE TABLE delivery_attempts (
                id {id},
                delivery_id BIGINT NOT NULL REFERENCES deliveries (id),
                attempt BIGINT NOT NULL,
                at BIGINT NOT NULL,
                status_code BIGINT,
                error TEXT,
                duration_ms BIGINT NOT NULL
            )",
            "CREATE INDEX delivery_attempts_delivery ON delivery_attempts (delivery_id, id)",
            "CREATE TABLE notifications (
                id {id},
                user_id BIGINT NOT NULL REFERENCES users (id),
                event_id BIGINT NOT NULL,
                event_type VARCHAR(64) NOT NULL,
                title TEXT NOT NULL,
                link VARCHAR(300),
                read_at BIGINT,
                created_at BIGINT NOT NULL
            )",
            "CREATE INDEX notifications_user ON notifications (user_id, id)",
            "CREATE TABLE mail_templates (
                event_type VARCHAR(64) NOT NULL,
                language VARCHAR(10) NOT NULL,
                subject TEXT NOT NULL,
                body TEXT NOT NULL,
                updated_by VARCHAR(200) NOT NULL,
                updated_at BIGINT NOT NULL,
                PRIMARY KEY (event_type, language)
            )",
            // Keys an ERP or CRM uses for the records it is master of.
            "ALTER TABLE customers ADD COLUMN external_id VARCHAR(100)",
            "CREATE UNIQUE INDEX customers_external_id ON customers (external_id)",
            "ALTER TABLE products ADD COLUMN external_id VARCHAR(100)",
            "CREATE UNIQUE INDEX products_external_id ON products (external_id)",
            // The language a customer's messages are written in.
            "ALTER TABLE customers ADD COLUMN language VARCHAR(10)",
        ],
    },
    Migration {
        version: 11,
        name: "reports: daily sales summaries",
        statements: &[
            // What a unit cost when it was sold (the product's moving average then), so
            // margins do not move when later receipts change the average.
            "ALTER TABLE order_lines ADD COLUMN unit_cost_e4 BIGINT",
            // Sales of orders that are not cancelled, by UTC placement day; kept current in
            // the transaction that places, edits, splits, merges or cancels an order.
            "CREATE TABLE sales_customer_days (
                day BIGINT NOT NULL,
                currency VARCHAR(3) NOT NULL,
                customer_id BIGINT NOT NULL,
                channel VARCHAR(16) NOT NULL,
                orders BIGINT NOT NULL,
                units BIGINT NOT NULL,
                revenue_e4 BIGINT NOT NULL,
                tax_e4 BIGINT NOT NULL,
                PRIMARY KEY (day, currency, customer_id, channel)
            )",
            "CREATE INDEX sales_customer_days_customer ON sales_customer_days (customer_id, day)",
            "CREATE TABLE sales_product_days (
                day BIGINT NOT NULL,
                currency VARCHAR(3) NOT NULL,
                product_id BIGINT NOT NULL,
                channel VARCHAR(16) NOT NULL,
                orders BIGINT NOT NULL,
                units BIGINT NOT NULL,
                revenue_e4 BIGINT NOT NULL,
                tax_e4 BIGINT NOT NULL,
                cost_e4 BIGINT NOT NULL,
                PRIMARY KEY (day, currency, product_id, channel)
            )",
            "CREATE INDEX sales_product_days_product ON sales_product_days (product_id, day)",
            // Milestones for cycle times: first confirmed, first shipped (delivered_at exists).
            "ALTER TABLE orders ADD COLUMN confirmed_at BIGINT",
            "ALTER TABLE orders ADD COLUMN shipped_at BIGINT",
            "UPDATE orders SET shipped_at = (SELECT MIN(s.shipped_at) FROM shipments s WHERE s.order_id = orders.id)",
            "UPDATE orders SET confirmed_at = (SELECT MIN(e.at) FROM order_events e WHERE e.order_id = orders.id \
             AND e.action IN ('placed', 'approved', 'released', 'reviewed')) \
             WHERE status NOT IN ('draft', 'pending_approval', 'on_hold', 'cancelled')",
            // One row per scheduled report and period sent, so it goes out once whoever runs it.
            "CREATE TABLE report_mailings (
                schedule VARCHAR(64) NOT NULL,
                period VARCHAR(16) NOT NULL,
                mailed_at BIGINT NOT NULL,
                PRIMARY KEY (schedule, period)
            )",
            crate::reports::summaries::REBUILD_CUSTOMER_DAYS,
            crate::reports::summaries::REBUILD_PRODUCT_DAYS,
        ],
    },
    Migration {
        version: 12,
        name: "reports: salesperson, fill rate, exceptions, local days",
        statements: &[
            // The staff member (e-mail) who looks after the account: sales by salesperson.
            "ALTER TABLE customers ADD COLUMN salesperson VARCHAR(200)",
            "CREATE INDEX customers_salesperson ON customers (salesperson)",
            // 1 when the order's first shipment carried every unit ordered (fill rate).
            "ALTER TABLE orders ADD COLUMN shipped_complete BIGINT",
            "UPDATE orders SET shipped_complete = CASE WHEN \
             (SELECT COALESCE(SUM(sl.quantity), 0) FROM shipment_lines sl WHERE sl.shipment_id = \
              (SELECT MIN(s.id) FROM shipments s WHERE s.order_id = orders.id)) \
             >= (SELECT COALESCE(SUM(l.quantity), 0) FROM order_lines l WHERE l.order_id = orders.id) \
             THEN 1 ELSE 0 END WHERE shipped_at IS NOT NULL",
            // Exceptions are few: reports find them by when they were raised.
            "CREATE INDEX order_holds_created ON order_holds (created_at)",
            "CREATE INDEX claims_created ON claims (created_at)",
            // Days now begin at midnight in the business's time zone (`+08:00` unless set).
            "DELETE FROM sales_customer_days",
            "DELETE FROM sales_product_days",
            crate::reports::summaries::REBUILD_CUSTOMER_DAYS,
            crate::reports::summaries::REBUILD_PRODUCT_DAYS,
        ],
    },
    Migration {
        version: 13,
        name: "order templates",
        statements: &[
            // SKUs and quantities as JSON ([{sku, quantity}]); prices are today's when used.
            "CREATE TABLE order_templates (
                id {id},
                name VARCHAR(100) NOT NULL,
                customer_id BIGINT REFERENCES customers (id),
                lines TEXT NOT NULL,
                created_by VARCHAR(200) NOT NULL,
                created_at BIGINT NOT NULL
            )",
            "CREATE INDEX order_templates_customer ON order_templates (customer_id, name)",
        ],
    },
    Migration {
        version: 14,
        name: "bank statement lines found by what they say",
        // Finds a line an earlier statement already holds (duplicate detection).
        statements: &["CREATE INDEX bank_statement_lines_booked ON bank_statement_lines (booked_on, amount_e4)"],
    },
    Migration {
        version: 15,
        name: "imports",
        statements: &["CREATE TABLE imports (
                id {id},
                kind VARCHAR(32) NOT NULL,
                status VARCHAR(24) NOT NULL,
                result TEXT NOT NULL,
                created_by VARCHAR(200) NOT NULL,
                created_at BIGINT NOT NULL
            )"],
    },
    Migration {
        version: 16,
        name: "saved import mappings",
        statements: &["CREATE TABLE import_mappings (
                kind VARCHAR(32) NOT NULL,
                name VARCHAR(100) NOT NULL,
                mapping TEXT NOT NULL,
                updated_by VARCHAR(200) NOT NULL,
                updated_at BIGINT NOT NULL,
                PRIMARY KEY (kind, name)
            )"],
    },
    Migration {
        version: 17,
        name: "sales channels and partner keys",
        statements: &[
            // `code` is what orders carry in `orders.channel`; the kinds are channels too.
            // Partner orders are placed for `customer_id`; status callbacks go to
            // `callback_url`, signed with `callback_secret`; `inbound_mapping` is JSON.
            "CREATE TABLE channels (
                id {id},
                code VARCHAR(16) NOT NULL,
                name VARCHAR(200) NOT NULL,
                kind VARCHAR(16) NOT NULL,
                customer_id BIGINT REFERENCES customers (id),
                callback_url VARCHAR(500),
                callback_secret VARCHAR(100),
                inbound_mapping TEXT,
                active BIGINT NOT NULL,
                version BIGINT NOT NULL,
                created_by VARCHAR(200) NOT NULL,
                created_at BIGINT NOT NULL,
                updated_at BIGINT NOT NULL,
                CONSTRAINT channels_code_key UNIQUE (code)
            )",
            "INSERT INTO channels (code, name, kind, active, version, created_by, created_at, updated_at) VALUES
                ('web', 'Web shop', 'web', 1, 1, 'system', 0, 0),
                ('phone', 'Phone', 'phone', 1, 1, 'system', 0, 0),
                ('email', 'E-mail', 'email', 1, 1, 'system', 0, 0),
                ('store', 'Store / POS', 'store', 1, 1, 'system', 0, 0),
                ('marketplace', 'Marketplace', 'marketplace', 1, 1, 'system', 0, 0),
                ('distributor', 'Distributors', 'distributor', 1, 1, 'system', 0, 0),
                ('api', 'API', 'api', 1, 1, 'system', 0, 0),
                ('import', 'File import', 'import', 1, 1, 'system', 0, 0)",
            // A token with a channel is a partner key: it sees only that channel's orders.
            "ALTER TABLE api_tokens ADD COLUMN channel_id BIGINT REFERENCES channels (id)",
        ],
    },
    Migration {
        version: 18,
        name: "pricing and promotions",
        statements: &[
            // A list for a channel prices that channel's orders only (NULL: every channel).
            "ALTER TABLE price_lists ADD COLUMN channel VARCHAR(16)",
            // Quantity breaks: from `min_quantity` units a line gets `price_e4` a unit.
            "CREATE TABLE price_breaks (
                price_list_id BIGINT NOT NULL REFERENCES price_lists (id),
                product_id BIGINT NOT NULL REFERENCES products (id),
                min_quantity BIGINT NOT NULL,
                price_e4 BIGINT NOT NULL,
                PRIMARY KEY (price_list_id, product_id, min_quantity)
            )",
            "CREATE TABLE member_tiers (
                id {id},
                code VARCHAR(32) NOT NULL,
                name VARCHAR(200) NOT NULL,
                discount_percent_e4 BIGINT NOT NULL,
                created_at BIGINT NOT NULL,
                CONSTRAINT member_tiers_code_key UNIQUE (code)
            )",
            "ALTER TABLE customers ADD COLUMN tier_id BIGINT REFERENCES member_tiers (id)",
            // `benefit`: percent_off (percent_e4), amount_off (amount_e4, per unit on lines),
            // buy_x_get_y (buy_quantity, get_quantity). `skus` is a comma list.
            // `times_used` counts orders that took the promotion, against `usage_limit`.
            "CREATE TABLE promotions (
                id {id},
                code VARCHAR(32) NOT NULL,
                name VARCHAR(200) NOT NULL,
                scope VARCHAR(8) NOT NULL,
                benefit VARCHAR(16) NOT NULL,
                percent_e4 BIGINT,
                amount_e4 BIGINT,
                buy_quantity BIGINT,
                get_quantity BIGINT,
                currency VARCHAR(3),
                min_order_e4 BIGINT,
                skus TEXT,
                customer_group VARCHAR(32),
                channel VARCHAR(16),
                starts_at BIGINT,
                ends_at BIGINT,
                coupon_code VARCHAR(32),
                usage_limit BIGINT,
                once_per_customer BIGINT NOT NULL,
                times_used BIGINT NOT NULL,
                priority BIGINT NOT NULL,
                active BIGINT NOT NULL,
                version BIGINT NOT NULL,
                created_by VARCHAR(200) NOT NULL,
                created_at BIGINT NOT NULL,
                updated_at BIGINT NOT NULL,
                CONSTRAINT promotions_code_key UNIQUE (code),
                CONSTRAINT promotions_coupon_key UNIQUE (coupon_code)
            )",
            // One row per promotion an order took. `once_key` is the customer for a
            // once-per-customer promotion and the order otherwise, so the unique key stops a
            // second use even when two orders race.
            "CREATE TABLE promotion_redemptions (
                promotion_id BIGINT NOT NULL REFERENCES promotions (id),
                order_id BIGINT NOT NULL REFERENCES orders (id),
                customer_id BIGINT NOT NULL REFERENCES customers (id),
                once_key VARCHAR(40) NOT NULL,
                amount_e4 BIGINT NOT NULL,
                created_at BIGINT NOT NULL,
                PRIMARY KEY (promotion_id, order_id),
                CONSTRAINT promotion_redemptions_once_key UNIQUE (promotion_id, once_key)
            )",
            "ALTER TABLE orders ADD COLUMN coupon_code VARCHAR(32)",
            // Where a line's price came from and what was taken off it (JSON), so the
            // order can always explain its totals.
            "ALTER TABLE order_lines ADD COLUMN pricing TEXT",
        ],
    },
    Migration {
        version: 19,
        name: "customer portal",
        statements: &[
            // A user with a customer is a portal user: they sign in at /portal and see only
            // that customer's data; the staff console refuses them.
            "ALTER TABLE users ADD COLUMN customer_id BIGINT REFERENCES customers (id)",
            // The token is HMAC(secret, id.nonce), so the invitation e-mail can be written
            // later from the id alone and no usable token is ever stored.
            "CREATE TABLE portal_invitations (
                id {id},
                user_id BIGINT NOT NULL REFERENCES users (id),
                nonce VARCHAR(32) NOT NULL,
                link_base VARCHAR(200) NOT NULL,
                created_by VARCHAR(200) NOT NULL,
                created_at BIGINT NOT NULL,
                expires_at BIGINT NOT NULL,
                used_at BIGINT
            )",
            "CREATE INDEX portal_invitations_user ON portal_invitations (user_id)",
            "CREATE TABLE portal_cart_items (
                user_id BIGINT NOT NULL REFERENCES users (id),
                product_id BIGINT NOT NULL REFERENCES products (id),
                quantity BIGINT NOT NULL,
                added_at BIGINT NOT NULL,
                PRIMARY KEY (user_id, product_id)
            )",
            // Portal orders come in on their own channel, which a business may switch off.
            "INSERT INTO channels (code, name, kind, active, version, created_by, created_at, updated_at)
                SELECT 'portal', 'Customer portal', 'web', 1, 1, 'system', 0, 0
                WHERE NOT EXISTS (SELECT 1 FROM channels WHERE code = 'portal')",
        ],
    },
    Migration {
        version: 20,
        name: "packs",
        statements: &[
            // A product's packs as JSON, [{"unit": "box", "size": 12}], read with the product.
            "ALTER TABLE products ADD COLUMN packs TEXT",
            // The pack a line was ordered in; its quantity stays in the product's own unit.
            "ALTER TABLE order_lines ADD COLUMN pack_unit VARCHAR(16)",
            "ALTER TABLE order_lines ADD COLUMN pack_size BIGINT",
        ],
    },
    Migration {
        version: 21,
        name: "payables and cost allocation",
        statements: &[
            // Days a supplier gives us to pay, as `net30`; a bill's default due date.
            "ALTER TABLE suppliers ADD COLUMN payment_terms VARCHAR(16) NOT NULL DEFAULT 'net30'",
            // How far a bill's unit cost may stray from the order's (percent ×10^4), default 2 %.
            "ALTER TABLE suppliers ADD COLUMN price_tolerance_e4 BIGINT NOT NULL DEFAULT 20000",
            // Units already on supplier bills: a bill may charge only for what arrived and was not billed.
            "ALTER TABLE purchase_order_lines ADD COLUMN billed BIGINT NOT NULL DEFAULT 0",
            "CREATE TABLE supplier_bills (
                id {id},
                number VARCHAR(32) NOT NULL,
                supplier_id BIGINT NOT NULL REFERENCES suppliers (id),
                purchase_order_id BIGINT NOT NULL REFERENCES purchase_orders (id),
                supplier_ref VARCHAR(64) NOT NULL,
                currency VARCHAR(3) NOT NULL,
                subtotal_e4 BIGINT NOT NULL,
                tax_e4 BIGINT NOT NULL,
                total_e4 BIGINT NOT NULL,
                paid_e4 BIGINT NOT NULL,
                status VARCHAR(16) NOT NULL,
                bill_date VARCHAR(10) NOT NULL,
                due_date VARCHAR(10) NOT NULL,
                approved_by VARCHAR(200),
                approved_at BIGINT,
                approval_note VARCHAR(500),
                version BIGINT NOT NULL,
                created_by VARCHAR(200) NOT NULL,
                created_at BIGINT NOT NULL,
                CONSTRAINT supplier_bills_number_key UNIQUE (number),
                CONSTRAINT supplier_bills_ref_key UNIQUE (supplier_id, supplier_ref)
            )",
            "CREATE INDEX supplier_bills_status ON supplier_bills (status, due_date)",
            "CREATE INDEX supplier_bills_order ON supplier_bills (purchase_order_id)",
            "CREATE TABLE supplier_bill_lines (
                bill_id BIGINT NOT NULL REFERENCES supplier_bills (id),
                line_no BIGINT NOT NULL,
                order_line_no BIGINT NOT NULL,
                product_id BIGINT NOT NULL REFERENCES products (id),
                quantity BIGINT NOT NULL,
                unit_cost_e4 BIGINT NOT NULL,
                order_unit_cost_e4 BIGINT NOT NULL,
                mismatches TEXT NOT NULL,
                PRIMARY KEY (bill_id, line_no)
            )",
            "CREATE TABLE supplier_payments (
                id {id},
                bill_id BIGINT NOT NULL REFERENCES supplier_bills (id),
                supplier_id BIGINT NOT NULL REFERENCES suppliers (id),
                amount_e4 BIGINT NOT NULL,
                currency VARCHAR(3) NOT NULL,
                method VARCHAR(16) NOT NULL,
                reference VARCHAR(100),
                paid_at BIGINT NOT NULL,
                actor VARCHAR(200) NOT NULL
            )",
            "CREATE INDEX supplier_payments_bill ON supplier_payments (bill_id)",
            // Payables are kept per supplier in the ledger, as receivables are per customer.
            "ALTER TABLE ledger_entries ADD COLUMN supplier_id BIGINT",
            "ALTER TABLE ledger_lines ADD COLUMN supplier_id BIGINT",
            "CREATE INDEX ledger_lines_supplier ON ledger_lines (supplier_id, account, at)",
            "CREATE TABLE costs (
                id {id},
                number VARCHAR(32) NOT NULL,
                kind VARCHAR(16) NOT NULL,
                currency VARCHAR(3) NOT NULL,
                amount_e4 BIGINT NOT NULL,
                paid_from VARCHAR(16) NOT NULL,
                basis VARCHAR(16) NOT NULL,
                reference VARCHAR(100),
                memo VARCHAR(500),
                incurred_on VARCHAR(10) NOT NULL,
                created_by VARCHAR(200) NOT NULL,
                created_at BIGINT NOT NULL,
                CONSTRAINT costs_number_key UNIQUE (number)
            )",
            "CREATE INDEX costs_incurred ON costs (currency, incurred_on)",
            // A cost's share per order line; the shares of one cost add up to its amount.
            "CREATE TABLE cost_allocations (
                cost_id BIGINT NOT NULL REFERENCES costs (id),
                order_id BIGINT NOT NULL REFERENCES orders (id),
                line_no BIGINT NOT NULL,
                amount_e4 BIGINT NOT NULL,
                PRIMARY KEY (cost_id, order_id, line_no)
            )",
            "CREATE INDEX cost_allocations_order ON cost_allocations (order_id)",
            // An invoice for what one shipment carried (invoicing on delivery).
            "ALTER TABLE invoices ADD COLUMN shipment_id BIGINT",
            // Tax-inclusive price lists (含税价): the list's prices are what the customer pays.
            "ALTER TABLE price_lists ADD COLUMN tax_included BIGINT NOT NULL DEFAULT 0",
            // A line priced tax-inclusive keeps its amount whole; re-pricing and invoices need to know.
            "ALTER TABLE order_lines ADD COLUMN tax_included BIGINT NOT NULL DEFAULT 0",
            // Tax rates by product class (its category) and destination; see `ordo_domain::tax`.
            "CREATE TABLE tax_rules (
                id {id},
                category VARCHAR(64) NOT NULL,
                country VARCHAR(2) NOT NULL,
                region VARCHAR(64),
                rate_e4 BIGINT NOT NULL
            )",
            "CREATE INDEX tax_rules_category ON tax_rules (category)",
        ],
    },
    Migration {
        version: 22,
        name: "exchange rates and base-currency values",
        statements: &[
            // Units of the base currency for one unit of `currency` (×10^8), from `rate_date` on.
            "CREATE TABLE exchange_rates (
                currency VARCHAR(3) NOT NULL,
                rate_date VARCHAR(10) NOT NULL,
                rate_e8 BIGINT NOT NULL,
                entered_by VARCHAR(200) NOT NULL,
                entered_at BIGINT NOT NULL,
                PRIMARY KEY (currency, rate_date)
            )",
            // Every ledger line's value in the base currency, so the books add up across currencies.
            "ALTER TABLE ledger_lines ADD COLUMN base_debit_e4 BIGINT NOT NULL DEFAULT 0",
            "ALTER TABLE ledger_lines ADD COLUMN base_credit_e4 BIGINT NOT NULL DEFAULT 0",
            // The base is CNY until set; lines already in it are worth what they say.
            "UPDATE ledger_lines SET base_debit_e4 = debit_e4, base_credit_e4 = credit_e4 WHERE currency = 'CNY'",
            // An order's receivable balance, read when a foreign payment settles it.
            "CREATE INDEX ledger_lines_order ON ledger_lines (order_id, account)",
        ],
    },
];

fn render(sql: &str, dialect: Dialect) -> String {
    let id = match dialect {
        Dialect::Sqlite => "INTEGER PRIMARY KEY",
        Dialect::Postgres => "BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY",
    };
    sql.replace("{id}", id)
}

/// Applies every migration not yet recorded. The caller makes sure one process at a time.
pub(super) fn run(tx: &mut dyn Tx) -> Result<(), DbError> {
    let dialect = tx.dialect();
    tx.batch(
        "CREATE TABLE IF NOT EXISTS schema_migrations (
            version BIGINT NOT NULL PRIMARY KEY,
            name VARCHAR(200) NOT NULL,
            applied_at BIGINT NOT NULL
        )",
    )?;
    let applied: Vec<i64> = tx
        .query("SELECT version FROM schema_migrations", &[])?
        .iter()
        .map(|row| row.int(0))
        .collect::<Result<_, _>>()?;
    for migration in MIGRATIONS.iter().filter(|m| !applied.contains(&m.version)) {
        tx.batch("BEGIN")?;
        let step = (|| -> Result<(), DbError> {
            for statement in migration.statements {
                tx.batch(&render(statement, dialect))?;
            }
            tx.execute(
                "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)",
                crate::params![migration.version, migration.name, ordo_domain::Timestamp::now().micros()],
            )?;
            Ok(())
        })();
        match step {
            Ok(()) => tx.batch("COMMIT")?,
            Err(error) => {
                let _ = tx.batch("ROLLBACK");
                return Err(DbError::Other(format!(
                    "migration {} ({}) failed: {error}",
                    migration.version, migration.name
                )));
            }
        }
        tracing::info!(version = migration.version, name = migration.name, "migration applied");
    }
    Ok(())
}
