//! Meter readings, version-neutral: 1.6 MeterValues / transactionData (SampledValue) and 2.0.1
//! meterValue (SampledValueType).
//!
//! Rules implemented here:
//! - An absent measurand is Energy.Active.Import.Register and an absent context is
//!   Sample.Periodic (the defaults of 1.6 SampledValue, section 7.43, and of 2.0.1
//!   SampledValueType). An energy reading without a unit is in Wh (same sources).
//! - Kilo units (kWh, kW, kvarh, kvar, kVA) are stored in their base unit, and the 2.0.1
//!   unitOfMeasure multiplier (a power of ten) is applied, so every energy reading is in Wh.
//! - Values are exact decimals, never binary floats. A value is checked after it is scaled to
//!   its base unit: at most [`MAX_MAGNITUDE`] in size and rounded to [`DECIMALS`] places, so it
//!   fits DynamoDB's numbers (38 digits) and `Decimal` (28) with room for sums, and 1e303 or a
//!   multiplier of 10^30 is refused instead of becoming infinity.
//! - A reading is identified by (timestamp, measurand, phase, context): a series holds at most
//!   one value per such key, which is what makes redelivered meter values harmless.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;

#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Measurand {
    EnergyActiveImportRegister,
    PowerActiveImport,
    CurrentImport,
    Voltage,
    SoC,
    /// Any other measurand, by its OCPP name (the two versions share the names).
    Other(String),
}

impl Measurand {
    const KNOWN: [Measurand; 5] = [
        Self::EnergyActiveImportRegister,
        Self::PowerActiveImport,
        Self::CurrentImport,
        Self::Voltage,
        Self::SoC,
    ];

    /// Absent means Energy.Active.Import.Register.
    pub fn parse(raw: Option<&str>) -> Self {
        let Some(raw) = raw else {
            return Self::EnergyActiveImportRegister;
        };
        Self::KNOWN
            .into_iter()
            .find(|m| m.as_str() == raw)
            .unwrap_or_else(|| Self::Other(raw.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        match self {
            Self::EnergyActiveImportRegister => "Energy.Active.Import.Register",
            Self::PowerActiveImport => "Power.Active.Import",
            Self::CurrentImport => "Current.Import",
            Self::Voltage => "Voltage",
            Self::SoC => "SoC",
            Self::Other(name) => name,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Phase {
    L1,
    L2,
    L3,
    N,
    L1N,
    L2N,
    L3N,
    L1L2,
    L2L3,
    L3L1,
}

impl Phase {
    pub const ALL: [Phase; 10] = [
        Self::L1,
        Self::L2,
        Self::L3,
        Self::N,
        Self::L1N,
        Self::L2N,
        Self::L3N,
        Self::L1L2,
        Self::L2L3,
        Self::L3L1,
    ];

    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|p| p.as_str() == raw)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::L1 => "L1",
            Self::L2 => "L2",
            Self::L3 => "L3",
            Self::N => "N",
            Self::L1N => "L1-N",
            Self::L2N => "L2-N",
            Self::L3N => "L3-N",
            Self::L1L2 => "L1-L2",
            Self::L2L3 => "L2-L3",
            Self::L3L1 => "L3-L1",
        }
    }
}

/// Why a reading was taken.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub enum ReadingContext {
    InterruptionBegin,
    InterruptionEnd,
    Other,
    SampleClock,
    #[default]
    SamplePeriodic,
    TransactionBegin,
    TransactionEnd,
    Trigger,
}

impl ReadingContext {
    pub const ALL: [ReadingContext; 8] = [
        Self::InterruptionBegin,
        Self::InterruptionEnd,
        Self::Other,
        Self::SampleClock,
        Self::SamplePeriodic,
        Self::TransactionBegin,
        Self::TransactionEnd,
        Self::Trigger,
    ];

