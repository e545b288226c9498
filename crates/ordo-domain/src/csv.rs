//! Reading the CSV files people export from banks and spreadsheets: quoted fields with
//! embedded separators, quotes and line breaks; `,`, `;` or tab, whichever the header uses.

/// The rows of `text`, each a list of fields. A byte-order mark and blank lines are skipped.
pub fn parse(text: &str) -> Vec<Vec<String>> {
    let text = text.trim_start_matches('\u{feff}');
    let first_line = text.lines().next().unwrap_or("");
    let separator = [',', ';', '\t'].into_iter().max_by_key(|s| first_line.matches(*s).count()).unwrap_or(',');
    let mut rows = Vec::new();
    let mut row: Vec<String> = Vec::new();
    let mut field = String::new();
    let mut quoted = false;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' if quoted && chars.peek() == Some(&'"') => {
                field.push('"');
                chars.next();
            }
            '"' if quoted => quoted = false,
            '"' if field.trim().is_empty() => {
                field.clear();
                quoted = true;
            }
            c if c == separator && !quoted => row.push(std::mem::take(&mut field).trim().to_string()),
            '\r' if !quoted => {}
            '\n' if !quoted => {
                row.push(std::mem::take(&mut field).trim().to_string());
                if row.iter().any(|f| !f.is_empty()) {
                    rows.push(std::mem::take(&mut row));
                }
                row.clear();
            }
            c => field.push(c),
        }
    }
    row.push(field.trim().to_string());
    if row.iter().any(|f| !f.is_empty()) {
        rows.push(row);
    }
    rows
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoted_fields_keep_separators_quotes_and_newlines() {
        let rows = parse("\u{feff}date,amount,reference\r\n2026-11-02,\"1,130.00\",\"INV-1 \"\"paid\"\"\nthanks\"\n\n");
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[1], ["2026-11-02", "1,130.00", "INV-1 \"paid\"\nthanks"]);
    }

    #[test]
    fn the_header_decides_the_separator() {
        assert_eq!(parse("a;b\n1,5;2")[1], ["1,5", "2"]);
        assert_eq!(parse("a\tb\nx\ty")[1], ["x", "y"]);
    }
}
