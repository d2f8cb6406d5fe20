//! Property tests of the expression parser: no input panics it, and what it accepts it
//! accepts whole (a bounded run in every `cargo test`; `PROPTEST_CASES` raises the count).

use proptest::prelude::*;

/// Pieces of the language and around it, so random inputs reach deep into the grammar.
fn token() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("title".to_owned()),
        Just("@auth.id".to_owned()),
        Just("@".to_owned()),
        Just("\"".to_owned()),
        Just("'".to_owned()),
        Just("\\".to_owned()),
        Just("(".to_owned()),
        Just(")".to_owned()),
        Just("&&".to_owned()),
        Just("||".to_owned()),
        Just("!".to_owned()),
        Just("=".to_owned()),
        Just("!=".to_owned()),
        Just(">=".to_owned()),
        Just("~".to_owned()),
        Just("!~".to_owned()),
        Just("null".to_owned()),
        Just("true".to_owned()),
        Just("-1.5e3".to_owned()),
        Just(" ".to_owned()),
        "[a-z_]{1,8}",
        "\"[^\"]{0,8}\"",
        any::<char>().prop_map(String::from),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn arbitrary_text_never_panics(src in "\\PC{0,200}") {
        let _ = plinth_rules::parse(&src);
    }

    #[test]
    fn token_soup_never_panics(parts in proptest::collection::vec(token(), 0..40)) {
        let src = parts.concat();
        let _ = plinth_rules::parse(&src);
    }

    #[test]
    fn deep_nesting_is_refused_not_overflowed(depth in 0usize..5000) {
        let src = format!("{}title = 1{}", "(".repeat(depth), ")".repeat(depth));
        let parsed = plinth_rules::parse(&src);
        if depth > 32 {
            prop_assert!(parsed.is_err());
        }
    }
}
