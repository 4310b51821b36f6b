//! Modbus TCP framing of the four read functions (coils 0x01, discrete inputs 0x02,
//! holding registers 0x03, input registers 0x04): the request ADU (MBAP header and
//! PDU) and the check and unpacking of the answer. Only reads: the source never
//! writes to a device.

/// What is read, and with which function code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Table {
    Coil,
    Discrete,
    Holding,
    Input,
}

impl Table {
    pub fn parse(s: &str) -> Option<Table> {
        match s {
            "coil" => Some(Table::Coil),
            "discrete" => Some(Table::Discrete),
            "holding" => Some(Table::Holding),
            "input" => Some(Table::Input),
            _ => None,
        }
    }

    fn function(self) -> u8 {
        match self {
            Table::Coil => 0x01,
            Table::Discrete => 0x02,
            Table::Holding => 0x03,
            Table::Input => 0x04,
        }
    }

    /// Whether it holds bits (coils, discrete inputs) rather than 16-bit registers.
    pub fn bits(self) -> bool {
        matches!(self, Table::Coil | Table::Discrete)
    }
}

/// The request ADU reading `quantity` items from `address`.
pub fn request(transaction: u16, unit: u8, table: Table, address: u16, quantity: u16) -> [u8; 12] {
    let [t0, t1] = transaction.to_be_bytes();
    let [a0, a1] = address.to_be_bytes();
    let [q0, q1] = quantity.to_be_bytes();
    // Transaction, protocol 0, the 6 bytes that follow, unit, function, address, count.
    [t0, t1, 0, 0, 0, 6, unit, table.function(), a0, a1, q0, q1]
}

/// How many bytes of the answer follow its 6-byte MBAP prefix (from its length field).
pub fn remaining(prefix: &[u8; 6]) -> usize {
    usize::from(u16::from_be_bytes([prefix[4], prefix[5]]))
}

/// What a device answered instead of the data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// A Modbus exception, with its code.
    Exception(u8),
    /// An answer that is not one to this request.
    Malformed(String),
}

impl Refusal {
    /// Exceptions that say the request itself is wrong (function, address, count):
    /// asking again cannot help. Others (busy, gateway) may pass.
    pub fn is_permanent(&self) -> bool {
        matches!(self, Refusal::Exception(1..=3))
    }
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Refusal::Exception(c) => {
                let what = match c {
                    1 => "illegal function",
                    2 => "illegal data address",
                    3 => "illegal data value",
                    4 => "server device failure",
                    5 => "acknowledge",
                    6 => "server device busy",
                    10 => "gateway path unavailable",
                    11 => "gateway target device failed to respond",
                    _ => "unknown exception",
                };
                write!(f, "Modbus exception {c} ({what})")
            }
            Refusal::Malformed(m) => write!(f, "malformed answer: {m}"),
        }
    }
}

/// The data bytes of `answer` (the whole ADU) to the request `req`.
pub fn data<'a>(req: &[u8; 12], answer: &'a [u8]) -> Result<&'a [u8], Refusal> {
    let bad = |m: &str| Err(Refusal::Malformed(m.to_string()));
    if answer.len() < 9 {
        return bad("shorter than a header");
    }
    if answer[..2] != req[..2] {
        return bad("another transaction's");
    }
    if answer[6] != req[6] {
        return bad("from another unit");
    }
    let function = req[7];
    if answer[7] == function | 0x80 {
        return Err(Refusal::Exception(answer[8]));
    }
    if answer[7] != function {
        return bad("for another function");
    }
    let n = usize::from(answer[8]);
    match answer.get(9..9 + n) {
        Some(d) => Ok(d),
        None => bad("shorter than its byte count"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_holding_read_and_its_answer() {
        let req = request(7, 1, Table::Holding, 0x10, 2);
        assert_eq!(req, [0, 7, 0, 0, 0, 6, 1, 3, 0, 0x10, 0, 2]);
        let answer = [0, 7, 0, 0, 0, 7, 1, 3, 4, 0x12, 0x34, 0xff, 0xfe];
        assert_eq!(data(&req, &answer), Ok(&answer[9..]));
        let refused = [0, 7, 0, 0, 0, 3, 1, 0x83, 2];
        assert_eq!(data(&req, &refused), Err(Refusal::Exception(2)));
        assert!(Refusal::Exception(2).is_permanent());
        assert!(!Refusal::Exception(6).is_permanent());
        assert!(data(&req, &answer[..11]).is_err());
    }
}
