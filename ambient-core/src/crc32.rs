//! CRC-32 (IEEE 802.3): reflected polynomial `0xEDB88320`, initial value and final XOR
//! `0xFFFF_FFFF`. This is the CRC of zlib, PNG and Ethernet, so any of those tools can
//! check a weight file or a record stream; both formats use this one implementation.

/// The byte-at-a-time lookup table, built at compile time (1 KiB of read-only data).
const TABLE: [u32; 256] = build_table();

const fn build_table() -> [u32; 256] {
    let mut table = [0u32; 256];
    let mut byte = 0;
    while byte < 256 {
        let mut crc = byte as u32;
        let mut bit = 0;
        while bit < 8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xedb8_8320
            } else {
                crc >> 1
            };
            bit += 1;
        }
        table[byte] = crc;
        byte += 1;
    }
    table
}

/// Returns the CRC-32 of `bytes`.
pub fn crc32(bytes: &[u8]) -> u32 {
    !bytes.iter().fold(!0u32, |crc, &b| {
        TABLE[usize::from((crc as u8) ^ b)] ^ (crc >> 8)
    })
}

#[cfg(test)]
mod tests {
    use super::crc32;

    // Check values of the CRC-32/ISO-HDLC catalogue entry; the second and third were
    // computed with Python's `zlib.crc32`.
    #[test]
    fn crc32_matches_catalogue_check_value() {
        assert_eq!(crc32(b"123456789"), 0xcbf4_3926);
    }

    #[test]
    fn crc32_of_empty_and_short_inputs() {
        assert_eq!(crc32(b""), 0);
        assert_eq!(crc32(b"a"), 0xe8b7_be43);
        assert_eq!(crc32(b"AMBR"), 0x3d84_e388);
    }
}
