//! Events on the Rollout, for `kubectl describe rollout`. Publishing is best effort: a lost
//! event is logged, never a reason to redo work.
//!
//! Every event is its own Event object. kube's `Recorder` folds events with the same reason
//! into one series that keeps the first note, which would show "step(1/4) is ready" for every
//! step; the machine already publishes each transition once, so there is nothing to fold.

use kube::runtime::events::{Event, EventType, Recorder, Reporter};
use kube::{Client, Resource};
use waxwing_api::v1beta1::Rollout;

/// Publishes events as `reporter`.
#[derive(Clone)]
pub struct Events {
    client: Client,
    reporter: Reporter,
}

impl Events {
    pub fn new(client: Client, reporter: Reporter) -> Self {
        Self { client, reporter }
    }

    /// A recorder with an empty series cache, so no event is folded into an earlier one.
    fn recorder(&self) -> Recorder {
        Recorder::new(self.client.clone(), self.reporter.clone())
    }
}

/// Every event's `action`: what the controller was doing when it happened.
const ACTION: &str = "Reconcile";

/// Publishes the machine's events, in order.
pub async fn publish(to: &Events, rollout: &Rollout, events: &[waxwing_machine::Event]) {
    for event in events {
        let type_ = match event.type_ {
            waxwing_machine::EventType::Normal => EventType::Normal,
            waxwing_machine::EventType::Warning => EventType::Warning,
        };
        send(to, rollout, type_, event.reason.as_str(), &event.message).await;
    }
}

/// Publishes a Warning the controller raises itself (a missing plugin, a failed observation).
pub async fn warn(events: &Events, rollout: &Rollout, reason: &str, note: &str) {
    send(events, rollout, EventType::Warning, reason, note).await;
}

async fn send(to: &Events, rollout: &Rollout, type_: EventType, reason: &str, note: &str) {
    let event = Event {
        type_,
        reason: reason.to_owned(),
        note: Some(note.to_owned()),
        action: ACTION.to_owned(),
        secondary: None,
    };
    if let Err(e) = to
        .recorder()
        .publish(&event, &rollout.object_ref(&()))
        .await
    {
        tracing::warn!(reason, "cannot publish an event on the Rollout: {e}");
    }
}
