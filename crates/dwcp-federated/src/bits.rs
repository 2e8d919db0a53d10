//! Bit packing and LEB128 varints for the compact update encoding.

/// Appends values of a fixed bit width, least significant bit first.
#[derive(Default)]
pub struct BitWriter {
    bytes: Vec<u8>,
    acc: u64,
    used: u32,
}

impl BitWriter {
    /// Appends the low `width` (≤ 32) bits of `v`.
    pub fn put(&mut self, v: u32, width: u32) {
        if width == 0 {
            return;
        }
        let mask = if width == 32 {
            u32::MAX
        } else {
            (1u32 << width) - 1
        };
        self.acc |= u64::from(v & mask) << self.used;
        self.used += width;
        while self.used >= 8 {
            self.bytes.push(self.acc as u8);
            self.acc >>= 8;
            self.used -= 8;
        }
    }

    /// The packed bytes (the last one zero-padded).
    pub fn finish(mut self) -> Vec<u8> {
        if self.used > 0 {
            self.bytes.push(self.acc as u8);
        }
        self.bytes
    }
}

/// Reads what [`BitWriter`] wrote; `None` past the end.
pub struct BitReader<'a> {
    bytes: &'a [u8],
    pos: usize,
    acc: u64,
    avail: u32,
}

impl<'a> BitReader<'a> {
    /// A reader over `bytes`.
    pub fn new(bytes: &'a [u8]) -> Self {
        BitReader {
            bytes,
            pos: 0,
            acc: 0,
            avail: 0,
        }
    }

    /// The next `width` (≤ 32) bits.
    pub fn get(&mut self, width: u32) -> Option<u32> {
        if width == 0 {
            return Some(0);
        }
        while self.avail < width {
            let b = *self.bytes.get(self.pos)?;
            self.pos += 1;
            self.acc |= u64::from(b) << self.avail;
            self.avail += 8;
        }
        let mask = if width == 32 {
            u64::from(u32::MAX)
        } else {
            (1u64 << width) - 1
        };
        let v = (self.acc & mask) as u32;
        self.acc >>= width;
        self.avail -= width;
        Some(v)
    }
}

/// Bytes needed to pack `count` values of `width` bits.
pub fn packed_len(count: usize, width: u32) -> usize {
    (count * width as usize).div_ceil(8)
}

/// Appends `v` as an unsigned LEB128 varint.
pub fn put_varint(out: &mut Vec<u8>, mut v: u64) {
    loop {
        let b = (v & 0x7f) as u8;
        v >>= 7;
        if v == 0 {
            out.push(b);
            return;
        }
        out.push(b | 0x80);
    }
}

/// Reads an unsigned LEB128 varint of at most 10 bytes from `bytes[*pos..]`.
pub fn get_varint(bytes: &[u8], pos: &mut usize) -> Option<u64> {
    let mut v = 0u64;
    for shift in (0..70).step_by(7) {
        let b = *bytes.get(*pos)?;
        *pos += 1;
        if shift == 63 && b > 1 {
            return None;
        }
        v |= u64::from(b & 0x7f) << shift;
        if b & 0x80 == 0 {
            return Some(v);
        }
    }
    None
}

/// Bits needed to represent `v` (0 for 0).
pub fn width_of(v: u32) -> u32 {
    32 - v.leading_zeros()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bits_and_varints_round_trip() {
        let mut w = BitWriter::default();
        let vals = [(5u32, 3u32), (0, 1), (u32::MAX, 32), (1023, 10), (1, 1)];
        for (v, n) in vals {
            w.put(v, n);
        }
        let bytes = w.finish();
        assert_eq!(bytes.len(), packed_len(1, 47));
        let mut r = BitReader::new(&bytes);
        for (v, n) in vals {
            assert_eq!(r.get(n), Some(v));
        }
        let mut out = vec![];
        for v in [0u64, 127, 128, u64::MAX] {
            put_varint(&mut out, v);
        }
        let mut pos = 0;
        for v in [0u64, 127, 128, u64::MAX] {
            assert_eq!(get_varint(&out, &mut pos), Some(v));
        }
        assert_eq!(get_varint(&[0xff; 11], &mut 0), None);
    }
}
