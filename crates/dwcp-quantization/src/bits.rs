//! Bit-level writing, counting and bounded reading (least significant bit
//! first). The encoder is written once against [`BitSink`] and run either on a
//! [`BitCounter`] (for `encoded_len`, no allocation) or on a [`BitWriter`], so
//! the predicted length is the real length by construction.

use crate::Error;

/// Something bits can be written to.
pub(crate) trait BitSink {
    /// Writes the low `n` bits of `v` (`n <= 64`).
    fn put(&mut self, v: u64, n: u32);

    /// `n` zero bits followed by a one (unary code of `n`).
    fn unary(&mut self, mut n: u64) {
        while n >= 64 {
            self.put(0, 64);
            n -= 64;
        }
        // n < 64 here, so the value fits.
        self.put(1u64 << n, n as u32 + 1);
    }

    /// LEB128 in 8-bit groups (the minimal encoding).
    fn varint(&mut self, mut v: u64) {
        loop {
            let low = v & 0x7f;
            v >>= 7;
            if v == 0 {
                self.put(low, 8);
                return;
            }
            self.put(low | 0x80, 8);
        }
    }

    /// An `f32` as its 32 raw bits.
    fn f32(&mut self, v: f32) {
        self.put(u64::from(v.to_bits()), 32);
    }
}

/// Counts bits without storing them.
#[derive(Default)]
pub(crate) struct BitCounter(pub u64);

impl BitSink for BitCounter {
    fn put(&mut self, _v: u64, n: u32) {
        self.0 += u64::from(n);
    }
    fn unary(&mut self, n: u64) {
        self.0 += n + 1;
    }
}

/// Appends bits to a byte vector.
pub(crate) struct BitWriter {
    out: Vec<u8>,
    acc: u64,
    fill: u32,
}

impl BitWriter {
    pub(crate) fn with_capacity(bytes: usize) -> Self {
        BitWriter {
            out: Vec::with_capacity(bytes),
            acc: 0,
            fill: 0,
        }
    }

    /// Flushes the partial byte (zero padded) and returns the bytes.
    pub(crate) fn finish(mut self) -> Vec<u8> {
        while self.fill > 0 {
            self.out.push(self.acc as u8);
            self.acc >>= 8;
            self.fill = self.fill.saturating_sub(8);
        }
        self.out
    }
}

impl BitSink for BitWriter {
    fn put(&mut self, v: u64, n: u32) {
        if n == 0 {
            return;
        }
        let v = if n == 64 { v } else { v & ((1u64 << n) - 1) };
        // Split so the accumulator (< 32 bits after a flush) never overflows.
        let (lo_n, hi_n) = if n > 32 { (32, n - 32) } else { (n, 0) };
        self.push_small(v & ((1u64 << lo_n) - 1), lo_n);
        if hi_n > 0 {
            self.push_small(v >> 32, hi_n);
        }
    }
}

impl BitWriter {
    /// Appends `n <= 32` bits; the accumulator holds fewer than 32 bits
    /// between calls and is flushed 4 bytes at a time.
    fn push_small(&mut self, v: u64, n: u32) {
        self.acc |= v << self.fill;
        self.fill += n;
        if self.fill >= 32 {
            self.out.extend_from_slice(&(self.acc as u32).to_le_bytes());
            self.acc >>= 32;
            self.fill -= 32;
        }
    }
}

/// Reads bits from untrusted bytes; every read is bounds-checked.
pub(crate) struct BitReader<'a> {
    data: &'a [u8],
    /// Position in bits.
    pos: u64,
}

impl<'a> BitReader<'a> {
    pub(crate) fn new(data: &'a [u8]) -> Self {
        BitReader { data, pos: 0 }
    }

    /// Bits not yet read.
    pub(crate) fn remaining(&self) -> u64 {
        (self.data.len() as u64 * 8).saturating_sub(self.pos)
    }

