//! Hashing functions (`hashing_functions.md`), plus `crc32`, which eKuiper registers
//! alongside them. Digests are lowercase hex of the UTF-8 text of the argument, where
//! non-strings are first printed with Go's `%v` (so `md5(1)` hashes `"1"`).

use crate::args::*;
use crate::builtin::Builtin;
use crate::FnResult;
use md5::Digest;
use tributary_core::Value;

pub fn builtins() -> Vec<Builtin> {
    vec![
        Builtin::new("md5", 1, Some(1), |_, a| {
            hash(a, |b| hex::encode(md5::Md5::digest(b)))
        })
        .with_validate(v_one_str),
        Builtin::new("sha1", 1, Some(1), |_, a| {
            hash(a, |b| hex::encode(sha1::Sha1::digest(b)))
        })
        .with_validate(v_one_str),
        Builtin::new("sha256", 1, Some(1), |_, a| {
            hash(a, |b| hex::encode(sha2::Sha256::digest(b)))
        })
        .with_validate(v_one_str),
        Builtin::new("sha384", 1, Some(1), |_, a| {
            hash(a, |b| hex::encode(sha2::Sha384::digest(b)))
        })
        .with_validate(v_one_str),
        Builtin::new("sha512", 1, Some(1), |_, a| {
            hash(a, |b| hex::encode(sha2::Sha512::digest(b)))
        })
        .with_validate(v_one_str),
        // Go prints the checksum with `%x`, so there is no zero padding.
        Builtin::new("crc32", 1, Some(1), |_, a| {
            hash(a, |b| format!("{:x}", crc32fast::hash(b)))
        })
        .with_validate(v_one_str),
    ]
}

fn hash(a: &[Value], f: fn(&[u8]) -> String) -> FnResult {
    if any_null(a) {
        return Ok(Value::Null);
    }
    Ok(Value::from(f(to_string_always(arg(a, 0)).as_bytes())))
}

#[cfg(test)]
mod tests {
    use crate::testutil::*;
    use tributary_core::Value;

    #[test]
    fn digests_of_the_ekuiper_test_input() {
        let t = s("The quick brown fox jumps over the lazy dog");
        assert_eq!(
            call("md5", std::slice::from_ref(&t)),
            Ok(s("9e107d9d372bb6826bd81d3542a419d6"))
        );
        assert_eq!(
            call("sha1", std::slice::from_ref(&t)),
            Ok(s("2fd4e1c67a2d28fced849ee1bb76e7391b93eb12"))
        );
        assert_eq!(
            call("sha256", std::slice::from_ref(&t)),
            Ok(s(
                "d7a8fbb307d7809469ca9abcb0082e4f8d5651e46d3cdb762d02d0bf37c9e592"
            ))
        );
        assert_eq!(
            call("sha384", std::slice::from_ref(&t)),
            Ok(s("ca737f1014a48f4c0b6dd43cb177b0afd9e5169367544c494011e3317dbf9a509cb1e5dc1e85a941bbee3d7f2afbc9b1"))
        );
        assert_eq!(
            call("sha512", std::slice::from_ref(&t)),
            Ok(s("07e547d9586f6a73f73fbac0435ed76951218fb7d0c8d788a309d785436bbb642e93a252a954f23912547d1e8a3b5ed6e1bfd7097821233fa0538f3db854fee6"))
        );
        assert_eq!(call("crc32", &[t]), Ok(s("414fa339")));
    }

    #[test]
    fn null_and_validation() {
        assert_eq!(call("md5", &[Value::Null]), Ok(Value::Null));
        assert_eq!(call("sha256", &[Value::Null]), Ok(Value::Null));
        assert_eq!(
            call("md5", &[Value::Int(1)]),
            Ok(s("c4ca4238a0b923820dcc509a6f75849b"))
        );
        assert_eq!(
            check("sha1", &[lit(Value::Int(1))]),
            Err("Expect string type for parameter 1".to_string())
        );
        assert_eq!(
            check("crc32", &[]),
            Err("Expect 1 arguments but found 0.".to_string())
        );
    }
}
