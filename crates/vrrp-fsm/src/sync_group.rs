//! Sync groups (keepalived `vrrp_sync_group`, keepalived-behaviour.md §2.10): a pure
//! coordinator that moves its member routers together.
//!
//! Rules (keepalived `vrrp_sync.c`):
//! - while any member has a fault of its own (interface, weight-0 tracker), every other member
//!   is held in Fault;
//! - when a member becomes Master, every Backup member becomes Master too (unless a member is
//!   in Fault);
//! - when a member leaves Master for Backup, every Master member goes Backup too.
//!
//! The group owns its members and has the same shape as [`VirtualRouter`], with a member index
//! on every input and output.

use crate::event::{Action, Discard, Event, Reason, State, SyncCommand};
use crate::router::{EventError, VirtualRouter};
use crate::time::Instant;
use core::net::IpAddr;
use std::collections::VecDeque;
use vrrp_proto::Advertisement;

/// A sync group of [`VirtualRouter`]s.
#[derive(Debug, Clone)]
pub struct SyncGroup {
    name: String,
    members: Vec<VirtualRouter>,
    /// Whether the group currently holds each member in Fault.
    held: Vec<bool>,
    actions: VecDeque<(usize, Action)>,
    transitions: Vec<(usize, State, State, Reason)>,
}

impl SyncGroup {
    /// A group over `members` (keepalived warns about groups of one; so may the caller).
    pub fn new(name: impl Into<String>, members: Vec<VirtualRouter>, now: Instant) -> Self {
        let held = vec![false; members.len()];
        let mut g = SyncGroup {
            name: name.into(),
            members,
            held,
            actions: VecDeque::new(),
            transitions: Vec::new(),
        };
        g.coordinate(now);
        g
    }

    /// The group's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The members, in the order given to [`SyncGroup::new`].
    pub fn members(&self) -> &[VirtualRouter] {
        &self.members
    }

    /// The earliest timer of any member.
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.members
            .iter()
            .filter_map(VirtualRouter::poll_timeout)
            .min()
    }

    /// The next action of any member, with the member's index.
    pub fn poll_action(&mut self) -> Option<(usize, Action)> {
        self.actions.pop_front()
    }

    /// [`VirtualRouter::handle_timeout`] on every member, then coordination.
    pub fn handle_timeout(&mut self, now: Instant) {
        for m in &mut self.members {
            m.handle_timeout(now);
        }
        self.coordinate(now);
    }

    /// [`VirtualRouter::handle_advert`] on one member, then coordination. An out-of-range
    /// member index is reported as [`Discard::WrongVrid`].
    pub fn handle_advert(
        &mut self,
        now: Instant,
        member: usize,
        from: IpAddr,
        advert: &Advertisement,
    ) -> Result<(), Discard> {
        let r = self
            .members
            .get_mut(member)
            .ok_or(Discard::WrongVrid)?
            .handle_advert(now, from, advert);
        self.coordinate(now);
        r
    }

    /// [`VirtualRouter::handle_event`] on one member, then coordination.
    pub fn handle_event(
        &mut self,
        now: Instant,
        member: usize,
        event: Event,
    ) -> Result<(), EventError> {
        let r = match self.members.get_mut(member) {
            Some(m) => m.handle_event(now, event),
            None => Err(EventError::UnknownTracker(member)),
        };
        self.coordinate(now);
        r
    }

    fn drain(&mut self) {
        for (i, m) in self.members.iter_mut().enumerate() {
            while let Some(a) = m.poll_action() {
                if let Action::StateChanged { from, to, reason } = a {
                    self.transitions.push((i, from, to, reason));
                }
                self.actions.push_back((i, a));
            }
        }
    }

    fn coordinate(&mut self, now: Instant) {
        // Each round issues commands only when something is out of line; rounds are bounded
        // because commands only move members towards the group's state.
        for _ in 0..8 {
            self.drain();
            let mut commands: Vec<(usize, SyncCommand)> = Vec::new();
            let transitions = core::mem::take(&mut self.transitions);
            let any_fault = self.members.iter().any(|m| m.state() == State::Fault);
            for &(i, from, to, reason) in &transitions {
                if reason == Reason::SyncGroup {
                    continue;
                }
                if to == State::Master && !any_fault {
                    for (j, m) in self.members.iter().enumerate() {
                        if j != i && m.state() == State::Backup {
                            commands.push((j, SyncCommand::GoMaster));
                        }
                    }
                }
                if from == State::Master && to == State::Backup {
                    for (j, m) in self.members.iter().enumerate() {
                        if j != i && m.state() == State::Master {
                            commands.push((j, SyncCommand::GoBackup));
                        }
                    }
                }
            }
            // The fault invariant: a member is held iff another member has its own fault.
            for j in 0..self.members.len() {
                let others_fault = self
                    .members
                    .iter()
                    .enumerate()
                    .any(|(k, m)| k != j && m.local_fault().is_some());
                if others_fault != self.held.get(j).copied().unwrap_or(false) {
                    if let Some(h) = self.held.get_mut(j) {
                        *h = others_fault;
                    }
                    commands.push((
                        j,
                        if others_fault {
                            SyncCommand::Fault
                        } else {
                            SyncCommand::ClearFault
                        },
                    ));
                }
            }
            if commands.is_empty() {
                return;
            }
            for (j, c) in commands {
                if let Some(m) = self.members.get_mut(j) {
                    // Sync commands cannot fail.
                    let _ = m.handle_event(now, Event::Sync(c));
                }
            }
        }
        self.drain();
    }
}
