//! StreamShare media plane (placeholder while the SFU is written).
