//! Lesson 10's measured figures (times, rates, memory, how a time grew) set aside in printed
//! output, so two runs can be compared: everything counted stays and is compared.

use serde_json::Value;

/// Text output with each measured figure replaced by a placeholder: a number followed by `ms`
/// or `KB`, a number ending in `/s` or `×`. Runs of spaces become one, since the padding before
/// a figure follows its width.
pub fn mask_text(text: &str) -> String {
    let number = |t: &str| !t.is_empty() && t.chars().all(|c| c.is_ascii_digit() || c == ',' || c == '.');
    let mut out = String::new();
    for line in text.lines() {
        let tokens: Vec<&str> = line.split(' ').filter(|t| !t.is_empty()).collect();
        let mut kept: Vec<&str> = Vec::new();
        let mut i = 0;
        while i < tokens.len() {
            let (token, next) = (tokens[i], tokens.get(i + 1).copied());
            if number(token) && matches!(next, Some("ms" | "KB")) {
                kept.push("<measured>");
                i += 2;
                continue;
            }
            let rate = token.strip_suffix("/s").or_else(|| token.strip_suffix('×'));
            kept.push(if rate.is_some_and(number) {
                "<measured>"
            } else {
                token
            });
            i += 1;
        }
        out.push_str(&kept.join(" "));
        out.push('\n');
    }
    out
}

/// JSON Lines with the measured fields of a `measure` line set to zero.
pub fn mask_json(lines: &str) -> String {
    fn zero(value: &mut Value) {
        match value {
            Value::Object(map) => {
                for (key, v) in map.iter_mut() {
                    if matches!(key.as_str(), "micros" | "per_second" | "bytes_per_connection") {
                        *v = Value::from(0);
                    } else {
                        zero(v);
                    }
                }
            }
            Value::Array(items) => items.iter_mut().for_each(zero),
            _ => {}
        }
    }
    let mut out = String::new();
    for line in lines.lines() {
        match serde_json::from_str::<Value>(line) {
            Ok(mut value) if value.get("measure").is_some() => {
                zero(&mut value);
                out.push_str(&value.to_string());
            }
            _ => out.push_str(line),
        }
        out.push('\n');
    }
    out
}

#[test]
fn only_measured_figures_are_masked() {
    let line = "        1,000        1,000         38,000     44.2 ms  23,443/s  28.3 KB  14.2×";
    assert_eq!(
        mask_text(line),
        "1,000 1,000 38,000 <measured> <measured> <measured> <measured>\n"
    );
    let json = r#"{"lesson":10,"measure":{"rows":[{"clients":10,"last_delivery":{"micros":412}}]}}"#;
    assert_eq!(
        mask_json(json),
        "{\"lesson\":10,\"measure\":{\"rows\":[{\"clients\":10,\"last_delivery\":{\"micros\":0}}]}}\n"
    );
}
