//! Invoices as documents: PDF (Chinese text through the standard Adobe CJK font
//! `STSong-Light`, which PDF readers provide, so no font file is embedded) and UBL 2.1 XML
//! for ERP import. Both are written by hand: small, fast, and without a layout engine.

use super::model::{Invoice, Party};
use crate::db::{DbError, Tx};
use rust_decimal::Decimal;
use std::fmt::Write;

/// The business that issues the invoices (settings document `company`).
pub fn company(tx: &mut dyn Tx) -> Result<Party, DbError> {
    let stored = crate::settings::document(tx, "company")?;
    Ok(stored.and_then(|s| serde_json::from_str(&s).ok()).unwrap_or(Party {
        name: "Ordo Trading Co., Ltd. 奥多贸易有限公司".into(),
        code: "SELLER".into(),
        address: Some("88 Century Avenue, Pudong, Shanghai, CN".into()),
        tax_id: Some("91310000MA1FL0000X".into()),
    }))
}

fn title(invoice: &Invoice) -> &'static str {
    match invoice.kind.as_str() {
        "credit_note" => "Credit note 贷项通知单",
        "write_off" => "Write-off 坏账核销",
        _ => "Invoice 发票",
    }
}

/// Text in the PDF: UTF-16BE hex, which the `UniGB-UTF16-H` encoding maps to glyphs.
fn pdf_text(text: &str) -> String {
    let mut out = String::with_capacity(text.len() * 4 + 2);
    out.push('<');
    for unit in text.encode_utf16() {
        let _ = write!(out, "{unit:04X}");
    }
    out.push('>');
    out
}

/// Width in points at `size`: Helvetica's widths for Latin text (digits are 0.556 em), a
/// whole em for CJK.
fn text_width(text: &str, size: f32) -> f32 {
    text.chars()
        .map(|c| match c {
            '0'..='9' => 0.556,
            '.' | ',' | ' ' | ':' | '/' | '(' | ')' | 'i' | 'l' | 'I' | 'j' | 't' | 'f' => 0.278,
            '-' => 0.333,
            'm' | 'w' | 'M' | 'W' => 0.833,
            c if c.is_ascii_uppercase() => 0.667,
            c if c.is_ascii() => 0.5,
            _ => 1.0,
        })
        .sum::<f32>()
        * size
}

/// Latin text in Helvetica, everything else in the CJK font, one run each.
fn runs(text: &str) -> Vec<(bool, String)> {
    let mut out: Vec<(bool, String)> = Vec::new();
    for c in text.chars() {
        let latin = c.is_ascii() && !c.is_ascii_control();
        match out.last_mut() {
            Some((l, run)) if *l == latin => run.push(c),
            _ => out.push((latin, c.to_string())),
        }
    }
    out
}

