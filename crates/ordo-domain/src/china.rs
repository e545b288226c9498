//! Mainland China's province-level divisions (省级行政区), for checking addresses: the
//! names people write (简体, 繁體, pinyin, ISO 3166-2 codes) and the first two digits of
//! each one's postal codes.

use crate::validation::FieldError;

pub struct Province {
    /// The official name in simplified Chinese, e.g. 广东省.
    pub name: &'static str,
    /// The short forms in simplified and traditional characters, e.g. 广东, 廣東.
    short: [&'static str; 2],
    /// Pinyin or English names, lower case without spaces.
    latin: &'static [&'static str],
    /// ISO 3166-2:CN subdivision code, without the `CN-`.
    pub iso: &'static str,
    /// The first two digits its postal codes start with.
    postal: &'static [&'static str],
    /// 直辖市: the city is the province, so an address may leave the province out.
    pub municipality: bool,
}

const fn p(
    name: &'static str,
    short: [&'static str; 2],
    latin: &'static [&'static str],
    iso: &'static str,
    postal: &'static [&'static str],
    municipality: bool,
) -> Province {
    Province { name, short, latin, iso, postal, municipality }
}

pub const PROVINCES: &[Province] = &[
    p("北京市", ["北京", "北京"], &["beijing", "peking"], "BJ", &["10"], true),
    p("天津市", ["天津", "天津"], &["tianjin"], "TJ", &["30"], true),
    p("上海市", ["上海", "上海"], &["shanghai"], "SH", &["20"], true),
    p("重庆市", ["重庆", "重慶"], &["chongqing"], "CQ", &["40"], true),
    p("河北省", ["河北", "河北"], &["hebei"], "HE", &["05", "06", "07"], false),
    p("山西省", ["山西", "山西"], &["shanxi"], "SX", &["03", "04"], false),
    p("内蒙古自治区", ["内蒙古", "內蒙古"], &["innermongolia", "neimenggu", "neimongol"], "NM", &["01", "02"], false),
    p("辽宁省", ["辽宁", "遼寧"], &["liaoning"], "LN", &["11", "12"], false),
    p("吉林省", ["吉林", "吉林"], &["jilin"], "JL", &["13"], false),
    p("黑龙江省", ["黑龙江", "黑龍江"], &["heilongjiang"], "HL", &["15", "16"], false),
    p("江苏省", ["江苏", "江蘇"], &["jiangsu"], "JS", &["21", "22"], false),
    p("浙江省", ["浙江", "浙江"], &["zhejiang"], "ZJ", &["31", "32"], false),
    p("安徽省", ["安徽", "安徽"], &["anhui"], "AH", &["23", "24"], false),
    p("福建省", ["福建", "福建"], &["fujian"], "FJ", &["35", "36"], false),
    p("江西省", ["江西", "江西"], &["jiangxi"], "JX", &["33", "34"], false),
    p("山东省", ["山东", "山東"], &["shandong"], "SD", &["25", "26", "27"], false),
    p("河南省", ["河南", "河南"], &["henan"], "HA", &["45", "46", "47"], false),
    p("湖北省", ["湖北", "湖北"], &["hubei"], "HB", &["43", "44"], false),
    p("湖南省", ["湖南", "湖南"], &["hunan"], "HN", &["41", "42"], false),
    p("广东省", ["广东", "廣東"], &["guangdong"], "GD", &["51", "52"], false),
    p("广西壮族自治区", ["广西", "廣西"], &["guangxi"], "GX", &["53", "54"], false),
    p("海南省", ["海南", "海南"], &["hainan"], "HI", &["57"], false),
    p("四川省", ["四川", "四川"], &["sichuan"], "SC", &["61", "62", "63", "64"], false),
    p("贵州省", ["贵州", "貴州"], &["guizhou"], "GZ", &["55", "56"], false),
    p("云南省", ["云南", "雲南"], &["yunnan"], "YN", &["65", "66", "67"], false),
    p("西藏自治区", ["西藏", "西藏"], &["tibet", "xizang"], "XZ", &["85", "86"], false),
    p("陕西省", ["陕西", "陝西"], &["shaanxi"], "SN", &["71", "72"], false),
    p("甘肃省", ["甘肃", "甘肅"], &["gansu"], "GS", &["73", "74"], false),
    p("青海省", ["青海", "青海"], &["qinghai"], "QH", &["81"], false),
    p("宁夏回族自治区", ["宁夏", "寧夏"], &["ningxia"], "NX", &["75"], false),
    p("新疆维吾尔自治区", ["新疆", "新疆"], &["xinjiang"], "XJ", &["83", "84"], false),
];