    /// Absent means Sample.Periodic; an unknown word is None.
    pub fn parse(raw: Option<&str>) -> Option<Self> {
        match raw {
            None => Some(Self::SamplePeriodic),
            Some(raw) => Self::ALL.into_iter().find(|c| c.as_str() == raw),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::InterruptionBegin => "Interruption.Begin",
            Self::InterruptionEnd => "Interruption.End",
            Self::Other => "Other",
            Self::SampleClock => "Sample.Clock",
            Self::SamplePeriodic => "Sample.Periodic",
            Self::TransactionBegin => "Transaction.Begin",
            Self::TransactionEnd => "Transaction.End",
            Self::Trigger => "Trigger",
        }
    }
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum MeterError {
    #[error("meter value is not a decimal number")]
    NotANumber,
    #[error("meter value is beyond 10^12 in its base unit")]
    OutOfRange,
}

/// The largest size of a reading in its base unit: 10^12 (a terawatt-hour in Wh, a terawatt in
/// W), far above any meter register or charger, far below what the stores hold.
pub const MAX_MAGNITUDE: Decimal = Decimal::from_parts(3_567_587_328, 232, 0, false, 0);
/// Decimal places a reading keeps (micro-units): 1e12 with 6 places is 18 digits.
pub const DECIMALS: u32 = 6;

/// `value` times 10^`exponent`, exactly, or None beyond [`MAX_MAGNITUDE`].
fn scale(value: Decimal, exponent: i32) -> Option<Decimal> {
    let mut scaled = value;
    // 10^40 takes any non-zero reading out of range, 10^-40 any reading to zero.
    for _ in 0..exponent.unsigned_abs().min(40) {
        if scaled.is_zero() {
            break;
        }
        scaled = if exponent > 0 {
            scaled.checked_mul(Decimal::TEN)?
        } else {
            scaled.checked_div(Decimal::TEN)?
        };
        if scaled.abs() > MAX_MAGNITUDE {
            return None;
        }
    }
    (scaled.abs() <= MAX_MAGNITUDE).then(|| scaled.round_dp(DECIMALS).normalize())
}

/// What identifies a reading within a series.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SampleKey {
    pub timestamp: DateTime<Utc>,
    pub measurand: Measurand,
    pub phase: Option<Phase>,
    pub context: ReadingContext,
}

/// One sampled value with its timestamp, in its base unit (Wh, W, A, V, Percent, ...).
#[derive(Debug, Clone, PartialEq)]
pub struct MeterSample {
    pub timestamp: DateTime<Utc>,
    pub measurand: Measurand,
    pub phase: Option<Phase>,
    pub context: ReadingContext,
    /// In the base unit, within [`MAX_MAGNITUDE`], at most [`DECIMALS`] places.
    pub value: Decimal,
    pub unit: Option<String>,
}

impl MeterSample {
    /// A reading of `value` in `unit` times 10^`multiplier` (1.6 sends no multiplier: 0),
    /// checked once scaled to its base unit.
    pub fn new(
        timestamp: DateTime<Utc>,
        measurand: Measurand,
        value: Decimal,
        unit: Option<&str>,
        multiplier: i32,
    ) -> Result<Self, MeterError> {
        let unit = unit.or((measurand == Measurand::EnergyActiveImportRegister).then_some("Wh"));
        let (kilo, unit) = match unit {
            Some("kWh") => (3, Some("Wh")),
            Some("kW") => (3, Some("W")),
            Some("kvarh") => (3, Some("varh")),
            Some("kvar") => (3, Some("var")),
            Some("kVA") => (3, Some("VA")),
            other => (0, other),
        };
        let value = scale(value, multiplier.saturating_add(kilo)).ok_or(MeterError::OutOfRange)?;
        Ok(Self {
            timestamp,
            measurand,
            phase: None,
            context: ReadingContext::default(),
            value,
            unit: unit.map(str::to_owned),
        })
    }

    pub fn with_phase(mut self, phase: Option<Phase>) -> Self {
        self.phase = phase;
        self
    }

    pub fn with_context(mut self, context: ReadingContext) -> Self {
        self.context = context;
        self
    }

    /// A 1.6 SampledValue.value, which is a decimal in a string (plain or with an exponent);
    /// also the text of a 2.0.1 number. Not yet scaled or bounded: see [`MeterSample::new`].
    pub fn parse_value(raw: &str) -> Result<Decimal, MeterError> {
        let raw = raw.trim();
        let has_exponent = raw.contains(['e', 'E']);
        let parsed = if has_exponent {
            Decimal::from_scientific(raw)
        } else {
            raw.parse::<Decimal>()
        };
        parsed.map_err(|_| MeterError::NotANumber)
    }

    pub fn key(&self) -> SampleKey {
        SampleKey {
            timestamp: self.timestamp,
            measurand: self.measurand.clone(),
            phase: self.phase,
            context: self.context,
        }
    }

    /// The total import energy register (no phase), in Wh: what a session's energy comes from.
    pub fn is_energy_register(&self) -> bool {
        self.measurand == Measurand::EnergyActiveImportRegister && self.phase.is_none()
    }
}

/// The energy register reading among `samples` best suited for `context` (Transaction.Begin or
/// Transaction.End): one in that context, else the latest (for End) or earliest (for Begin).
pub fn energy_register(samples: &[MeterSample], context: ReadingContext) -> Option<Decimal> {
    let registers = || samples.iter().filter(|s| s.is_energy_register());
    let in_context = registers().find(|s| s.context == context);
    let fallback = if context == ReadingContext::TransactionEnd {
        registers().max_by_key(|s| s.timestamp)
    } else {
        registers().min_by_key(|s| s.timestamp)
    };
    in_context.or(fallback).map(|s| s.value)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    fn t0() -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2026-03-01T10:00:00Z")
            .unwrap()
            .with_timezone(&Utc)
    }