fn latin_literal(text: &str) -> String {
    let mut out = String::from("(");
    for c in text.chars() {
        if matches!(c, '(' | ')' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out.push(')');
    out
}

struct Page {
    ops: String,
}

impl Page {
    fn text(&mut self, x: f32, y: f32, size: f32, text: &str) {
        let _ = write!(self.ops, "BT {x:.1} {y:.1} Td");
        for (latin, run) in runs(text) {
            let (font, shown) = if latin { ("F2", latin_literal(&run)) } else { ("F1", pdf_text(&run)) };
            let _ = write!(self.ops, " /{font} {size} Tf {shown} Tj");
        }
        let _ = writeln!(self.ops, " ET");
    }

    fn right(&mut self, x_right: f32, y: f32, size: f32, text: &str) {
        self.text(x_right - text_width(text, size), y, size, text);
    }

    fn rule(&mut self, y: f32) {
        let _ = writeln!(self.ops, "0.6 w 40 {y:.1} m 555 {y:.1} l S");
    }
}

/// Truncates to fit `max` points.
fn fit(text: &str, size: f32, max: f32) -> String {
    let mut out = String::new();
    for c in text.chars() {
        out.push(c);
        if text_width(&out, size) > max {
            out.pop();
            out.push('…');
            break;
        }
    }
    out
}

fn money(amount: Decimal) -> String {
    amount.to_string()
}

/// The invoice as a PDF, A4, as many pages as its lines need.
pub fn invoice_pdf(invoice: &Invoice, seller: &Party) -> Vec<u8> {
    const LINES_PER_PAGE: usize = 28;
    let chunks: Vec<&[super::model::InvoiceLine]> =
        if invoice.lines.is_empty() { vec![&[]] } else { invoice.lines.chunks(LINES_PER_PAGE).collect() };
    let page_count = chunks.len();
    let mut pages = Vec::new();
    for (n, lines) in chunks.into_iter().enumerate() {
        let mut p = Page { ops: String::new() };
        p.text(40.0, 790.0, 20.0, title(invoice));
        p.right(555.0, 792.0, 11.0, &invoice.number);
        p.right(555.0, 776.0, 9.0, &format!("Issued 开票日期 {}", &invoice.issued_at.to_rfc3339()[..10]));
        p.right(555.0, 764.0, 9.0, &format!("Due 到期日 {}", invoice.due_date));
        p.right(555.0, 752.0, 9.0, &format!("Order 订单 {}", invoice.order_number));
        if let Some(corrects) = &invoice.corrects {
            p.right(555.0, 740.0, 9.0, &format!("Corrects 更正 {corrects}"));
        }
        p.text(40.0, 760.0, 9.0, "Seller 销售方");
        p.text(40.0, 748.0, 10.0, &fit(&seller.name, 10.0, 300.0));
        if let Some(address) = &seller.address {
            p.text(40.0, 736.0, 8.0, &fit(address, 8.0, 300.0));
        }
        if let Some(tax_id) = &seller.tax_id {
            p.text(40.0, 725.0, 8.0, &format!("Tax ID 税号 {tax_id}"));
        }
        p.text(40.0, 705.0, 9.0, "Bill to 购买方");
        p.text(40.0, 693.0, 10.0, &fit(&format!("{} ({})", invoice.bill_to.name, invoice.bill_to.code), 10.0, 500.0));
        if let Some(address) = &invoice.bill_to.address {
            p.text(40.0, 681.0, 8.0, &fit(address, 8.0, 500.0));
        }
        let mut y = 655.0;
        p.text(40.0, y, 8.0, "SKU");
        p.text(120.0, y, 8.0, "Item 品名");
        p.right(360.0, y, 8.0, "Qty 数量");
        p.right(430.0, y, 8.0, "Price 单价");
        p.right(475.0, y, 8.0, "Tax 税率");
        p.right(555.0, y, 8.0, "Amount 金额");
        p.rule(y - 4.0);
        for line in lines {
            y -= 16.0;
            p.text(40.0, y, 8.0, &fit(&line.sku, 8.0, 75.0));
            p.text(120.0, y, 8.0, &fit(&line.name, 8.0, 195.0));
            p.right(360.0, y, 8.0, &line.quantity.to_string());
            p.right(430.0, y, 8.0, &money(line.unit_price));
            p.right(475.0, y, 8.0, &format!("{}%", (line.tax_rate * Decimal::ONE_HUNDRED).normalize()));
            p.right(555.0, y, 8.0, &money(line.line_total));
        }
        if n + 1 == page_count {
            p.rule(y - 8.0);
            y -= 24.0;
            for tax in &invoice.tax_lines {
                let rate = (tax.rate * Decimal::ONE_HUNDRED).normalize();
                p.right(475.0, y, 8.0, &format!("Tax 税额 {rate}% on {}", money(tax.taxable)));
                p.right(555.0, y, 8.0, &money(tax.tax));
                y -= 13.0;
            }
            p.right(475.0, y, 9.0, "Subtotal 不含税金额");
            p.right(555.0, y, 9.0, &money(invoice.subtotal));
            y -= 14.0;
            p.right(475.0, y, 9.0, "Tax 税额合计");
            p.right(555.0, y, 9.0, &money(invoice.tax_total));
            y -= 18.0;
            p.right(475.0, y, 12.0, &format!("Total 价税合计 {}", invoice.currency.code()));
            p.right(555.0, y, 12.0, &money(invoice.total));
            if let Some(reason) = &invoice.reason {
                p.text(40.0, y - 30.0, 8.0, &fit(&format!("Reason 原因: {reason}"), 8.0, 515.0));
            }
        }
        p.right(555.0, 30.0, 7.0, &format!("{} · {}/{}", invoice.number, n + 1, page_count));
        pages.push(p.ops);
    }
    assemble(&pages)
}

/// Writes the objects, the cross-reference table and the trailer around the page streams.
fn assemble(pages: &[String]) -> Vec<u8> {
    // 1 catalog, 2 pages, 3 font, 4 CID font, 5 descriptor, then a page and its content
    // each, then Helvetica for Latin text.
    let first_page = 6;
    let helvetica = first_page + 2 * pages.len();
    let kids: Vec<String> = (0..pages.len()).map(|i| format!("{} 0 R", first_page + 2 * i)).collect();
    let mut objects: Vec<String> = vec![
        "<< /Type /Catalog /Pages 2 0 R >>".into(),
        format!("<< /Type /Pages /Kids [{}] /Count {} >>", kids.join(" "), pages.len()),
        "<< /Type /Font /Subtype /Type0 /BaseFont /STSong-Light /Encoding /UniGB-UTF16-H /DescendantFonts [4 0 R] >>"
            .into(),
        "<< /Type /Font /Subtype /CIDFontType0 /BaseFont /STSong-Light \
         /CIDSystemInfo << /Registry (Adobe) /Ordering (GB1) /Supplement 4 >> /FontDescriptor 5 0 R \
         /DW 1000 /W [1 95 500] >>"
            .into(),
        "<< /Type /FontDescriptor /FontName /STSong-Light /Flags 6 /FontBBox [-25 -254 1000 880] \
         /ItalicAngle 0 /Ascent 880 /Descent -120 /CapHeight 880 /StemV 93 >>"
            .into(),
    ];
    for (i, ops) in pages.iter().enumerate() {
        objects.push(format!(
            "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 3 0 R /F2 {} 0 R >> >> /Contents {} 0 R >>",
            helvetica,
            first_page + 2 * i + 1
        ));
        objects.push(format!("<< /Length {} >>\nstream\n{ops}endstream", ops.len()));
    }
    objects.push("<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>".into());
    let mut out = String::from("%PDF-1.7\n");
    let mut offsets = Vec::with_capacity(objects.len());
    for (i, object) in objects.iter().enumerate() {
        offsets.push(out.len());
        let _ = write!(out, "{} 0 obj\n{object}\nendobj\n", i + 1);
    }
    let xref = out.len();
    let _ = write!(out, "xref\n0 {}\n0000000000 65535 f \n", objects.len() + 1);
    for offset in offsets {
        let _ = writeln!(out, "{offset:010} 00000 n ");
    }
    let _ = write!(out, "trailer\n<< /Size {} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n", objects.len() + 1);
    out.into_bytes()
}

fn xml_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c if (c as u32) < 0x20 && !matches!(c, '\n' | '\t' | '\r') => {}
            c => out.push(c),
        }
    }
    out
}