    /// Reads `n <= 64` bits.
    pub(crate) fn get(&mut self, n: u32) -> Result<u64, Error> {
        if u64::from(n) > self.remaining() {
            return Err(Error::Truncated);
        }
        // Fast path: one unaligned 8-byte load covers offset + n <= 63 bits.
        if n <= 56 {
            let byte = (self.pos / 8) as usize;
            if let Some(w) = self.data.get(byte..byte.saturating_add(8)) {
                let word =
                    u64::from_le_bytes(<[u8; 8]>::try_from(w).map_err(|_| Error::Truncated)?);
                let off = (self.pos % 8) as u32;
                self.pos += u64::from(n);
                return Ok((word >> off) & ((1u64 << n) - 1));
            }
        }
        let mut v = 0u64;
        let mut got = 0u32;
        while got < n {
            let byte = (self.pos / 8) as usize;
            let off = (self.pos % 8) as u32;
            let b = u64::from(*self.data.get(byte).ok_or(Error::Truncated)?);
            let take = (8 - off).min(n - got);
            v |= ((b >> off) & ((1u64 << take) - 1)) << got;
            got += take;
            self.pos += u64::from(take);
        }
        Ok(v)
    }

    /// A unary code, refusing runs longer than `max`.
    pub(crate) fn unary(&mut self, max: u64) -> Result<u64, Error> {
        let mut n = 0u64;
        loop {
            if self.get(1)? == 1 {
                return Ok(n);
            }
            n += 1;
            if n > max {
                return Err(Error::Malformed("unary run too long"));
            }
        }
    }

    /// A minimal LEB128 varint of at most 64 bits.
    pub(crate) fn varint(&mut self) -> Result<u64, Error> {
        let mut v = 0u64;
        for i in 0..10u32 {
            let b = self.get(8)?;
            let low = b & 0x7f;
            if i == 9 && low > 1 {
                return Err(Error::Malformed("varint overflows 64 bits"));
            }
            v |= low << (7 * i);
            if b & 0x80 == 0 {
                if i > 0 && low == 0 {
                    return Err(Error::Malformed("non-minimal varint"));
                }
                return Ok(v);
            }
        }
        Err(Error::Malformed("varint too long"))
    }

    /// A finite `f32`.
    pub(crate) fn finite_f32(&mut self) -> Result<f32, Error> {
        let v = f32::from_bits(self.get(32)? as u32);
        if v.is_finite() {
            Ok(v)
        } else {
            Err(Error::NonFinite)
        }
    }

    /// Checks that only zero padding (< 8 bits) remains.
    pub(crate) fn finish(self) -> Result<(), Error> {
        let rem = self.remaining();
        if rem >= 8 {
            return Err(Error::Malformed("trailing bytes"));
        }
        let mut me = self;
        if rem > 0 && me.get(rem as u32)? != 0 {
            return Err(Error::Malformed("non-zero padding"));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn write_read_roundtrip_and_count() {
        let mut w = BitWriter::with_capacity(0);
        let mut c = BitCounter::default();
        let items: [(u64, u32); 6] = [
            (5, 3),
            (u64::MAX, 64),
            (0, 0),
            (1, 1),
            (0x1234, 13),
            (7, 40),
        ];
        for &(v, n) in &items {
            w.put(v, n);
            c.put(v, n);
        }
        w.unary(70);
        c.unary(70);
        w.varint(300);
        c.varint(300);
        let bytes = w.finish();
        assert_eq!(bytes.len() as u64, c.0.div_ceil(8));
        let mut r = BitReader::new(&bytes);
        for &(v, n) in &items {
            let mask = if n == 64 { u64::MAX } else { (1u64 << n) - 1 };
            assert_eq!(r.get(n).unwrap(), v & mask);
        }
        assert_eq!(r.unary(100).unwrap(), 70);
        assert_eq!(r.varint().unwrap(), 300);
        r.finish().unwrap();
    }

    #[test]
    fn reader_rejects_bad_input() {
        assert_eq!(BitReader::new(&[1]).get(9), Err(Error::Truncated));
        assert!(BitReader::new(&[0x80, 0x00]).varint().is_err());
        assert!(BitReader::new(&[0; 2]).unary(10).is_err());
        assert!(BitReader::new(&[0, 0]).finish().is_err());
        let mut r = BitReader::new(&[0b10]);
        r.get(1).unwrap();
        assert!(r.finish().is_err());
    }
}
