//! Deterministic embedding vectors.

/// A unit-length vector of `dims` floats derived from a hash of `text`:
/// the same text always gives the same vector, different texts almost surely differ.
pub(crate) fn embed_text(text: &str, dims: usize) -> Vec<f32> {
    // FNV-1a over the bytes seeds a SplitMix64 sequence.
    let mut seed: u64 = 0xcbf2_9ce4_8422_2325;
    for b in text.bytes() {
        seed ^= u64::from(b);
        seed = seed.wrapping_mul(0x0000_0100_0000_01b3);
    }
    let mut values: Vec<f64> = (0..dims)
        .map(|_| {
            seed = seed.wrapping_add(0x9e37_79b9_7f4a_7c15);
            let mut z = seed;
            z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
            z ^= z >> 31;
            // The top 53 bits as a float in [-1, 1).
            #[allow(clippy::cast_precision_loss)]
            let unit = (z >> 11) as f64 / (1u64 << 53) as f64;
            unit * 2.0 - 1.0
        })
        .collect();
    let norm = values.iter().map(|v| v * v).sum::<f64>().sqrt();
    if norm > 0.0 {
        for v in &mut values {
            *v /= norm;
        }
    } else if let Some(first) = values.first_mut() {
        *first = 1.0;
    }
    #[allow(clippy::cast_possible_truncation)]
    values.into_iter().map(|v| v as f32).collect()
}