fn party_xml(out: &mut String, role: &str, party: &Party) {
    let _ = write!(out, "<cac:{role}><cac:Party>");
    let _ =
        write!(out, "<cac:PartyIdentification><cbc:ID>{}</cbc:ID></cac:PartyIdentification>", xml_escape(&party.code));
    let _ = write!(out, "<cac:PartyName><cbc:Name>{}</cbc:Name></cac:PartyName>", xml_escape(&party.name));
    if let Some(address) = &party.address {
        let _ = write!(
            out,
            "<cac:PostalAddress><cbc:StreetName>{}</cbc:StreetName></cac:PostalAddress>",
            xml_escape(address)
        );
    }
    if let Some(tax_id) = &party.tax_id {
        let _ = write!(
            out,
            "<cac:PartyTaxScheme><cbc:CompanyID>{}</cbc:CompanyID><cac:TaxScheme><cbc:ID>VAT</cbc:ID></cac:TaxScheme></cac:PartyTaxScheme>",
            xml_escape(tax_id)
        );
    }
    let _ = write!(out, "</cac:Party></cac:{role}>");
}

/// UBL 2.1: an `Invoice`, or a `CreditNote` for credit notes and write-offs.
pub fn invoice_ubl(invoice: &Invoice, seller: &Party) -> String {
    let credit = invoice.kind != "invoice";
    let (root, type_code, line_tag, quantity_tag) = if credit {
        ("CreditNote", "<cbc:CreditNoteTypeCode>381</cbc:CreditNoteTypeCode>", "CreditNoteLine", "CreditedQuantity")
    } else {
        ("Invoice", "<cbc:InvoiceTypeCode>380</cbc:InvoiceTypeCode>", "InvoiceLine", "InvoicedQuantity")
    };
    let cur = invoice.currency.code();
    let amount = |tag: &str, value: Decimal| format!("<cbc:{tag} currencyID=\"{cur}\">{value}</cbc:{tag}>");
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = write!(
        out,
        "<{root} xmlns=\"urn:oasis:names:specification:ubl:schema:xsd:{root}-2\" \
         xmlns:cac=\"urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2\" \
         xmlns:cbc=\"urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2\">"
    );
    let _ = write!(out, "<cbc:UBLVersionID>2.1</cbc:UBLVersionID><cbc:ID>{}</cbc:ID>", xml_escape(&invoice.number));
    let _ = write!(out, "<cbc:IssueDate>{}</cbc:IssueDate>", &invoice.issued_at.to_rfc3339()[..10]);
    if !credit {
        let _ = write!(out, "<cbc:DueDate>{}</cbc:DueDate>", invoice.due_date);
    }
    out.push_str(type_code);
    if let Some(reason) = &invoice.reason {
        let _ = write!(out, "<cbc:Note>{}</cbc:Note>", xml_escape(reason));
    }
    let _ = write!(out, "<cbc:DocumentCurrencyCode>{cur}</cbc:DocumentCurrencyCode>");
    let _ =
        write!(out, "<cac:OrderReference><cbc:ID>{}</cbc:ID></cac:OrderReference>", xml_escape(&invoice.order_number));
    if let Some(corrects) = &invoice.corrects {
        let _ = write!(
            out,
            "<cac:BillingReference><cac:InvoiceDocumentReference><cbc:ID>{}</cbc:ID></cac:InvoiceDocumentReference></cac:BillingReference>",
            xml_escape(corrects)
        );
    }
    party_xml(&mut out, "AccountingSupplierParty", seller);
    party_xml(&mut out, "AccountingCustomerParty", &invoice.bill_to);
    let _ = write!(out, "<cac:TaxTotal>{}", amount("TaxAmount", invoice.tax_total));
    for tax in &invoice.tax_lines {
        let _ = write!(
            out,
            "<cac:TaxSubtotal>{}{}<cac:TaxCategory><cbc:Percent>{}</cbc:Percent><cac:TaxScheme><cbc:ID>VAT</cbc:ID></cac:TaxScheme></cac:TaxCategory></cac:TaxSubtotal>",
            amount("TaxableAmount", tax.taxable),
            amount("TaxAmount", tax.tax),
            (tax.rate * Decimal::ONE_HUNDRED).normalize()
        );
    }
    out.push_str("</cac:TaxTotal>");
    let _ = write!(
        out,
        "<cac:LegalMonetaryTotal>{}{}{}{}</cac:LegalMonetaryTotal>",
        amount("LineExtensionAmount", invoice.subtotal),
        amount("TaxExclusiveAmount", invoice.subtotal),
        amount("TaxInclusiveAmount", invoice.total),
        amount("PayableAmount", invoice.total)
    );
    for line in &invoice.lines {
        let _ = write!(
            out,
            "<cac:{line_tag}><cbc:ID>{}</cbc:ID><cbc:{quantity_tag} unitCode=\"C62\">{}</cbc:{quantity_tag}>{}\
             <cac:Item><cbc:Name>{}</cbc:Name><cac:SellersItemIdentification><cbc:ID>{}</cbc:ID></cac:SellersItemIdentification>\
             <cac:ClassifiedTaxCategory><cbc:Percent>{}</cbc:Percent><cac:TaxScheme><cbc:ID>VAT</cbc:ID></cac:TaxScheme></cac:ClassifiedTaxCategory></cac:Item>\
             <cac:Price>{}</cac:Price></cac:{line_tag}>",
            line.line_no,
            line.quantity,
            amount("LineExtensionAmount", line.line_total),
            xml_escape(&line.name),
            xml_escape(&line.sku),
            (line.tax_rate * Decimal::ONE_HUNDRED).normalize(),
            amount("PriceAmount", line.unit_price),
        );
    }
    let _ = writeln!(out, "</{root}>");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pdf_text_is_utf16_hex_and_the_xref_points_at_objects() {
        assert_eq!(pdf_text("A茶"), "<00418336>");
        let pdf = assemble(&["BT ET\n".to_string()]);
        let text = String::from_utf8(pdf).unwrap();
        let xref_at: usize = text.rsplit("startxref\n").next().unwrap().lines().next().unwrap().parse().unwrap();
        assert!(text[xref_at..].starts_with("xref"));
        let first_offset: usize = text[xref_at..].lines().nth(3).unwrap()[..10].parse().unwrap();
        assert!(text[first_offset..].starts_with("1 0 obj"));
    }

    #[test]
    fn xml_text_is_escaped() {
        assert_eq!(xml_escape("A&B <c> \"d\""), "A&amp;B &lt;c&gt; &quot;d&quot;");
    }
}
