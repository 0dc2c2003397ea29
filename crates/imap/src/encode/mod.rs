//! Rendering message data for FETCH: ENVELOPE, BODY/BODYSTRUCTURE,
//! section location, and content-transfer decoding for BINARY.

pub mod address;
pub mod base64;
pub mod bodystructure;
pub mod envelope;
pub mod params;
pub mod section;
pub mod transfer;