/// What may follow a short name: 省, 市, or the kind of autonomous region.
const SUFFIXES: &[&str] = &[
    "",
    "省",
    "市",
    "自治区",
    "自治區",
    "壮族自治区",
    "壯族自治區",
    "回族自治区",
    "回族自治區",
    "维吾尔自治区",
    "維吾爾自治區",
];

/// The province a name means, as people write it: `广东省`, `广东`, `廣東省`, `Guangdong`,
/// `Guangdong Province`, `GD` or `CN-GD`.
pub fn province(written: &str) -> Option<&'static Province> {
    let written = written.trim();
    let latin: String = written.chars().filter(|c| c.is_ascii_alphanumeric()).flat_map(char::to_lowercase).collect();
    let latin = ["province", "municipality", "autonomousregion", "shi", "sheng"]
        .iter()
        .find_map(|suffix| latin.strip_suffix(suffix).filter(|rest| !rest.is_empty()))
        .unwrap_or(&latin);
    let iso = written.to_ascii_uppercase();
    let iso = iso.strip_prefix("CN-").unwrap_or(&iso);
    PROVINCES.iter().find(|p| {
        p.iso == iso
            || p.latin.contains(&latin)
            || p.short.iter().any(|short| written.strip_prefix(short).is_some_and(|rest| SUFFIXES.contains(&rest)))
    })
}

/// Whether two written regions name the same place: one province of mainland China however
/// each is written (上海市, 上海, Shanghai, SH), else the same text ignoring case.
pub fn same_region(a: &str, b: &str) -> bool {
    let (a, b) = (a.trim(), b.trim());
    a.eq_ignore_ascii_case(b) || matches!((province(a), province(b)), (Some(x), Some(y)) if x.iso == y.iso)
}

/// Hong Kong, Macao and Taiwan have their own country codes and postal systems.
fn own_country(written: &str) -> Option<&'static str> {
    let w = written.trim().to_lowercase();
    match w.as_str() {
        "香港" | "hong kong" | "hongkong" | "hk" | "cn-hk" => Some("HK"),
        "澳门" | "澳門" | "macao" | "macau" | "mo" | "cn-mo" => Some("MO"),
        "台湾" | "台灣" | "臺灣" | "taiwan" | "tw" | "cn-tw" => Some("TW"),
        _ => None,
    }
}