    #[test]
    fn defaults_follow_the_specification() {
        assert_eq!(Measurand::parse(None), Measurand::EnergyActiveImportRegister);
        assert_eq!(ReadingContext::parse(None), Some(ReadingContext::SamplePeriodic));
        let s = MeterSample::new(t0(), Measurand::parse(None), dec!(12), None, 0).unwrap();
        assert_eq!(s.unit.as_deref(), Some("Wh"));
        let soc = MeterSample::new(t0(), Measurand::SoC, dec!(80), Some("Percent"), 0).unwrap();
        assert_eq!(soc.unit.as_deref(), Some("Percent"));
    }

    #[test]
    fn names_round_trip() {
        for name in [
            "Energy.Active.Import.Register",
            "Power.Active.Import",
            "SoC",
            "Frequency",
        ] {
            assert_eq!(Measurand::parse(Some(name)).as_str(), name);
        }
        for p in Phase::ALL {
            assert_eq!(Phase::parse(p.as_str()), Some(p));
        }
        for c in ReadingContext::ALL {
            assert_eq!(ReadingContext::parse(Some(c.as_str())), Some(c));
        }
        assert_eq!(ReadingContext::parse(Some("Sample.Random")), None);
        assert_eq!(Phase::parse("L4"), None);
    }

    #[test]
    fn kilo_units_and_multipliers_become_base_units_exactly() {
        let new = |value, unit, multiplier| {
            MeterSample::new(
                t0(),
                Measurand::EnergyActiveImportRegister,
                value,
                Some(unit),
                multiplier,
            )
        };
        let kwh = new(dec!(12.345), "kWh", 0).unwrap();
        assert_eq!((kwh.value, kwh.unit.as_deref()), (dec!(12345), Some("Wh")));
        let kw = MeterSample::new(t0(), Measurand::PowerActiveImport, dec!(7.4), Some("kW"), 0).unwrap();
        assert_eq!((kw.value, kw.unit.as_deref()), (dec!(7400), Some("W")));
        assert_eq!(new(dec!(12.3), "Wh", 3).unwrap().value, dec!(12300));
        assert_eq!(new(dec!(12.3), "kWh", -3).unwrap().value, dec!(12.3));
        // Beyond six places is rounded; beyond 10^-40 is nothing.
        assert_eq!(new(dec!(1.23456789), "Wh", 0).unwrap().value, dec!(1.234568));
        assert_eq!(new(dec!(5), "Wh", i32::MIN).unwrap().value, Decimal::ZERO);
        assert_eq!(MeterSample::parse_value(" 230.5 "), Ok(dec!(230.5)));
        assert_eq!(MeterSample::parse_value("1.5E3"), Ok(dec!(1500)));
        for bad in ["inf", "NaN", "", "1,5", "0x10", "1e303"] {
            assert_eq!(MeterSample::parse_value(bad), Err(MeterError::NotANumber), "{bad}");
        }
    }

    #[test]
    fn values_are_checked_after_scaling() {
        let new = |value, unit, multiplier| {
            MeterSample::new(
                t0(),
                Measurand::EnergyActiveImportRegister,
                value,
                Some(unit),
                multiplier,
            )
        };
        assert_eq!(new(MAX_MAGNITUDE, "Wh", 0).unwrap().value, dec!(1_000_000_000_000));
        assert_eq!(new(MAX_MAGNITUDE, "kWh", 0), Err(MeterError::OutOfRange));
        assert_eq!(new(dec!(-1), "Wh", 13), Err(MeterError::OutOfRange));
        assert_eq!(new(dec!(1), "Wh", i32::MAX), Err(MeterError::OutOfRange));
        assert_eq!(new(Decimal::MAX, "Wh", -16), Err(MeterError::OutOfRange));
        assert_eq!(new(Decimal::ZERO, "kWh", i32::MAX).unwrap().value, Decimal::ZERO);
    }

    #[test]
    fn the_energy_register_prefers_the_asked_context() {
        let e = |v: Decimal, secs: i64, ctx| {
            MeterSample::new(
                t0() + chrono::Duration::seconds(secs),
                Measurand::parse(None),
                v,
                None,
                0,
            )
            .unwrap()
            .with_context(ctx)
        };
        let phase = e(dec!(5), 0, ReadingContext::TransactionBegin).with_phase(Some(Phase::L1));
        let samples = [
            phase,
            e(dec!(100), 10, ReadingContext::SamplePeriodic),
            e(dec!(90), 5, ReadingContext::TransactionBegin),
            e(dec!(150), 20, ReadingContext::SamplePeriodic),
        ];
        assert_eq!(
            energy_register(&samples, ReadingContext::TransactionBegin),
            Some(dec!(90))
        );
        assert_eq!(
            energy_register(&samples, ReadingContext::TransactionEnd),
            Some(dec!(150))
        );
        assert_eq!(
            energy_register(&samples[..2], ReadingContext::TransactionBegin),
            Some(dec!(100))
        );
        assert_eq!(energy_register(&[], ReadingContext::TransactionEnd), None);
    }
}
