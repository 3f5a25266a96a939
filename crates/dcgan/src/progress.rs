//! Progress: the one typed event every part of the library reports through, and the receiver
//! trait a front end implements (the CLI renders bars; a test collects; [`Quiet`] drops).

use serde::{Deserialize, Serialize};

/// One line of `log.jsonl`: a training step's losses and D's outputs.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct LogRecord {
    /// The training step (1-based).
    pub step: u64,
    /// The epoch it belongs to (0-based).
    pub epoch: u64,
    /// D's loss: BCE on the real batch plus BCE on G's batch.
    pub loss_d: f32,
    /// G's loss: BCE of D's output on G's batch against the label real.
    pub loss_g: f32,
    /// Mean D(x).
    pub d_real: f32,
    /// Mean D(G(z)) in the D step.
    pub d_fake: f32,
    /// Mean D(G(z)) in the G step.
    pub d_fake_after: f32,
    /// Training speed over this step.
    pub images_per_second: f32,
    /// FID of G after this step (`--eval-every`; BatchNorm in inference mode, the fixed latent
    /// set of `dcgan fid --seed 0`), absent on steps without an evaluation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fid: Option<f64>,
    /// KID (mean over subsets) of the same evaluation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kid: Option<f64>,
    /// Precision, recall, density and coverage of the same evaluation (`eval.prdc_k`), in that
    /// order.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prdc: Option<[f64; 4]>,
    /// Why this step's evaluation failed (training went on).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub eval_error: Option<String>,
    /// A warning about the scores so far (recall or coverage fell at three evaluations in a
    /// row: the usual sign of mode collapse).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub eval_warning: Option<String>,
}

/// What a running task tells its front end.
#[derive(Clone, Debug, Serialize)]
#[serde(tag = "event", rename_all = "kebab-case")]
pub enum Event {
    /// A pass over `total` units (images, batches) starts; `what` names them.
    Begin {
        /// What the units are.
        what: String,
        /// Units in the pass.
        total: u64,
    },
    /// `done` of the current pass's `total` units are done.
    Progress {
        /// Units done.
        done: u64,
        /// Units in the pass.
        total: u64,
    },
    /// The current pass ended.
    End,
    /// Training starts or resumes: the data, steps per epoch, the first and the last step.
    TrainStart {
        /// The data set's description.
        data: String,
        /// Steps in an epoch.
        steps_per_epoch: u64,
        /// The first step of this invocation.
        first_step: u64,
        /// The step training ends at.
        last_step: u64,
    },
    /// One training step, as written to `log.jsonl`.
    TrainStep(LogRecord),
    /// A notable fact on the way (a phase's result, a file written): for a log, not a warning.
    /// JSON: `{"event": "info", "text": …}`.
    Info(#[serde(serialize_with = "as_text")] String),
    /// Something went wrong that the task survived (an unreadable image skipped).
    /// JSON: `{"event": "warning", "text": …}`.
    Warning(#[serde(serialize_with = "as_text")] String),
}

/// A text payload as `{"text": …}`: an internally tagged enum can carry the tag beside a map's
/// fields, not beside a bare string.
fn as_text<S: serde::Serializer>(text: &str, s: S) -> Result<S::Ok, S::Error> {
    use serde::ser::SerializeStruct;
    let mut m = s.serialize_struct("Text", 1)?;
    m.serialize_field("text", text)?;
    m.end()
}

/// Receives events. Closures `FnMut(Event)` are receivers.
pub trait Events {
    /// Receive one event.
    fn emit(&mut self, event: Event);

    /// Shorthand for [`Event::Info`].
    fn info(&mut self, text: String) {
        self.emit(Event::Info(text));
    }
}

impl<F: FnMut(Event)> Events for F {
    fn emit(&mut self, event: Event) {
        self(event)
    }
}

/// Ignores every event.
pub struct Quiet;

impl Events for Quiet {
    fn emit(&mut self, _event: Event) {}
}

/// Passes events on with `prefix` before every `Info` and `Warning` text (which method or which
/// set a message is about).
pub(crate) struct Prefixed<'a> {
    /// Where the events go.
    pub inner: &'a mut dyn Events,
    /// What is put before each text.
    pub prefix: String,
}

impl Events for Prefixed<'_> {
    fn emit(&mut self, event: Event) {
        self.inner.emit(match event {
            Event::Info(t) => Event::Info(format!("{}{t}", self.prefix)),
            Event::Warning(t) => Event::Warning(format!("{}{t}", self.prefix)),
            other => other,
        })
    }
}

/// A pass over `total` units: `Begin` when made, `Progress` on [`Pass::advance`], `End` when
/// dropped (also when the pass fails half-way, so a bar never outlives its pass).
pub(crate) struct Pass<'a> {
    events: &'a mut dyn Events,
    total: u64,
}

impl<'a> Pass<'a> {
    pub(crate) fn begin(events: &'a mut dyn Events, what: &str, total: usize) -> Self {
        events.emit(Event::Begin {
            what: what.to_string(),
            total: total as u64,
        });
        Self {
            events,
            total: total as u64,
        }
    }

    pub(crate) fn advance(&mut self, done: usize) {
        self.events.emit(Event::Progress {
            done: done as u64,
            total: self.total,
        });
    }
}

impl Drop for Pass<'_> {
    fn drop(&mut self) {
        self.events.emit(Event::End);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pass_begins_advances_and_ends_even_when_left_early() {
        let mut seen = Vec::new();
        {
            let mut sink = |e: Event| seen.push(format!("{e:?}"));
            let mut p = Pass::begin(&mut sink, "images", 10);
            p.advance(4);
        }
        assert_eq!(
            seen,
            [
                "Begin { what: \"images\", total: 10 }",
                "Progress { done: 4, total: 10 }",
                "End"
            ]
        );
    }

    #[test]
    fn prefixed_marks_messages_only() {
        let mut seen = Vec::new();
        let mut sink = |e: Event| seen.push(e);
        let mut p = Prefixed {
            inner: &mut sink,
            prefix: "kmeans: ".into(),
        };
        p.info("C 1e-3".into());
        p.emit(Event::End);
        assert!(matches!(&seen[0], Event::Info(t) if t == "kmeans: C 1e-3"));
        assert!(matches!(seen[1], Event::End));
    }

    #[test]
    fn every_event_serialises_with_its_tag() {
        let json = |e: Event| serde_json::to_string(&e).unwrap();
        assert_eq!(
            json(Event::Info("wrote x".into())),
            r#"{"event":"info","text":"wrote x"}"#
        );
        assert_eq!(
            json(Event::Warning("skipped y".into())),
            r#"{"event":"warning","text":"skipped y"}"#
        );
        assert_eq!(json(Event::End), r#"{"event":"end"}"#);
        assert_eq!(
            json(Event::Progress { done: 1, total: 2 }),
            r#"{"event":"progress","done":1,"total":2}"#
        );
        let step = json(Event::TrainStep(crate::progress::LogRecord {
            step: 3,
            epoch: 0,
            loss_d: 1.0,
            loss_g: 2.0,
            d_real: 0.5,
            d_fake: 0.25,
            d_fake_after: 0.125,
            images_per_second: 10.0,
            fid: None,
            kid: None,
            prdc: None,
            eval_error: None,
            eval_warning: None,
        }));
        assert!(
            step.starts_with(r#"{"event":"train-step","step":3,"epoch":0,"loss_d":1.0"#),
            "{step}"
        );
    }
}