/// Checks the province of a mainland Chinese address, and that its postal code belongs to
/// that province. A municipality named as the city stands for the province. Returns the
/// error for the `region` field or the `postal_code` field.
pub fn check_address(
    region_field: &str,
    postal_field: &str,
    region: Option<&str>,
    city: Option<&str>,
    postal_code: Option<&str>,
) -> Result<(), FieldError> {
    let province = match region.map(str::trim).filter(|r| !r.is_empty()) {
        Some(written) => match (province(written), own_country(written)) {
            (Some(p), _) => p,
            (None, Some(country)) => {
                return Err(FieldError::new(
                    region_field,
                    format!("{written} has its own country code: use country {country}, not CN"),
                ));
            }
            (None, None) => {
                return Err(FieldError::new(
                    region_field,
                    format!("{written:?} is not a province of mainland China; write it like 广东省, Guangdong or GD"),
                ));
            }
        },
        None => match city.and_then(province).filter(|p| p.municipality) {
            Some(p) => p,
            None => {
                return Err(FieldError::new(
                    region_field,
                    "is required for an address in China: the province (省), e.g. 广东省 or Guangdong",
                ));
            }
        },
    };
    let Some(code) = postal_code.map(str::trim).filter(|c| c.len() == 6 && c.chars().all(|c| c.is_ascii_digit()))
    else {
        return Ok(());
    };
    if province.postal.iter().any(|prefix| code.starts_with(prefix)) {
        return Ok(());
    }
    let belongs = PROVINCES.iter().find(|p| p.postal.iter().any(|prefix| code.starts_with(prefix)));
    Err(FieldError::new(
        postal_field,
        match belongs {
            Some(other) => format!(
                "{code} is a postal code of {}, not of {} (whose codes start with {})",
                other.name,
                province.name,
                province.postal.join(", ")
            ),
            None => format!(
                "{code} is not a postal code of {} (whose codes start with {})",
                province.name,
                province.postal.join(", ")
            ),
        },
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_province_is_known_by_every_name_people_write() {
        for written in ["广东省", "广东", "廣東省", "Guangdong", "guangdong province", "GD", "cn-gd"] {
            assert_eq!(province(written).map(|p| p.name), Some("广东省"), "{written}");
        }
        assert_eq!(province("广西壮族自治区").map(|p| p.iso), Some("GX"));
        assert_eq!(province("內蒙古自治區").map(|p| p.iso), Some("NM"));
        assert_eq!(province("Shanghai Shi").map(|p| p.iso), Some("SH"));
        assert!(province("华东").is_none() && province("广东东").is_none() && province("").is_none());
    }

    #[test]
    fn two_spellings_of_one_province_are_the_same_region() {
        assert!(same_region("上海市", "Shanghai"));
        assert!(same_region("廣東", "GD"));
        assert!(same_region(" New York ", "new york"), "elsewhere, the same text");
        assert!(!same_region("广东", "广西"));
        assert!(!same_region("华东", "上海"), "a sales region is not a province");
    }

    #[test]
    fn every_province_has_distinct_codes_and_postal_prefixes() {
        let mut prefixes: Vec<&str> = PROVINCES.iter().flat_map(|p| p.postal.iter().copied()).collect();
        let mut isos: Vec<&str> = PROVINCES.iter().map(|p| p.iso).collect();
        let (n_prefixes, n_isos) = (prefixes.len(), isos.len());
        prefixes.sort_unstable();
        prefixes.dedup();
        isos.sort_unstable();
        isos.dedup();
        assert_eq!((prefixes.len(), isos.len(), PROVINCES.len()), (n_prefixes, n_isos, 31));
    }

    #[test]
    fn an_address_in_china_names_its_province_and_a_postal_code_from_it() {
        let check = |region: Option<&str>, city: &str, code: Option<&str>| {
            check_address("a.region", "a.postal_code", region, Some(city), code)
        };
        assert!(check(Some("广东省"), "深圳", Some("518000")).is_ok());
        assert!(check(None, "上海", Some("200001")).is_ok(), "a municipality is its own province");
        assert!(check(Some("Zhejiang"), "Hangzhou", None).is_ok());
        let error = check(None, "深圳", None).unwrap_err();
        assert_eq!(error.field, "a.region");
        let error = check(Some("华东"), "杭州", None).unwrap_err();
        assert_eq!(
            error.message,
            "\"华东\" is not a province of mainland China; write it like 广东省, Guangdong or GD"
        );
        let error = check(Some("广东省"), "深圳", Some("200001")).unwrap_err();
        assert_eq!(
            (error.field.as_str(), error.message.as_str()),
            ("a.postal_code", "200001 is a postal code of 上海市, not of 广东省 (whose codes start with 51, 52)")
        );
        assert!(check(Some("香港"), "香港", None).unwrap_err().message.contains("use country HK"));
    }
}
