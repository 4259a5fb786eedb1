//! Running the cases: one case (skipped unless the provider declares the
//! capabilities it needs), every case into a [`Report`], or one case as a
//! `#[test]`.

use std::fmt;
use std::io::Write as _;

use switchboard_core::Capabilities;

use crate::cases::{Case, CaseRun};
use crate::fixtures::WireFixtures;
use crate::target::Target;

/// Whether `caps` declares the capability called `name`.
fn has_capability(caps: &Capabilities, name: &str) -> bool {
    match name {
        "streaming" => caps.streaming,
        "tools" => caps.tools,
        "vision" => caps.vision,
        "embeddings" => caps.embeddings,
        "json_schema" => caps.json_schema,
        "reasoning" => caps.reasoning,
        _ => false,
    }
}

/// How one case went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Every assertion held.
    Passed,
    /// The case did not run, and why.
    Skipped(String),
    /// The first assertion that failed.
    Failed(String),
}

/// Runs one case against the provider described by `target`.
pub async fn run_case<F: WireFixtures + ?Sized>(
    case: Case,
    target: &Target,
    fixtures: &F,
) -> Outcome {
    let caps = target.descriptor.capabilities;
    let missing: Vec<&str> = case
        .requires()
        .iter()
        .copied()
        .filter(|c| !has_capability(&caps, c))
        .collect();
    if !missing.is_empty() {
        return Outcome::Skipped(format!(
            "provider `{}` does not declare capability {}",
            target.descriptor.name,
            missing
                .iter()
                .map(|c| format!("`{c}`"))
                .collect::<Vec<_>>()
                .join(" and ")
        ));
    }
    let mut run = CaseRun {
        target,
        fx: fixtures,
        skipped: None,
    };
    let result = run.case(case).await;
    match (result, run.skipped) {
        (Err(msg), _) => Outcome::Failed(msg),
        (Ok(()), Some(reason)) => Outcome::Skipped(reason),
        (Ok(()), None) => Outcome::Passed,
    }
}

/// The outcome of every case for one provider.
#[derive(Debug, Clone)]
pub struct Report {
    /// The provider's name.
    pub provider: &'static str,
    /// Each case and how it went, in [`Case::ALL`] order.
    pub results: Vec<(Case, Outcome)>,
}

impl Report {
    /// The cases that passed.
    pub fn passed(&self) -> Vec<Case> {
        self.filter(|o| matches!(o, Outcome::Passed))
    }

    /// The cases that were skipped.
    pub fn skipped(&self) -> Vec<Case> {
        self.filter(|o| matches!(o, Outcome::Skipped(_)))
    }

    /// The cases that failed.
    pub fn failed(&self) -> Vec<Case> {
        self.filter(|o| matches!(o, Outcome::Failed(_)))
    }

    /// Whether no case failed.
    pub fn is_success(&self) -> bool {
        self.failed().is_empty()
    }

    fn filter(&self, pred: impl Fn(&Outcome) -> bool) -> Vec<Case> {
        self.results
            .iter()
            .filter(|(_, o)| pred(o))
            .map(|(c, _)| *c)
            .collect()
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (case, outcome) in &self.results {
            match outcome {
                Outcome::Passed => writeln!(f, "ok      {case}")?,
                Outcome::Skipped(why) => writeln!(f, "SKIPPED {case}: {why}")?,
                Outcome::Failed(why) => writeln!(f, "FAILED  {case}: {why}")?,
            }
        }
        write!(
            f,
            "conformance of `{}`: {} passed, {} failed, {} skipped",
            self.provider,
            self.passed().len(),
            self.failed().len(),
            self.skipped().len()
        )
    }
}

/// Runs every case, one after the other, and reports how each went.
pub async fn run_conformance<F: WireFixtures + ?Sized>(target: &Target, fixtures: &F) -> Report {
    let mut results = Vec::with_capacity(Case::ALL.len());
    for case in Case::ALL {
        results.push((*case, run_case(*case, target, fixtures).await));
    }
    Report {
        provider: target.descriptor.name,
        results,
    }
}

/// Runs the case named `name` on a fresh runtime: panics with the reason if
/// it fails, and prints a `SKIPPED` line (to the real stderr, past the test
/// harness's capture) if it does not apply. Called by
/// [`conformance_tests!`](crate::conformance_tests).
pub fn run_test<F: WireFixtures + ?Sized>(name: &str, target: Target, fixtures: &F) {
    let Some(case) = Case::from_name(name) else {
        panic!("no conformance case is named `{name}`");
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap_or_else(|e| panic!("cannot start a tokio runtime: {e}"));
    match runtime.block_on(run_case(case, &target, fixtures)) {
        Outcome::Passed => {}
        Outcome::Skipped(why) => {
            let _ = writeln!(
                std::io::stderr().lock(),
                "conformance `{}`: SKIPPED {case}: {why}",
                target.descriptor.name
            );
        }
        Outcome::Failed(why) => panic!(
            "conformance `{}`: case `{case}` failed: {why}",
            target.descriptor.name
        ),
    }
}

/// Fails unless `names` is exactly the list of [`Case::ALL`] (the macro's
/// list and the kit's must not drift apart).
pub fn assert_case_list(names: &[&str]) {
    let all: Vec<&str> = Case::ALL.iter().map(|c| c.name()).collect();
    assert_eq!(
        names,
        all.as_slice(),
        "conformance_tests! and Case::ALL list different cases"
    );
}
